"""The fields of a Hugging Face config.json that the engine reads, with their types and bounds, so that a bad field
names itself and its expected type instead of failing somewhere inside the arithmetic. Other fields are ignored."""

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails
from typing_extensions import TypeAliasType

from sizing.errors import ModelConfigError
from sizing.limits import MAX_CONTEXT_TOKENS, MAX_EXPERTS, MAX_HEADS, MAX_LAYERS, MAX_VOCAB, MAX_WIDTH

# Named aliases (TypeAliasType): pydantic makes each one's schema once and shares it among the fields that use it, so
# the check every `plan` builds for its preset costs less (issue 21: ~2.5 ms of ~10); what is accepted is unchanged.
Width = TypeAliasType("Width", Annotated[StrictInt, Field(ge=1, le=MAX_WIDTH)])
Count = TypeAliasType("Count", Annotated[StrictInt, Field(ge=0, le=MAX_LAYERS)])
Heads = TypeAliasType("Heads", Annotated[StrictInt, Field(ge=1, le=MAX_HEADS)])
Experts = TypeAliasType("Experts", Annotated[StrictInt, Field(ge=0, le=MAX_EXPERTS)])
Tokens = TypeAliasType("Tokens", Annotated[StrictInt, Field(ge=1, le=MAX_CONTEXT_TOKENS)])
Layers = TypeAliasType("Layers", Annotated[StrictInt, Field(ge=1, le=MAX_LAYERS)])
WidthOrZero = TypeAliasType("WidthOrZero", Annotated[StrictInt, Field(ge=0, le=MAX_WIDTH)])

MLA_FIELDS = ("qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim")
"""What an MLA config (one with kv_lora_rank) must also give."""


class VisionFields(BaseModel):
    """vision_config of a multimodal model (ViT-style encoder)."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)

    hidden_size: Width | None = None
    """Encoder width."""
    intermediate_size: Width | None = None
    """Encoder MLP width."""
    num_hidden_layers: Layers | None = None
    """Encoder layers."""
    patch_size: Width | None = None
    """Image patch side, pixels."""
    image_size: Width | None = None
    """Image side, pixels."""
    num_channels: Annotated[StrictInt, Field(ge=1, le=16)] | None = None
    """Colour channels."""
    model_type: StrictStr | None = None
    """Encoder family (llama4_vision_model adds a pixel-shuffle MLP and a projector of its own)."""
    projector_input_dim: Width | None = None
    """Llama 4: width out of the pixel-shuffle MLP's first linear."""
    projector_output_dim: Width | None = None
    """Llama 4: width of the pixel-shuffle MLP's second linear."""
    vision_output_dim: Width | None = None
    """Llama 4: width the projector maps into the text model."""


