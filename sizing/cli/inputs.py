"""The command line's numbers, one model per subcommand, each bounded by sizing/limits.py and finite: the CLI's one
validation boundary before any engine code runs. Field names are the argparse destinations (--seq-len -> seq_len), so
a new flag is validated by adding one Field here. `plan`'s workload numbers are bounded by Workload and Deployment."""

import argparse
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sizing.limits import (
    MAX_BATCH,
    MAX_CONTEXT_TOKENS,
    MAX_HEADS,
    MAX_LATENCY_MS,
    MAX_LAYERS,
    MAX_PARALLEL,
    MAX_PARAMS_B,
    MAX_RATE,
    MAX_VOCAB,
    MAX_WIDTH,
    MIN_BYTES_PER_PARAM,
    MIN_LATENCY_MS,
    MIN_RATE,
)

MAX_BYTES_PER_PARAM = 4.0
"""--bytes-per-param: fp32 is the widest weight format."""
MAX_GPU_MEMORY_GIB = 1024.0
"""--min-gpu-memory-gib: a TiB per GPU, several times any GPU in sizing/data/gpus.csv (B300: 288 GB)."""


class _Numbers(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", allow_inf_nan=False)


class EngineNumbers(_Numbers):
    """Serving-engine settings every subcommand takes."""

    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)
    """--gpu-memory-utilization: share of visible GPU memory."""
    max_model_len: int | None = Field(default=None, ge=1, le=MAX_CONTEXT_TOKENS)
    """--max-model-len, tokens."""


class LayoutNumbers(_Numbers):
    """A parallel layout given by hand."""

    tp: int = Field(default=1, ge=1, le=MAX_PARALLEL)
    """--tp: tensor-parallel degree."""
    pp: int = Field(default=1, ge=1, le=MAX_PARALLEL)
    """--pp: pipeline-parallel degree."""
    dp: int = Field(default=1, ge=1, le=MAX_PARALLEL)
    """--dp: data-parallel attention ranks (MoE)."""


class RawModelNumbers(_Numbers):
    """`memory`'s raw-number model."""

    params_b: float | None = Field(default=None, gt=0, le=MAX_PARAMS_B)
    """--params-b: parameters, billions."""
    layers: int | None = Field(default=None, ge=1, le=MAX_LAYERS)
    """--layers: decoder layers."""
    kv_heads: int | None = Field(default=None, ge=1, le=MAX_HEADS)
    """--kv-heads: key/value heads."""
    head_dim: int | None = Field(default=None, ge=1, le=MAX_WIDTH)
    """--head-dim: head width."""
    bytes_per_param: float | None = Field(default=None, ge=MIN_BYTES_PER_PARAM, le=MAX_BYTES_PER_PARAM)
    """--bytes-per-param."""
    hidden: int | None = Field(default=None, ge=1, le=MAX_WIDTH)
    """--hidden: hidden size."""
    vocab: int | None = Field(default=None, ge=1, le=MAX_VOCAB)
    """--vocab: vocabulary."""


class MemoryNumbers(RawModelNumbers, EngineNumbers, LayoutNumbers):
    """`memory`."""

    seq_len: int | None = Field(default=None, ge=1, le=MAX_CONTEXT_TOKENS)
    """--seq-len: tokens per request."""
    batch: int = Field(default=1, ge=1, le=MAX_BATCH)
    """--batch: concurrent requests."""


class SpeedNumbers(EngineNumbers, LayoutNumbers):
    """`speed`."""

    input_tokens: int = Field(default=1024, ge=1, le=MAX_CONTEXT_TOKENS)
    """--input-tokens."""
    output_tokens: int = Field(default=256, ge=1, le=MAX_CONTEXT_TOKENS)
    """--output-tokens."""
    batch: Literal["max"] | Annotated[int, Field(ge=1, le=MAX_BATCH)] = 1
    """--batch: running sequences, or 'max'."""
    tpot_ms: float | None = Field(default=None, ge=MIN_LATENCY_MS, le=MAX_LATENCY_MS)
    """--tpot-ms: TPOT target, milliseconds."""
    concurrency: float | None = Field(default=None, gt=0, le=MAX_BATCH)
    """--concurrency: closed-loop clients (steady state)."""
    request_rate: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    """--request-rate: open-loop Poisson arrivals, requests per second (steady state)."""
    prefix_hit_rate: float | None = Field(default=None, ge=0, lt=1)
    """--prefix-hit-rate: share of prompt tokens served from the prefix cache (steady state only)."""
    max_num_batched_tokens: int | None = Field(default=None, ge=1, le=MAX_CONTEXT_TOKENS)
    """--max-num-batched-tokens: the engine's token budget per step."""


class CalibrateNumbers(LayoutNumbers):
    """`calibrate`."""

    max_num_batched_tokens: int | None = Field(default=None, ge=1, le=MAX_CONTEXT_TOKENS)
    """--max-num-batched-tokens: the engine's token budget per step."""


class CatalogNumbers(_Numbers):
    """`catalog`'s filters."""

    min_gpu_memory_gib: float | None = Field(default=None, ge=0, le=MAX_GPU_MEMORY_GIB)
    """--min-gpu-memory-gib: memory per GPU, GiB."""
    min_gpus: int | None = Field(default=None, ge=1, le=MAX_PARALLEL)
    """--min-gpus: GPUs per instance."""


NUMBERS: dict[str, type[_Numbers]] = {
    "memory": MemoryNumbers,
    "speed": SpeedNumbers,
    "catalog": CatalogNumbers,
    "calibrate": CalibrateNumbers,
}
"""Subcommand -> the model of its numbers (`plan`'s are bounded by Workload and Deployment, which its flags are
generated from: sizing/cli/fields.py)."""


def validate_numbers(args: argparse.Namespace) -> None:
    """Raise pydantic's ValidationError naming each out-of-range or non-finite number."""
    kind = NUMBERS.get(args.command)
    if kind is not None:
        kind.model_validate({k: v for k, v in vars(args).items() if v is not None})
