"""Shared by the calibration tests, the e2e test and benchmarks/accuracy.py: the CPU device of
tests/data/cpu_device.csv, the replica the real CPU vLLM served, and N1 rows (tests/data/serving_load.csv) written in
`vllm bench serve`'s result layout (so that the calibrate command reads GenAI-Perf measurements as it reads a user's own
files)."""

from __future__ import annotations

import json
from pathlib import Path

from sizing.calibration.fit import Replica
from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.engines import engine_and_factor
from sizing.catalog.formats import get_format
from sizing.catalog.gpus import GpuSpec
from sizing.memory.layout import Layout
from sizing.models.hf_config import spec_from_file
from sizing.speed.model import ReplicaSpeed
from tests.conftest import DATA, read_rows

BENCHMARKS = DATA / "benchmarks"
CPU_RESULTS = BENCHMARKS / "cpu"
CPU_MAX_NUM_BATCHED_TOKENS = 2048
"""vLLM 0.32.0's CPU default --max-num-batched-tokens for the OpenAI server on one rank (vllm/engine/arg_utils.py,
get_batch_defaults, `if current_platform.is_cpu()`)."""
CPU_FIT_RUNS = (1, 4, 16)
"""Concurrencies of the CPU runs the calibration is fitted to; the other half (2, 8, 32, and GuideLLM's) is
predicted."""
CPU_HELD_OUT_RUNS = (2, 8, 32)


def cpu_device() -> GpuSpec:
    """The project's 2-vCPU machine as a speed-model device (tests/data/cpu_device.csv)."""
    row = read_rows("cpu_device.csv")[0]
    return GpuSpec(
        name=row["name"],
        provisionable=False,
        marketed_memory_gb=float(row["marketed_memory_gb"]),
        visible_memory_gib=float(row["visible_memory_gib"]),
        hbm_bandwidth_gbps=float(row["hbm_bandwidth_gbps"]),
        dense_tflops={"bf16": float(row["bf16_tflops"]), "fp32": float(row["fp32_tflops"])},
        decode_bw_efficiency=float(row["decode_bw_efficiency"]),
        interconnect=row["interconnect"],
        link_bandwidth_gbps=float(row["link_bandwidth_gbps"]),
        source=row["source"],
        as_of="2026-12-07",
    )


def cpu_replica(config: Path = CPU_RESULTS / "tiny-config.json") -> Replica:
    """The tiny model (tools/tiny_model.py) served in bf16 by vLLM's CPU build on that device."""
    profile, factor, _ = engine_and_factor(None)
    speed = ReplicaSpeed(
        spec_from_file(config), cpu_device(), get_format("bf16"), Layout(tp=1), 2, "none", default_assumptions()
    )
    return Replica(
        speed=speed, profile=profile, step_time_factor=factor, max_num_batched_tokens=CPU_MAX_NUM_BATCHED_TOKENS
    )


def n1_rows(gpu: str, weights: str, tp: int, input_tokens: int, output_tokens: int) -> list[dict[str, str]]:
    """One N1 curve (GenAI-Perf, NIM 2024): the rows of one replica and request shape, by concurrency."""
    return [
        r
        for r in read_rows("serving_load.csv")
        if (r["gpu"], r["weights"], int(r["tp"]), int(r["input_tokens"]), int(r["output_tokens"]))
        == (gpu, weights, tp, input_tokens, output_tokens)
    ]


def as_vllm_result(row: dict[str, str], folder: Path) -> Path:
    """An N1 row written as `vllm bench serve --save-result` writes a closed loop (the same keys and meaning:
    GenAI-Perf's clients started together at a fixed concurrency, as --max-concurrency does at an infinite rate)."""
    completed = 100
    data = {
        "date": "20240601-000000",
        "backend": "openai-chat",
        "model_id": row["model"],
        "num_prompts": completed,
        "request_rate": "inf",
        "burstiness": 1.0,
        "max_concurrency": int(row["concurrency"]),
        "completed": completed,
        "total_input_tokens": completed * int(row["input_tokens"]),
        "total_output_tokens": completed * int(row["output_tokens"]),
        "request_throughput": float(row["requests_per_s"]),
        "output_throughput": float(row["output_tokens_per_s"]),
        "mean_ttft_ms": float(row["ttft_ms_mean"]),
        "mean_tpot_ms": float(row["itl_ms_mean"]),
        "mean_itl_ms": float(row["itl_ms_mean"]),
        "engine_version": "nim-2024",
    }
    path = folder / f"{row['case']}.json"
    path.write_text(json.dumps(data))
    return path
