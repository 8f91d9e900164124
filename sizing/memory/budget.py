"""How the serving engine spends one GPU's memory at start-up: the budget, weights, activation peak, non-torch
memory, and what is left for the KV cache (vLLM's accounting, calibrated in tests/data/vllm_memory.csv)."""

import math

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.engines import EngineProfile
from sizing.catalog.formats import WeightFormat, kv_bytes_per_element
from sizing.catalog.gpus import GpuSpec
from sizing.catalog.vllm_rules import expert_padding_factor, startup_workspace_bytes
from sizing.memory.kv import kv_bytes_per_token_per_layer, stage_kv_bytes_per_request, stage_kv_bytes_per_token
from sizing.memory.layout import Layout
from sizing.memory.weights import rope_cache_bytes, stage_weights
from sizing.models.spec import ModelSpec
from sizing.units import BYTES_PER_GIB, to_gib


class EngineSettings(BaseModel):
    """The serving-engine settings that shape memory. None means the engine's default for the GPU."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    gpu_memory_utilization: float | None = Field(default=None, gt=0, le=1)
    """--gpu-memory-utilization: share of visible memory the engine may use."""
    max_model_len: int = Field(gt=0)
    """--max-model-len: the longest request (prompt plus output) the engine must accept."""
    max_num_seqs: int | None = Field(default=None, gt=0)
    """--max-num-seqs: most sequences decoded together."""
    max_num_batched_tokens: int | None = Field(default=None, gt=0)
    """--max-num-batched-tokens: tokens per scheduler step (sets the profiled activation peak)."""
    kv_element_bytes: int = Field(gt=0)
    """Bytes per KV element (2 for bf16/fp16, 1 for fp8)."""
    draft_weight_bytes: float = Field(default=0.0, ge=0)
    """A speculative-decoding draft's weights on each GPU (sizing/memory/draft.py; 0: none)."""
    draft_kv_layers: int = Field(default=0, ge=0)
    """Attention layers the draft adds to every token's cache (0: none)."""


