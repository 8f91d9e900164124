"""A ModelSpec from raw numbers (parameters, layers, KV heads, head size), for models without a config.json.

Weights and KV cache are exact for the numbers given. The hidden size, MLP width and vocabulary only shape the
activation estimate; when not given they follow the dense-transformer rule params ~ 12 x layers x hidden^2."""

from __future__ import annotations

import math

from sizing.errors import InvalidInputError
from sizing.models.spec import ModelSpec

DEFAULT_VOCAB = 32000
"""Vocabulary assumed when none is given (Llama 2 / Mistral size); it only shapes the sampler's activation peak."""
HIDDEN_ROUNDING = 128
"""Hidden sizes are multiples of this."""


def spec_from_numbers(
    params_b: float, layers: int, kv_heads: int, head_dim: int, hidden: int | None = None, vocab: int | None = None
) -> ModelSpec:
    """A dense GQA model with `params_b` billion parameters and the given attention shape."""
    for name, value in (
        ("--params-b", params_b),
        ("--layers", layers),
        ("--kv-heads", kv_heads),
        ("--head-dim", head_dim),
    ):
        if value is None or value <= 0:
            raise InvalidInputError(
                f"{name}={value!r} must be a positive number. To fix: give all four raw numbers "
                "(--params-b, --layers, --kv-heads, --head-dim), or a model preset / config.json."
            )
    params = params_b * 1e9
    vocab = vocab or DEFAULT_VOCAB
    hidden = hidden or max(
        HIDDEN_ROUNDING, round(math.sqrt(params / (12 * layers)) / HIDDEN_ROUNDING) * HIDDEN_ROUNDING
    )
    heads = max(kv_heads, hidden // head_dim)
    heads -= heads % kv_heads
    attention = 2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim
    per_layer_mlp = (params - 2 * vocab * hidden) / layers - attention - 2 * hidden
    intermediate = int(per_layer_mlp // (3 * hidden))
    if intermediate <= 0:
        raise InvalidInputError(
            f"--params-b={params_b!r} is too small for {layers} layers of hidden size {hidden}. "
            "To fix: check the numbers, or pass --hidden and --vocab."
        )
    return ModelSpec(
        name=f"raw({params_b:g}B, {layers} layers, {kv_heads} KV heads x {head_dim})",
        architecture="raw",
        hidden_size=hidden,
        num_layers=layers,
        num_attention_heads=heads,
        num_kv_heads=kv_heads,
        head_dim=head_dim,
        intermediate_size=intermediate,
        vocab_size=vocab,
        max_position_embeddings=131072,
        source="raw numbers from the command line",
    )
