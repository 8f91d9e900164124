"""Predictions of the steady-state load model (sizing/speed/load.py) and the step model (sizing/speed/model.py) for the
rows of tests/data/serving_load.csv (N1), tests/data/nim_load.csv (P1) and tests/data/static_batch.csv (B1): one place
for the tests and for benchmarks/accuracy.py.

Assumptions, one per fact the rows do not state:
- Engine bias: N1 is NIM on TensorRT-LLM (2024), B1 is TensorRT-LLM 0.9; each has ONE step-time factor in
  sizing/data/engines.toml ([step_time_factor]), applied to every step. Nothing else is adjusted per source.
- Engine limits (TensorRT-LLM defaults of that time): max_num_tokens 8192 per step, max_batch_size 256; the KV cache
  bounds the running batch further, sized with the vLLM memory model at input + output tokens.
- KV cache: 16-bit for N1 (NIM 2024 profiles kept a 16-bit cache); P1 (NIM 1.8, FP8 profile) and B1 FP8 rows use an
  FP8 cache (ModelOpt FP8 quantizes
  it with the weights, as in T1), fp16 rows 16-bit.
- B1 static batches: the first token comes after one prefill pass over every prompt of the batch (in-flight batching
  off); inter-token time is one decode step at the mean context (input + output / 2); throughput = batch x output /
  (first token + (output - 1) x ITL).
- L40 (PCIe, no NVLink) is not sold on AWS, so it is not in sizing/data/gpus.csv: L40_SPEC below describes it from
  NVIDIA's L40 datasheet (864 GB/s GDDR6, FP16 tensor 181 TFLOPS dense, FP8 362 dense, PCIe Gen4 x16).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.engines import get_engine, step_time_factor
from sizing.catalog.formats import get_format
from sizing.catalog.gpus import GpuSpec, get_gpu
from sizing.memory.budget import EngineSettings, memory_breakdown
from sizing.memory.layout import Layout
from sizing.models.presets import load_preset
from sizing.planner.replica import memory_batch_limit
from sizing.speed.load import EngineLimits, LoadPoint, ReplicaLoad, RequestShape
from sizing.speed.model import ReplicaSpeed
from tests.conftest import read_rows, test_config

SERVING_ROWS = read_rows("serving_load.csv")
NIM_ROWS = read_rows("nim_load.csv")
STATIC_ROWS = read_rows("static_batch.csv")
TRT_MAX_NUM_TOKENS = 8192
"""TensorRT-LLM's default max_num_tokens (tokens per step), 2024 builds."""
TRT_MAX_BATCH = 256
"""TensorRT-LLM's default max_batch_size in the NIM profiles of that time."""

L40_SPEC = get_gpu("L40S").model_copy(
    update={
        "name": "L40-48GB",
        "aliases": (),
        "provisionable": False,
        "dense_tflops": {"fp32": 90.5, "bf16": 181.0, "fp16": 181.0, "fp8": 362.0, "int8": 362.0},
        "source": "NVIDIA L40 datasheet (864 GB/s, FP16 tensor 362 TFLOPS sparse = 181 dense, FP8 724 sparse); PCIe "
        "Gen4",
    }
)
"""The PCIe L40 of the B1 rows (same memory system and link as the L40S, half its tensor throughput)."""

MODELS = {
    "Llama-3-8B-Instruct": lambda: test_config("meta-llama-3-8b"),
    "Llama-3.3-70B-Instruct": lambda: load_preset("llama-3.3-70b"),
    "LLaMA v2 7B": lambda: test_config("llama-2-7b"),
    "LLaMA v2 13B": lambda: test_config("llama-2-13b"),
    "LLaMA v2 70B": lambda: test_config("llama-2-70b"),
    "Mistral 7B": lambda: load_preset("mistral-7b"),
}


def gpu_for(name: str) -> GpuSpec:
    return L40_SPEC if name == "L40-48GB" else get_gpu(name)


@cache
def _speed(model: str, gpu: str, tp: int, pp: int, weights: str, kv_bytes: int) -> ReplicaSpeed:
    spec = gpu_for(gpu)
    fmt = get_format("fp8" if weights == "fp8" else "fp16")
    return ReplicaSpeed(
        MODELS[model](), spec, fmt, Layout(tp=tp, pp=pp), kv_bytes, spec.interconnect, default_assumptions()
    )