class MemoryBreakdown(BaseModel):
    """One GPU's memory as the engine allocates it (the binding pipeline stage). GiB = 2^30 bytes."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    gpu: str
    """GPU name."""
    visible_gib: float
    """Memory the engine sees."""
    gpu_memory_utilization: float
    """Share of visible memory the engine may use."""
    budget_gib: float
    """visible x utilization."""
    weights_gib: float
    """Weights on this GPU after TP/PP sharding (plus the rotary table)."""
    activation_gib: float
    """Activation peak profiled at max_num_batched_tokens."""
    non_torch_gib: float
    """CUDA context, plus NCCL buffers once TP > 1."""
    kv_cache_gib: float
    """What is left of the budget for the KV cache (negative: the weights do not fit)."""
    cuda_graph_gib: float
    """CUDA graph pool."""
    cuda_graph_in_budget: bool = False
    """The engine counts the graph pool inside its budget (vLLM 0.21+) rather than after it (False, as plans locked
    before this field read)."""
    unused_gib: float
    """Visible memory the engine leaves untouched."""
    kv_bytes_per_token: int
    """Cache bytes one token adds on this GPU (every layer at full length)."""
    kv_cache_tokens: int
    """KV capacity in tokens, whole blocks only."""
    max_model_len: int
    """Longest request the engine is started with."""
    max_concurrency: float
    """Requests of max_model_len that fit in the cache at once."""
    max_num_seqs: int
    """Scheduler limit on running sequences."""
    max_num_batched_tokens: int
    """Scheduler token budget per step."""
    fits: bool
    """The engine starts: one request of max_model_len fits in the cache, and the CUDA graph pool in what the budget
    leaves (where the engine keeps it outside)."""
    shortfall_gib: float
    """Extra memory per GPU needed for one max_model_len request (0 when it fits)."""
    pipeline_stage: int
    """Which stage (0-based) binds; every stage is sized alike."""

    @property
    def total_gib(self) -> float:
        """Everything the engine allocates within its budget, plus an out-of-budget graph pool."""
        return (
            self.weights_gib
            + self.activation_gib
            + self.non_torch_gib
            + max(self.kv_cache_gib, 0)
            + self.cuda_graph_gib
        )


def activation_dtype_bytes(fmt: WeightFormat) -> int:
    """Activations run in 16-bit unless the weights are fp32."""
    return 4 if fmt.name == "fp32" else 2


def kv_element_bytes(kv_dtype: str, fmt: WeightFormat) -> int:
    """Bytes per KV cache element for a --kv-dtype with weights in `fmt` ('auto' follows the activations)."""
    return kv_bytes_per_element(kv_dtype, activation_dtype_bytes(fmt))


def _mlp_width_per_gpu(m: ModelSpec, tp: int) -> float:
    if m.moe is None:
        return m.intermediate_size / tp
    moe_width = m.moe.experts_per_token * m.moe.expert_intermediate_size + m.moe.shared_intermediate_size
    dense_width = m.intermediate_size if m.has_dense_mlp_layers else 0
    return max(moe_width, dense_width) / tp


def activation_bytes(
    m: ModelSpec, fmt: WeightFormat, engine: EngineProfile, layout: Layout, tokens: int, seqs: int, last_stage: bool
) -> float:
    """Profiled activation peak: the larger of the forward pass at `tokens` and (last stage only) the sampler."""
    per_token = (
        engine.forward_mlp_factor * _mlp_width_per_gpu(m, layout.tp) + engine.forward_hidden_factor * m.hidden_size
    )
    forward = tokens * per_token * activation_dtype_bytes(fmt)
    if not last_stage:
        return forward
    rows = seqs if engine.sampler_rows == "max_num_seqs" else tokens
    return max(forward, rows * m.vocab_size * engine.sampler_bytes_per_logit)


def with_draft_kv(
    m: ModelSpec, s: EngineSettings, layout: Layout, per_stage: tuple[int, ...], tokens: int
) -> tuple[int, ...]:
    """Per-stage cache bytes of `tokens` tokens, plus the draft's own attention layers on the last stage."""
    if not s.draft_kv_layers:
        return per_stage
    extra = s.draft_kv_layers * tokens * kv_bytes_per_token_per_layer(m, s.kv_element_bytes, layout.tp)
    return per_stage[:-1] + (per_stage[-1] + extra,)


def non_torch_bytes(engine: EngineProfile, layout: Layout) -> float:
    """CUDA context, plus NCCL buffers when the GPU talks to others every layer (TP > 1, or data-parallel attention
    whose expert-parallel MoE layers exchange tokens)."""
    collective = layout.tp > 1 or layout.dp > 1
    return (engine.cuda_context_gib + (engine.nccl_buffers_gib if collective else 0.0)) * BYTES_PER_GIB


def kv_bytes(
    engine: EngineProfile, visible: float, budget: float, weight_bytes: float, act: float, other: float
) -> float:
    """What the engine leaves its KV cache. profiled (vLLM <= 0.33): the budget less weights, the profiled activation
    peak and non-torch memory. extensible (vLLM 0.34, vllm/v1/worker/extensible_kv_cache.py measure_kv_cache_bytes):
    sized after warm-up from what is resident (weights, NCCL buffers, CUDA graphs: all inside the budget), capped by
    the device less the CUDA context and a margin of max(floor, fraction x peak), and the transient peak kept free."""
    if engine.kv_sizing == "profiled":
        return budget - weight_bytes - act - other
    context = engine.cuda_context_gib * BYTES_PER_GIB
    resident = weight_bytes + (other - context) + engine.cuda_graph_pool_gib * BYTES_PER_GIB
    margin = max(engine.kv_margin_floor_gib * BYTES_PER_GIB, engine.kv_margin_peak_fraction * act)
    return min(budget - resident, visible - context - resident - margin) - act


