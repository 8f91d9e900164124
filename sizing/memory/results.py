"""What `python -m sizing memory` answers, as typed results: their dump is the command's JSON (GiB = 2^30 bytes).
Imported by `memory` and `speed` only (building the models costs start-up time `plan` need not pay)."""

from pydantic import BaseModel, ConfigDict

from sizing.memory.budget import MemoryBreakdown


class ModelLine(BaseModel):
    """The model a `memory` or `speed` answer is about, and its weight format."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", use_attribute_docstrings=True)

    model: str
    """Model name (a preset, or the name read from a config.json)."""
    params_total: int
    """Parameters counted from the architecture, every expert included."""
    params_active: int
    """Parameters one token computes with (the routed experts only, for MoE)."""
    weights: str
    """Weight format (sizing/data/weight_formats.csv), e.g. 'bf16' or 'fp8'."""


class MemoryDemand(ModelLine):
    """`memory` without --gpu: what `batch` requests of `seq_len` tokens need per GPU, no GPU chosen."""

    tensor_parallel: int
    """Tensor-parallel degree (--tp)."""
    pipeline_parallel: int
    """Pipeline-parallel degree (--pp)."""
    kv_dtype: str
    """KV cache element type as vLLM spells it ('auto' follows the activations)."""
    batch: int
    """Concurrent requests (--batch)."""
    seq_len: int
    """Tokens per request, prompt plus output."""
    weights_gib: float
    """Weights per GPU after TP/PP sharding, GiB."""
    kv_cache_gib: float
    """KV cache the requests need (without --gpu), or the engine's KV cache (with --gpu), GiB per GPU."""
    activation_gib: float
    """Activation peak, GiB per GPU."""
    overhead_gib: float
    """CUDA context, NCCL buffers and CUDA graphs, GiB per GPU."""
    total_gib: float
    """Everything above, GiB per GPU."""


class MemoryOnGpu(MemoryDemand):
    """`memory --gpu`: the engine's start-up budget on that GPU, and whether the batch fits in its KV cache."""

    gpu: str
    """GPU name (an instance type given with --gpu is read as its GPU)."""
    required_kv_gib: float
    """KV cache the batch needs on the binding pipeline stage, GiB per GPU."""
    kv_cache_tokens: int
    """The engine's KV capacity in tokens, whole blocks only (per data-parallel rank)."""
    max_model_len: int
    """Longest request the engine is started with."""
    max_concurrency: float
    """Requests of max_model_len that fit in the cache at once, over every data-parallel rank."""
    fits: bool
    """The engine starts, no vLLM rule refuses the layout, and the batch fits in its KV cache."""
    engine_starts: bool
    """The engine starts: one request of max_model_len fits, and no vLLM rule refuses the layout."""
    engine_refusal: str | None
    """The vLLM rule the layout or format breaks (named), or None."""
    vllm_rules_applied: str
    """Which vLLM start-up rules shaped the budget on this GPU and format ('' when none)."""
    data_parallel: int
    """Data-parallel attention ranks (--dp, MoE only)."""
    expert_parallel: bool
    """Experts spread over the ranks (--ep, MoE only)."""
    shortfall_gib: float
    """Extra memory per GPU one max_model_len request needs (0 when it fits)."""
    breakdown: MemoryBreakdown
    """One GPU's memory as the engine allocates it."""


MemoryResult = MemoryDemand | MemoryOnGpu
"""What `memory` answers: a demand without --gpu, the engine's budget with it."""