def _kv_limit(rs: ReplicaSpeed, request_tokens: int) -> int:
    engine = get_engine()
    mem = memory_breakdown(
        rs.model,
        rs.gpu,
        rs.fmt,
        rs.layout,
        engine,
        EngineSettings(max_model_len=request_tokens, kv_element_bytes=rs.kv_element_bytes),
    )
    return memory_batch_limit(rs.model, mem, rs.kv_element_bytes, rs.layout, engine, request_tokens)


ENGINE_OF_SOURCE = {"N1": "nim-tensorrt-llm-2024", "P1": "nim-tensorrt-llm-2025"}
"""The engine (engines.toml [step_time_factor]) each closed-loop source was measured on."""
KV_BYTES_OF_SOURCE = {"N1": {"fp16": 2, "bf16": 2, "fp8": 2}, "P1": {"fp8": 1}}
"""KV cache bytes per element per source and weight format (see the module docstring)."""


@cache
def serving_load(
    source: str, model: str, gpu: str, tp: int, weights: str, input_tokens: int, output_tokens: int
) -> ReplicaLoad:
    rs = _speed(model, gpu, tp, 1, weights, KV_BYTES_OF_SOURCE[source][weights])
    limits = EngineLimits(
        TRT_MAX_NUM_TOKENS,
        min(TRT_MAX_BATCH, _kv_limit(rs, input_tokens + output_tokens)),
        step_time_factor(ENGINE_OF_SOURCE[source]),
    )
    return ReplicaLoad(rs, RequestShape(input_tokens, output_tokens), limits)


def load_for(row: dict[str, str]) -> ReplicaLoad:
    """The steady-state model of one N1 or P1 row's replica."""
    return serving_load(
        row["source"],
        row["model"],
        row["gpu"],
        int(row["tp"]),
        row["weights"],
        int(row["input_tokens"]),
        int(row["output_tokens"]),
    )


def predict_serving(row: dict[str, str]) -> LoadPoint:
    """The closed-loop steady state at the row's concurrency."""
    return load_for(row).closed_loop(float(row["concurrency"]))


def synchronized_wave_ttft_s(row: dict[str, str]) -> float:
    """Mean TTFT if the row's N closed-loop clients stayed in one wave (the other bound of the measured level).

    A benchmark starts its N clients together with identical lengths. If they stay synchronised, the N prompts
    arrive at once; each step prefills as many as its free token budget holds next to the running decodes, so the wave
    takes g = ceil(N x P / free budget) steps of d decodes plus N / g prompts each, and the k-th group's first token
    comes at the end of step k: mean TTFT = (g + 1) / 2 x that step. The load model (sizing/speed/load.py) assumes
    the opposite, fully desynchronised arrivals. Same step model, same engine factor, nothing fitted: only how the
    arrivals are spread differs."""
    load, point = load_for(row), predict_serving(row)
    clients, prompt = float(row["concurrency"]), load.shape.prefill_tokens
    free = max(load.limits.max_num_batched_tokens - point.running_batch, 1.0)
    groups = max(1, math.ceil(clients * prompt / free))
    step = load.decode_step_s(point.running_batch) + load.prefill_token_time_s * clients / groups * prompt
    return (groups + 1) / 2 * step


@dataclass(frozen=True)
class StaticPrediction:
    """One B1 row, predicted."""

    first_token_ms: float
    itl_ms: float
    output_tokens_per_s: float


def predict_static(row: dict[str, str]) -> StaticPrediction:
    weights = row["weights"]
    rs = _speed(row["model"], row["gpu"], int(row["tp"]), int(row["pp"]), weights, 1 if weights == "fp8" else 2)
    f = step_time_factor("tensorrt-llm-0.9")
    i, o, b = int(row["input_tokens"]), int(row["output_tokens"]), int(row["batch"])
    first = rs.mixed_step_s(0, i, b * i, i)[0] * f
    itl = rs.step_s(b, i + o // 2) * f
    return StaticPrediction(first * 1000, itl * 1000, b * o / (first + (o - 1) * itl))