class HfConfigFields(BaseModel):
    """A config.json (or its text_config) as far as the engine reads it."""

    model_config = ConfigDict(defer_build=True, extra="ignore", frozen=True)

    model_type: StrictStr | None = None
    """Architecture family."""
    hidden_size: Width | None = None
    """Residual width."""
    num_hidden_layers: Layers | None = None
    """Decoder layers."""
    num_attention_heads: Heads | None = None
    """Query heads."""
    num_key_value_heads: Heads | None = None
    """KV heads."""
    head_dim: Width | None = None
    """Head width."""
    intermediate_size: Width | None = None
    """MLP width."""
    vocab_size: Annotated[StrictInt, Field(ge=1, le=MAX_VOCAB)] | None = None
    """Vocabulary."""
    max_position_embeddings: Tokens | None = None
    """Context length."""
    sliding_window: Tokens | None = None
    """Sliding-window width."""
    use_sliding_window: StrictBool | None = None
    """Whether the window is used."""
    sliding_window_pattern: Layers | None = None
    """Gemma 3: one full layer every N."""
    layer_types: list[StrictStr] | None = Field(default=None, max_length=MAX_LAYERS)
    """Per-layer attention kind."""
    partial_rotary_factor: Annotated[StrictFloat | StrictInt, Field(gt=0, le=1, allow_inf_nan=False)] | None = None
    """Share of the head that is rotary."""
    tie_word_embeddings: StrictBool | None = None
    """lm_head tied to the embedding."""
    attention_bias: StrictBool | None = None
    """Attention projections carry biases."""
    torch_dtype: StrictStr | None = None
    """Checkpoint dtype."""
    dtype: StrictStr | None = None
    """Checkpoint dtype (newer transformers)."""
    quantization_config: dict[str, Any] | None = None
    """Quantization method of the checkpoint."""
    text_config: dict[str, Any] | None = None
    """Language-model part of a multimodal config."""
    vision_config: VisionFields | None = None
    """Vision encoder of a multimodal config."""
    kv_lora_rank: WidthOrZero | None = None
    """MLA latent width."""
    q_lora_rank: Width | None = None
    """MLA query latent width."""
    qk_nope_head_dim: Width | None = None
    """MLA non-rotary head width."""
    qk_rope_head_dim: Width | None = None
    """MLA rotary head width."""
    v_head_dim: Width | None = None
    """MLA value head width."""
    num_local_experts: Experts | None = None
    """Routed experts (Mixtral, gpt-oss)."""
    num_experts: Experts | None = None
    """Routed experts (Qwen MoE)."""
    n_routed_experts: Experts | None = None
    """Routed experts (DeepSeek)."""
    num_experts_per_tok: Experts | None = None
    """Top-k."""
    experts_per_token: Experts | None = None
    """Top-k (gpt-oss)."""
    moe_topk: Experts | None = None
    """Top-k (other families)."""
    moe_intermediate_size: Width | None = None
    """Expert MLP width."""
    n_shared_experts: Experts | None = None
    """Shared experts (DeepSeek)."""
    shared_expert_intermediate_size: WidthOrZero | None = None
    """Shared-expert width (Qwen MoE)."""
    first_k_dense_replace: Count | None = None
    """Leading dense layers (DeepSeek)."""
    mlp_only_layers: list[Count] | None = Field(default=None, max_length=MAX_LAYERS)
    """Dense layers (Qwen MoE)."""
    decoder_sparse_step: Layers | None = None
    """One MoE layer every N (Qwen MoE)."""
    moe_layer_freq: Layers | None = None
    """One MoE layer every N (DeepSeek)."""
    topk_method: StrictStr | None = None
    """Routing method (DeepSeek)."""
    intermediate_size_mlp: Width | None = None
    """Llama 4: width of the dense MLP layers (intermediate_size is then the experts' width)."""
    interleave_moe_layer_step: Count | None = None
    """Llama 4: one MoE layer every N (the N-th, 2N-th...), dense MLPs between them."""
    moe_layers: list[Count] | None = Field(default=None, max_length=MAX_LAYERS)
    """Llama 4: the indices of the MoE layers (when given, instead of interleave_moe_layer_step)."""
    no_rope_layers: list[Annotated[StrictInt, Field(ge=0, le=1)]] | None = Field(default=None, max_length=MAX_LAYERS)
    """Llama 4: per layer, 1 for a RoPE layer (chunked local attention), 0 for a NoPE layer (global attention)."""
    no_rope_layer_interval: Layers | None = None
    """Llama 4: one NoPE layer every N when no_rope_layers is not given."""
    attention_chunk_size: Tokens | None = None
    """Llama 4: chunk of the chunked local attention of its RoPE layers, tokens."""
    num_nextn_predict_layers: Count | None = None
    """DeepSeek-V3: multi-token-prediction modules published beside the model (a speculative-decoding draft)."""
    max_window_layers: Count | None = None
    """Qwen2: layers from this index on use full attention when use_sliding_window is on."""

    @model_validator(mode="after")
    def _whole_mla(self) -> "HfConfigFields":
        if self.kv_lora_rank:
            missing = [f for f in MLA_FIELDS if getattr(self, f) is None]
            if missing:
                raise ValueError(f"kv_lora_rank is set (an MLA model) but {', '.join(missing)} is missing")
        return self


def _expected(error: ErrorDetails) -> str:
    kind = error["type"]
    for word, expected in (
        ("int", "an integer"),
        ("bool", "true or false"),
        ("float", "a number"),
        ("string", "a string"),
        ("dict", "an object"),
        ("model", "an object"),
        ("list", "a list"),
    ):
        if word in kind:
            return f" (expected {expected})"
    return ""


def checked_fields(cfg: Any, where: str, part: str = "") -> dict[str, Any]:
    """The config mapping, after its engine-read fields passed the schema; raises ModelConfigError naming each bad
    field."""
    if not isinstance(cfg, dict):
        raise ModelConfigError(
            f"{where}: config.json{part} is not a JSON object. To fix: pass a Hugging Face config.json."
        )
    try:
        HfConfigFields.model_validate(cfg)
    except ValidationError as exc:
        problems = []
        for e in exc.errors()[:5]:
            field = ".".join(str(x) for x in e["loc"])
            shown = f"{field}={e['input']!r}"[:120] if field else "config"
            problems.append(f"{part.lstrip('.') + '.' if part else ''}{shown}: {e['msg']}{_expected(e)}")
        raise ModelConfigError(
            f"{where}: config.json has bad field(s): {'; '.join(problems)}. "
            "To fix: correct those fields (compare with the model's published config.json)."
        ) from None
    return cfg
