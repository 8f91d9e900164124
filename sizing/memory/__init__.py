"""GPU memory: weights per GPU, KV cache per token, and the serving engine's start-up budget."""
