"""The MoE and MLA parts of a decode step: which experts a step reads, the fixed kernel time of MoE and MLA layers,
and the token exchange of expert parallelism under data-parallel attention.

Touched experts: a step reads each expert at least one of its tokens routes to. With `tokens` routed independently
(top-k of E each), an expert is missed with probability (1 - k/E)^tokens. Sequences of one batch do not always route
independently: in a fixed-batch benchmark of synthetic prompts every sequence decodes alike and reads about the experts
of one token (tests/data/static_batch_moe.csv: Mixtral at batch 16 on 2 H100 takes 7.2 ms a token, where reading
every expert would take at least 14 ms at peak bandwidth). `moe_routing_independence` (0..1) sets how many of the
batch's extra tokens route independently: 1 for real traffic (the default), 0 for such a benchmark.
"""

from __future__ import annotations

import math

from sizing.catalog.assumptions import Assumptions
from sizing.memory.layout import Layout
from sizing.models.params import routed_expert_params
from sizing.models.spec import ModelSpec, MoeSpec


def touched_expert_fraction(moe: MoeSpec | None, tokens: float, routing_independence: float) -> float:
    """Share of the routed experts a decode step over `tokens` routed tokens reads (1 for a dense model)."""
    if moe is None:
        return 1.0
    draws = 1.0 + max(tokens - 1.0, 0.0) * routing_independence
    return 1.0 - (1.0 - moe.experts_per_token / moe.num_experts) ** draws


def busiest_rank_fraction(moe: MoeSpec | None, layout: Layout, touched: float) -> float:
    """Expert parallelism keeps whole experts per GPU, so a step waits for the GPU whose experts the batch touches most.
    Each GPU holds n = E / ranks experts, each touched with probability `touched`: its count is binomial, and the
    largest of `ranks` such counts is about mean + sd x sqrt(2 ln ranks) (the expected maximum of normal draws),
    capped at n. Returns that count over n, the busiest GPU's share of its experts read (`touched` without EP, where
    every GPU holds a slice of every expert and the reads are even)."""
    ranks = layout.expert_ranks
    if moe is None or not layout.ep or ranks == 1:
        return touched
    n = moe.num_experts / ranks
    sd = math.sqrt(n * touched * (1.0 - touched))
    return min(n, n * touched + sd * math.sqrt(2.0 * math.log(ranks))) / n


def active_expert_matmul_params(m: ModelSpec) -> int:
    """Routed-expert parameters one token multiplies through (top-k experts in every MoE layer)."""
    if m.moe is None:
        return 0
    return m.num_moe_layers * m.moe.experts_per_token * routed_expert_params(m)


def sparse_layer_latency_s(m: ModelSpec, a: Assumptions, moe_layer_latency_us: float | None = None) -> float:
    """Fixed kernel time per step of the MoE layers (router, top-k, token sort, grouped expert GEMMs) and of MLA
    attention (latent projections, absorbed key/value products): many small kernels whose latency, not their bytes,
    sets their time at small batches. `moe_layer_latency_us` replaces the assumption where the kernel path has its own
    (sizing/data/kernels.toml)."""
    mla_layers = m.num_layers if m.mla is not None else 0
    moe_us = a.moe_layer_latency_us if moe_layer_latency_us is None else moe_layer_latency_us
    return (m.num_moe_layers * moe_us + mla_layers * a.mla_layer_latency_us) * 1e-6


BF16_BYTES = 2
"""Bytes of a bf16 weight: moe_prefill_gemm_half_tokens is measured on 16-bit (and FP8 at twice the rate) GEMMs."""


def gemm_half_tokens(a: Assumptions, expert_bytes_per_weight: float, peak_ratio_to_bf16: float) -> float:
    """Rows at which an expert GEMM reaches half its long-matrix rate for weights of this size on tensor cores this
    fast. Below it a GEMM waits on its weight reads (a roofline): the point scales with the bytes each weight costs and
    with the tensor-core rate, so FP8 (half the bytes, twice the rate) matches bf16 (as PR 23280 measures) and 4-bit
    weights on 16-bit tensor cores (Marlin, MXFP4) reach it at a quarter of the rows."""
    return (a.moe_prefill_gemm_half_tokens or 0.0) * expert_bytes_per_weight / BF16_BYTES * peak_ratio_to_bf16


def expert_gemm_efficiency(moe: MoeSpec | None, step_tokens: float, half_tokens: float) -> float:
    """Share of the dense prefill efficiency the routed experts' grouped GEMMs keep in a step of `step_tokens` tokens.
    Each expert multiplies only the tokens routed to it, m = step_tokens x top-k / experts of them (DeepSeek-V3 at
    8,000 tokens: 250), and a GEMM that short leaves the tensor cores idle: m / (m + half_tokens) (gemm_half_tokens).
    1 for a dense model."""
    if moe is None:
        return 1.0
    rows = max(step_tokens, 1.0) * moe.experts_per_token / moe.num_experts
    return rows / (rows + half_tokens)


def attention_flops_per_token_pair(m: ModelSpec) -> float:
    """Causal attention FLOPs per layer per (query, key) pair summed over heads, half the pairs being masked out:
    QK^T over the query/key width and PV over the value width, 2 FLOPs per multiply-add. MLA prefills as multi-head
    attention over the up-projected latent, keys nope + rope wide and values v_head_dim wide."""
    if m.mla is not None:
        qk, v = m.mla.qk_nope_head_dim + m.mla.qk_rope_head_dim, m.mla.v_head_dim
    else:
        qk = v = m.head_dim
    return m.num_attention_heads * (qk + v)


def expert_exchange_coeffs(
    m: ModelSpec, layout: Layout, latency_us: float, link_bytes_per_s: float, activation_bytes: int
) -> tuple[float, float]:
    """Data-parallel attention with expert parallelism: every MoE layer dispatches each rank's tokens to the ranks
    holding their experts and combines the results back (two collectives per MoE layer). Returns (fixed seconds per
    step, extra seconds per token of the whole replica's batch); (0, 0) without data-parallel attention, where the
    experts' partial sums travel in the TP all-reduce instead."""
    if layout.dp == 1 or m.moe is None:
        return 0.0, 0.0
    ranks = layout.expert_ranks
    ops = 2 * m.num_moe_layers
    bytes_per_token = m.hidden_size * activation_bytes * (ranks - 1) / ranks
    return ops * latency_us * 1e-6, ops * bytes_per_token / link_bytes_per_s
