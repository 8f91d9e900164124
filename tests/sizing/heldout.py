"""Held-out data for benchmarks/accuracy.py (issue 20, item 5): GPUs and curves that no constant of the speed model and
no calibration was fitted to, and the split of N1's curves into a fitted share and a held-out share.

- Fixed batches on GH200-96GB and H100-NVL-94GB (tests/data/static_batch_heldout.csv, B1, TensorRT-LLM 0.9): neither
  GPU is in the catalog, so they are described here from NVIDIA's datasheets. GH200: H100 compute (989 TFLOPS dense
  BF16, 1,979 FP8), 96 GB HBM3 at 4.0 TB/s, NVLink 4 (450 GB/s per direction) between superchips. H100 NVL: 94 GB
  HBM3 at 3.9 TB/s, 835 TFLOPS dense BF16 (1,671 sparse), 1,671 FP8 dense; pairs joined by an NVLink bridge (600 GB/s
  in all), PCIe Gen5 x16 (64 GB/s per direction) beyond a pair, so TP4 and TP8 all-reduces cross PCIe.
- N1 (tests/data/serving_load.csv): per GPU and format, the TP1 curves of three request shapes are the fitted share,
  the other shapes and every TP2 curve the held-out share."""

from __future__ import annotations

from sizing.catalog.gpus import get_gpu
from tests.conftest import read_rows

HELDOUT_STATIC_ROWS = read_rows("static_batch_heldout.csv")
GH200_SPEC = get_gpu("H100").model_copy(
    update={
        "name": "GH200-96GB",
        "aliases": (),
        "provisionable": False,
        "marketed_memory_gb": 96.0,
        "visible_memory_gib": 94.5,
        "hbm_bandwidth_gbps": 4000.0,
        "interconnect": "nvswitch",
        "link_bandwidth_gbps": 450.0,
        "source": "NVIDIA GH200 Grace Hopper Superchip datasheet (96 GB HBM3, 4 TB/s; H100 Tensor Core compute)",
    }
)
H100_NVL_SPEC = get_gpu("H100").model_copy(
    update={
        "name": "H100-NVL-94GB",
        "aliases": (),
        "provisionable": False,
        "marketed_memory_gb": 94.0,
        "visible_memory_gib": 93.0,
        "hbm_bandwidth_gbps": 3900.0,
        "interconnect": "pcie",
        "link_bandwidth_gbps": 64.0,
        "dense_tflops": {"fp32": 60.0, "bf16": 835.5, "fp16": 835.5, "fp8": 1670.5, "int8": 1670.5},
        "source": "NVIDIA H100 NVL datasheet (94 GB, 3.9 TB/s, FP16 1,671 TFLOPS sparse); PCIe Gen5 beyond an NVLink "
        "pair",
    }
)
H100_NVL_PAIR_SPEC = H100_NVL_SPEC.model_copy(update={"interconnect": "nvswitch", "link_bandwidth_gbps": 300.0})
"""Two H100 NVL joined by their NVLink bridge (600 GB/s in all, 300 per direction): a TP2 group within a pair."""
HELDOUT_GPUS = {"GH200-96GB": GH200_SPEC, "H100-NVL-94GB": H100_NVL_SPEC}
FIT_SHAPES = {(200, 200), (2000, 200), (7000, 1000)}
"""N1 request shapes (input, output) whose TP1 curves a steady-state calibration is fitted to."""
FIT_CONCURRENCIES = (1, 10, 50)
"""Three concurrencies of one curve a one-curve calibration is fitted to (item 5: the others within 10%)."""


def fitted_share(row: dict[str, str]) -> bool:
    """Whether an N1 row belongs to the fitted share (the rest is held out)."""
    return row["tp"] == "1" and (int(row["input_tokens"]), int(row["output_tokens"])) in FIT_SHAPES
