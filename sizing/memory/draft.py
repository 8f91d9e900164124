"""What a speculative-decoding draft adds to one GPU's memory: its weights, and the cache of its attention layer.

- EAGLE-3 (vLLM's eagle3 drafter, llama_eagle3.py): one Llama decoder layer whose q/k/v projections read the embedding
  and the fused hidden state side by side (2 x hidden wide), the fc that fuses three of the target's hidden states
  (3 x hidden -> hidden), norms, and its own lm_head over draft_vocab tokens; it shares the target's embedding. Served
  in 16-bit, split over the replica's TP ranks (draft_tensor_parallel_size defaults to the target's).
- MTP (DeepSeek-V3's module, vLLM deepseek_mtp.py): one decoder layer of the model itself (MoE and MLA), the eh_proj
  that joins embedding and hidden state (2 x hidden -> hidden), and its own embedding and shared head (the checkpoint
  holds them apart from the main model's, 14B in all with the layer); the layer in the served format, the rest 16-bit.
Either adds one attention layer of cache per token (the draft's own KV)."""

from __future__ import annotations

from dataclasses import dataclass

from sizing.catalog.formats import WeightFormat
from sizing.catalog.speculators import Speculator
from sizing.memory.layout import Layout
from sizing.memory.weights import layer_bytes_per_gpu
from sizing.models.spec import ModelSpec

DRAFT_BYTES_PER_PARAM = 2
"""EAGLE-3 heads and MTP embeddings/heads are published and served in 16-bit."""
DRAFT_KV_LAYERS = 1
"""Attention layers a chain draft of one module adds to the cache (EAGLE-3's single layer, one MTP module)."""


@dataclass(frozen=True)
class DraftMemory:
    """A draft's share of one GPU."""

    weight_bytes: float
    """Its weights on one GPU."""
    kv_layers: int
    """Attention layers it adds to every token's cache."""


def eagle3_params(m: ModelSpec, draft_vocab: int) -> int:
    """Parameters of an EAGLE-3 head for model `m`."""
    h, q, kv = m.hidden_size, m.num_attention_heads * m.head_dim, m.num_kv_heads * m.head_dim
    attention = 2 * h * (q + 2 * kv) + q * h
    mlp = 3 * h * m.intermediate_size
    fuse, norms = 3 * h * h, 3 * h
    return attention + mlp + fuse + norms + draft_vocab * h


def mtp_extra_params(m: ModelSpec) -> int:
    """Parameters of an MTP module besides its decoder layer: eh_proj, two norms, its embedding and shared head."""
    h = m.hidden_size
    return 2 * h * h + 2 * h + 2 * m.vocab_size * h


def draft_memory(m: ModelSpec, fmt: WeightFormat, layout: Layout, spec: Speculator) -> DraftMemory:
    """The draft's weights on one GPU (split over the TP ranks like the target's) and the cache layers it adds."""
    tp = layout.tp
    if spec.method == "mtp":
        layer = layer_bytes_per_gpu(m, fmt, layout, moe_layer=m.moe is not None)
        return DraftMemory(layer + mtp_extra_params(m) * DRAFT_BYTES_PER_PARAM / tp, DRAFT_KV_LAYERS)
    vocab = spec.draft_vocab or m.vocab_size
    return DraftMemory(eagle3_params(m, vocab) * DRAFT_BYTES_PER_PARAM / tp, DRAFT_KV_LAYERS)
