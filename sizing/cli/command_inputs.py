"""The models of the flags of `memory`, `speed`, `calibrate` and `catalog` (sizing/cli/inputs.py says how flags are
made from them, and holds `plan`'s and the registry OPTIONS)."""

from typing import Annotated, Literal

from pydantic import Field

from sizing.cli.inputs import CommandOptions
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


class Formats(CommandOptions):
    """Number formats."""

    weights: str | None = None
    """Weight format: bf16, fp16, fp32, fp8, fp8-block, int8, int4-awq, int4-gptq, mxfp4; native or auto (the
    checkpoint's own: one replica has no format to search). Default: the checkpoint's own."""
    kv_dtype: str = "auto"
    """KV cache dtype: auto (the model's dtype) or fp8."""


class EngineProfile(CommandOptions):
    """The serving engine."""

    engine: str | None = None
    """Engine profile from sizing/data/engines.toml (default vllm-0.19)."""


class EngineNumbers(EngineProfile):
    """Serving-engine settings."""

    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)
    """Share of visible GPU memory vLLM may use (default 0.90)."""
    max_model_len: int | None = Field(default=None, ge=1, le=MAX_CONTEXT_TOKENS)
    """Longest request the engine accepts, tokens."""


class TensorParallel(CommandOptions):
    """A tensor-parallel degree."""

    tp: int = Field(default=1, ge=1, le=MAX_PARALLEL)
    """Tensor-parallel degree."""


class LayoutNumbers(TensorParallel):
    """A parallel layout given by hand."""

    pp: int = Field(default=1, ge=1, le=MAX_PARALLEL)
    """Pipeline-parallel degree."""
    dp: int = Field(default=1, ge=1, le=MAX_PARALLEL)
    """Data-parallel attention ranks in the replica (MoE; vLLM --data-parallel-size)."""
    ep: bool = False
    """Expert parallelism (vLLM --enable-expert-parallel)."""


class RawModelNumbers(CommandOptions):
    """`memory`'s raw-number model, when there is no config.json."""

    params_b: float | None = Field(default=None, gt=0, le=MAX_PARAMS_B)
    """Raw numbers: parameters, billions."""
    layers: int | None = Field(default=None, ge=1, le=MAX_LAYERS)
    """Raw numbers: decoder layers."""
    kv_heads: int | None = Field(default=None, ge=1, le=MAX_HEADS)
    """Raw numbers: key/value heads."""
    head_dim: int | None = Field(default=None, ge=1, le=MAX_WIDTH)
    """Raw numbers: head size."""
    bytes_per_param: float | None = Field(default=None, ge=MIN_BYTES_PER_PARAM, le=MAX_BYTES_PER_PARAM)
    """Raw numbers: bytes per parameter (2 = bf16)."""
    hidden: int | None = Field(default=None, ge=1, le=MAX_WIDTH)
    """Raw numbers: hidden size (optional; shapes activations)."""
    vocab: int | None = Field(default=None, ge=1, le=MAX_VOCAB)
    """Raw numbers: vocabulary (optional; shapes activations)."""


class MemoryOptions(Formats, RawModelNumbers, EngineNumbers, LayoutNumbers):
    """Memory per GPU for a model, with or without a GPU."""

    gpu: str | None = None
    """GPU name or AWS instance type (adds the engine's KV capacity)."""
    seq_len: int | None = Field(default=None, ge=1, le=MAX_CONTEXT_TOKENS)
    """Tokens per request (prompt plus output)."""
    batch: int = Field(default=1, ge=1, le=MAX_BATCH)
    """Concurrent requests."""


class SpeedOptions(Formats, EngineNumbers, LayoutNumbers):
    """TTFT, TPOT and tokens/s of one replica."""

    gpu: str
    """GPU name or AWS instance type."""
    input_tokens: int = Field(default=1024, ge=1, le=MAX_CONTEXT_TOKENS)
    """Prompt tokens per request."""
    output_tokens: int = Field(default=256, ge=1, le=MAX_CONTEXT_TOKENS)
    """Generated tokens per request."""
    batch: Literal["max"] | Annotated[int, Field(ge=1, le=MAX_BATCH)] | None = None
    """Running sequences decoding together, no arrivals, or 'max' (the largest that fits); default 1."""
    tpot_ms: float | None = Field(default=None, ge=MIN_LATENCY_MS, le=MAX_LATENCY_MS)
    """With --batch max: the largest batch meeting this TPOT, milliseconds."""
    concurrency: float | None = Field(default=None, gt=0, le=MAX_BATCH)
    """Closed loop: clients each sending a request when the previous one completes (steady state)."""
    request_rate: float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    """Open loop: Poisson arrivals, requests/s (steady state)."""
    prefix_hit_rate: float | None = Field(default=None, ge=0, lt=1)
    """Share of prompt tokens served from the prefix cache (with --concurrency or --request-rate)."""
    arrivals: Literal["poisson", "burst"] | None = None
    """With --concurrency: how the clients' requests arrive: poisson (default; production traffic) or burst (benchmark
    clients with identical lengths that start together: GenAI-Perf, AIPerf, vllm bench serve --max-concurrency at an
    infinite rate)."""
    max_num_batched_tokens: int | None = Field(default=None, ge=1, le=MAX_CONTEXT_TOKENS)
    """The engine's token budget per step, when it is not the profile's default (to reproduce a benchmark as it
    ran)."""


class CalibrateOptions(Formats, TensorParallel):
    """What the benchmark ran (the files say what it measured)."""

    gpu: str
    """The GPU or AWS instance type benchmarked."""
    engine: str | None = None
    """Engine benchmarked: any engine of sizing/data/engines.toml [step_time_factor] (default vllm-0.19)."""
    engine_version: str | None = None
    """Engine version (default: what the result files record, else 'unknown')."""
    max_num_batched_tokens: int | None = Field(default=None, ge=1, le=MAX_CONTEXT_TOKENS)
    """The engine's token budget per step, if not its default."""


class CatalogOptions(CommandOptions):
    """Filters; they combine."""

    gpu: str | None = None
    """Only types with this GPU (name or alias from sizing/data/gpus.csv, e.g. H100)."""
    instance_types: str | None = None
    """Only these types: names, GPU names or globs, comma-separated (e.g. 'p5.*,g6e.*')."""
    region: str | None = None
    """Only types offered on demand in this region, priced there."""
    min_gpu_memory_gib: float | None = Field(default=None, ge=0, le=MAX_GPU_MEMORY_GIB)
    """Only types whose GPUs each hold at least this much memory, GiB as the engine sees it."""
    min_gpus: int | None = Field(default=None, ge=1, le=MAX_PARALLEL)
    """Only types with at least this many GPUs."""
    efa: bool = False
    """Only types with Elastic Fabric Adapter (multi-node replicas)."""