def _stage_kv(
    engine: EngineProfile, kv: float, kv_per_token: int, kv_per_request: int
) -> tuple[float, int, float, float]:
    """(KV bytes, KV tokens in whole blocks, requests of max_model_len that fit, bytes one request needs in blocks)."""
    block_bytes = kv_per_token * engine.block_size_tokens
    kv_tokens = max(0, math.floor(kv / block_bytes)) * engine.block_size_tokens
    needed = math.ceil(kv_per_request / block_bytes) * block_bytes
    return kv, kv_tokens, kv_tokens * kv_per_token / kv_per_request, needed


def memory_breakdown(
    m: ModelSpec, gpu: GpuSpec, fmt: WeightFormat, layout: Layout, engine: EngineProfile, settings: EngineSettings
) -> MemoryBreakdown:
    """The engine's start-up memory on the binding GPU: the pipeline stage with the fewest requests' worth of cache."""
    s = settings
    per_token = with_draft_kv(m, s, layout, stage_kv_bytes_per_token(m, s.kv_element_bytes, layout), 1)
    per_request = with_draft_kv(
        m,
        s,
        layout,
        stage_kv_bytes_per_request(m, s.kv_element_bytes, layout, s.max_model_len, engine.sliding_window_kv_savings),
        s.max_model_len,
    )
    util = s.gpu_memory_utilization or engine.default_gpu_memory_utilization
    seqs = s.max_num_seqs or engine.max_num_seqs(gpu.visible_memory_gib, gpu.name)
    tokens = s.max_num_batched_tokens or engine.max_num_batched_tokens(
        gpu.visible_memory_gib, s.max_model_len, gpu.name
    )
    budget = gpu.visible_memory_bytes * util
    rope = rope_cache_bytes(m, activation_dtype_bytes(fmt))
    other = non_torch_bytes(engine, layout)
    stages = []
    padding, workspace = expert_padding_factor(m, gpu, fmt), startup_workspace_bytes(gpu, fmt)
    for i, w in enumerate(stage_weights(m, fmt, layout)):
        draft = s.draft_weight_bytes if i == layout.pp - 1 else 0.0  # vLLM runs the drafter on the last stage
        weights = w.total_bytes + (padding - 1) * w.expert_bytes + rope + draft
        act = activation_bytes(m, fmt, engine, layout, tokens, seqs, last_stage=i == layout.pp - 1) + workspace
        stage_kv = _stage_kv(
            engine,
            kv_bytes(engine, gpu.visible_memory_bytes, budget, weights, act, other),
            per_token[i],
            per_request[i],
        )
        stages.append((stage_kv[2], stage_kv[0], i, weights, act, stage_kv))
    _, _, stage, weight_bytes, act, (kv, kv_tokens, concurrency, needed) = min(stages)
    graph = engine.cuda_graph_pool_gib * BYTES_PER_GIB
    if engine.kv_sizing == "extensible":  # what the cache, the resident memory and the peak leave untouched
        unused = gpu.visible_memory_bytes - weight_bytes - act - other - graph - max(kv, 0.0)
    else:
        unused = gpu.visible_memory_bytes - budget - (graph if engine.cuda_graph_outside_budget else 0.0)
    return MemoryBreakdown(
        gpu=gpu.name,
        visible_gib=gpu.visible_memory_gib,
        gpu_memory_utilization=util,
        budget_gib=to_gib(budget),
        weights_gib=to_gib(weight_bytes),
        activation_gib=to_gib(act),
        non_torch_gib=to_gib(other),
        kv_cache_gib=to_gib(kv),
        cuda_graph_gib=to_gib(graph),
        unused_gib=to_gib(unused),
        cuda_graph_in_budget=not engine.cuda_graph_outside_budget,
        kv_bytes_per_token=per_token[stage],
        kv_cache_tokens=kv_tokens,
        max_model_len=s.max_model_len,
        max_concurrency=concurrency,
        max_num_seqs=seqs,
        max_num_batched_tokens=tokens,
        fits=kv_tokens * per_token[stage] >= needed and unused >= 0,  # a graph pool outside the budget must fit too
        shortfall_gib=to_gib(max(0.0, needed - kv, -unused)),
        pipeline_stage=stage,
    )
