"""KV cache bytes per token: per layer, per GPU after tensor and pipeline parallelism, and per request."""

from __future__ import annotations

from functools import cache, lru_cache

from sizing.memory.layout import Layout, stage_layer_ranges
from sizing.models.spec import ModelSpec


def kv_heads_per_gpu(m: ModelSpec, tp: int) -> int:
    """KV heads each TP rank holds: split when TP divides them, at least one (replicated) when TP exceeds them."""
    return max(1, m.num_kv_heads // tp)


def kv_bytes_per_token_per_layer(m: ModelSpec, kv_element_bytes: int, tp: int = 1) -> int:
    """Bytes one token adds to one layer's cache on one GPU. MLA: one latent plus rotary key, on every rank."""
    if m.mla is not None:
        return (m.mla.kv_lora_rank + m.mla.qk_rope_head_dim) * kv_element_bytes
    return 2 * kv_heads_per_gpu(m, tp) * m.head_dim * kv_element_bytes


def kv_bytes_per_token_model(m: ModelSpec, kv_element_bytes: int) -> int:
    """Bytes one token adds across every layer, before any parallel split (the figure model cards quote)."""
    return m.num_layers * kv_bytes_per_token_per_layer(m, kv_element_bytes)


@cache
def stage_kv_bytes_per_token(m: ModelSpec, kv_element_bytes: int, layout: Layout) -> tuple[int, ...]:
    """Per GPU, per pipeline stage: bytes one token adds to the cache, every layer counted at full length."""
    per_layer = kv_bytes_per_token_per_layer(m, kv_element_bytes, layout.tp)
    return tuple(len(r) * per_layer for r in stage_layer_ranges(m.num_layers, layout.pp))


def kv_bytes_per_token(m: ModelSpec, kv_element_bytes: int, layout: Layout) -> int:
    """Per GPU, on the pipeline stage with the most layers: bytes one token adds to the cache."""
    return max(stage_kv_bytes_per_token(m, kv_element_bytes, layout))


@cache
def stage_sliding_layers(m: ModelSpec, pp: int) -> tuple[tuple[int, int], ...]:
    """Per stage: (full-attention layers, sliding-window layers)."""
    counts = []
    for layers in stage_layer_ranges(m.num_layers, pp):
        sliding = sum(1 for i in layers if m.is_sliding_layer(i))
        counts.append((len(layers) - sliding, sliding))
    return tuple(counts)


@lru_cache(maxsize=4096)  # memory_breakdown and the planner's batch limit ask for each (layout, length) many times
def stage_kv_bytes_per_request(
    m: ModelSpec, kv_element_bytes: int, layout: Layout, seq_len: int, sliding_savings: bool
) -> tuple[int, ...]:
    """Per GPU, per stage: cache bytes of one request of `seq_len` tokens. Sliding layers keep at most the window
    when the engine frees what falls out of it (`sliding_savings`)."""
    per_layer = kv_bytes_per_token_per_layer(m, kv_element_bytes, layout.tp)
    window = m.sliding_window if (sliding_savings and m.sliding_window) else seq_len
    return tuple(
        (full * seq_len + sliding * min(seq_len, window)) * per_layer
        for full, sliding in stage_sliding_layers(m, layout.pp)
    )
