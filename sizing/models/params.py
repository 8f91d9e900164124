"""Parameter counts from the architecture, grouped by how tensor parallelism shards them and how formats store them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from sizing.catalog.formats import TensorRole
from sizing.models.spec import ModelSpec

Shard = Literal["tp", "kv", "replicated"]
"""tp: split across TP ranks; kv: split by KV head, at least one head per rank; replicated: a full copy on every
rank."""


@dataclass(frozen=True)
class ParamGroup:
    """Tensors of one kind in one layer (or outside the layers)."""

    name: str
    """What the tensors are, e.g. 'attn.q'."""
    params: int
    """Parameter count."""
    role: TensorRole
    """linear (quantizable projection), expert (MoE expert projection) or other (embeddings, norms, routers, biases)."""
    shard: Shard
    """How TP splits it."""


def _g(name: str, params: int, role: TensorRole, shard: Shard) -> ParamGroup:
    return ParamGroup(name, params, role, shard)


def _mla_attention(m: ModelSpec) -> list[ParamGroup]:
    mla, h, n = m.mla, m.hidden_size, m.num_attention_heads
    assert mla is not None
    qk = mla.qk_nope_head_dim + mla.qk_rope_head_dim
    groups: list[ParamGroup] = []
    if mla.q_lora_rank:
        groups += [
            _g("attn.q_a", h * mla.q_lora_rank, "linear", "replicated"),
            _g("attn.q_a_norm", mla.q_lora_rank, "other", "replicated"),
            _g("attn.q_b", mla.q_lora_rank * n * qk, "linear", "tp"),
        ]
    else:
        groups.append(_g("attn.q", h * n * qk, "linear", "tp"))
    return groups + [
        _g("attn.kv_a", h * (mla.kv_lora_rank + mla.qk_rope_head_dim), "linear", "replicated"),
        _g("attn.kv_a_norm", mla.kv_lora_rank, "other", "replicated"),
        _g("attn.kv_b", mla.kv_lora_rank * n * (mla.qk_nope_head_dim + mla.v_head_dim), "linear", "tp"),
        _g("attn.o", n * mla.v_head_dim * h, "linear", "tp"),
    ]


def _attention(m: ModelSpec) -> list[ParamGroup]:
    if m.mla is not None:
        return _mla_attention(m)
    h, q_width, kv_width = m.hidden_size, m.num_attention_heads * m.head_dim, m.num_kv_heads * m.head_dim
    groups = [
        _g("attn.q", h * q_width, "linear", "tp"),
        _g("attn.kv", 2 * h * kv_width, "linear", "kv"),
        _g("attn.o", q_width * h, "linear", "tp"),
    ]
    if m.qkv_bias:
        groups += [_g("attn.q_bias", q_width, "other", "tp"), _g("attn.kv_bias", 2 * kv_width, "other", "kv")]
    if m.o_bias:
        groups.append(_g("attn.o_bias", h, "other", "replicated"))
    if m.qk_norm:
        groups.append(_g("attn.qk_norm", 2 * m.head_dim, "other", "replicated"))
    if m.attention_sinks:
        groups.append(_g("attn.sinks", m.num_attention_heads, "other", "tp"))
    return groups


def _moe_mlp(m: ModelSpec) -> list[ParamGroup]:
    moe, h = m.moe, m.hidden_size
    assert moe is not None
    width = moe.expert_intermediate_size
    per_expert = 3 * h * width + (
        (2 * width + h) if moe.expert_bias else 0
    )  # gate+up+down; biases: gate_up (2w), down (h)
    groups = [
        _g("moe.experts", moe.num_experts * per_expert, "expert", "tp"),
        _g("moe.router", h * moe.num_experts + (moe.num_experts if moe.router_bias else 0), "other", "replicated"),
    ]
    if moe.shared_intermediate_size:
        groups.append(_g("moe.shared", 3 * h * moe.shared_intermediate_size, "linear", "tp"))
    return groups


@cache
def layer_groups_of_kind(m: ModelSpec, moe_layer: bool) -> tuple[ParamGroup, ...]:
    """Parameter groups of any decoder layer with (or without) experts: every such layer is alike."""
    mlp = _moe_mlp(m) if moe_layer else [_g("mlp", 3 * m.hidden_size * m.intermediate_size, "linear", "tp")]
    norms = [_g("norms", m.norms_per_layer * m.hidden_size, "other", "replicated")]
    return tuple(_attention(m) + mlp + norms)


def embedding_groups(m: ModelSpec) -> tuple[ParamGroup, ...]:
    """Input embedding (first pipeline stage)."""
    groups = [_g("embed", m.vocab_size * m.hidden_size, "other", "tp")]
    if m.extra_params:
        groups.append(_g("vision_encoder", m.extra_params, "linear", "tp"))
    return tuple(groups)


def head_groups(m: ModelSpec, separate_stage: bool) -> tuple[ParamGroup, ...]:
    """Final norm and lm_head (last pipeline stage). A tied lm_head costs memory only on a separate stage."""
    groups = [_g("final_norm", m.hidden_size, "other", "replicated")]
    if not m.tie_word_embeddings or separate_stage:
        groups.append(_g("lm_head", m.vocab_size * m.hidden_size, "other", "tp"))
    return tuple(groups)


def _sum(groups: tuple[ParamGroup, ...]) -> int:
    return sum(g.params for g in groups)


@cache
def total_params(m: ModelSpec) -> int:
    """Every parameter of the checkpoint (tied embeddings counted once)."""
    moe_layers = m.num_moe_layers
    layers = (m.num_layers - moe_layers) * _sum(layer_groups_of_kind(m, False))
    if moe_layers:
        layers += moe_layers * _sum(layer_groups_of_kind(m, True))
    return layers + _sum(embedding_groups(m)) + _sum(head_groups(m, separate_stage=False))


def routed_expert_params(m: ModelSpec) -> int:
    """Parameters of one routed expert (0 for dense models)."""
    if m.moe is None:
        return 0
    return next(g.params for g in layer_groups_of_kind(m, True) if g.name == "moe.experts") // m.moe.num_experts


@cache
def active_params(m: ModelSpec) -> int:
    """Parameters each text token passes through: all but the routed experts it does not use, and the vision encoder
    (extra_params), which runs on images only (Llama 4's "17B active" counts the text model alone)."""
    text = total_params(m) - m.extra_params
    if m.moe is None:
        return text
    idle = (m.moe.num_experts - m.moe.experts_per_token) * routed_expert_params(m)
    return text - m.num_moe_layers * idle


def matmul_params(m: ModelSpec) -> int:
    """Active parameters that do a matmul per token (the input embedding is a lookup, unless tied to lm_head)."""
    lookup = 0 if m.tie_word_embeddings else m.vocab_size * m.hidden_size
    return active_params(m) - lookup
