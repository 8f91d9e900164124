"""Speed: prefill (compute-bound), decode (bandwidth-bound), TP/PP communication, and the batch a latency target
allows."""
