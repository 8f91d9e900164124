"""ModelSpec: the architecture facts the engine needs, independent of where they were read from."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from sizing.limits import MAX_CONTEXT_TOKENS, MAX_EXPERTS, MAX_HEADS, MAX_LAYERS, MAX_PARAMS_B, MAX_VOCAB, MAX_WIDTH

AttentionKind = Literal["mha", "gqa", "mqa", "mla"]


class MlaSpec(BaseModel):
    """Multi-head latent attention (DeepSeek-V2/V3) shapes."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    kv_lora_rank: int = Field(gt=0, le=MAX_WIDTH)
    """Width of the compressed KV latent that is cached."""
    q_lora_rank: int | None = Field(default=None, gt=0, le=MAX_WIDTH)
    """Width of the compressed query (None: a plain query projection)."""
    qk_nope_head_dim: int = Field(gt=0, le=MAX_WIDTH)
    """Per-head query/key width without rotary position."""
    qk_rope_head_dim: int = Field(gt=0, le=MAX_WIDTH)
    """Per-head rotary width; the key part is shared and cached beside the latent."""
    v_head_dim: int = Field(gt=0, le=MAX_WIDTH)
    """Per-head value width."""


class MoeSpec(BaseModel):
    """Mixture-of-experts shapes."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    num_experts: int = Field(gt=1, le=MAX_EXPERTS)
    """Routed experts per MoE layer."""
    experts_per_token: int = Field(gt=0, le=MAX_EXPERTS)
    """Routed experts each token uses (top-k)."""
    expert_intermediate_size: int = Field(gt=0, le=MAX_WIDTH)
    """MLP width of one routed expert."""
    shared_intermediate_size: int = Field(default=0, ge=0, le=MAX_EXPERTS * MAX_WIDTH)
    """Total MLP width of the always-on shared experts (0: none)."""
    dense_layers: int = Field(default=0, ge=0, le=MAX_LAYERS)
    """Leading layers with a dense MLP instead of experts (DeepSeek first_k_dense_replace, Qwen mlp_only_layers)."""
    layer_step: int = Field(default=1, ge=1, le=MAX_LAYERS)
    """After the leading dense layers, one layer in `layer_step` has experts, the others a dense MLP (Llama 4
    interleave_moe_layer_step, Qwen MoE decoder_sparse_step, DeepSeek moe_layer_freq); 1: every layer."""
    layer_offset: int = Field(default=0, ge=0, le=MAX_LAYERS)
    """Index of the first expert layer of the pattern: layer i has experts when (i - layer_offset) % layer_step == 0
    (Llama 4 and Qwen MoE: layer_step - 1; DeepSeek: 0)."""
    expert_bias: bool = False
    """Experts carry biases (gpt-oss)."""
    router_bias: bool = False
    """The router has a bias (gpt-oss) or a score-correction bias (DeepSeek-V3)."""

    @model_validator(mode="after")
    def _top_k_fits(self) -> "MoeSpec":
        if self.experts_per_token > self.num_experts:
            raise ValueError(f"experts_per_token={self.experts_per_token} exceeds num_experts={self.num_experts}")
        if self.layer_offset >= self.layer_step:
            raise ValueError(f"layer_offset={self.layer_offset} must be below layer_step={self.layer_step}")
        return self


class ModelSpec(BaseModel):
    """A decoder-only transformer, as far as memory and speed are concerned."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    """Preset name, repository id or file path."""
    architecture: str
    """Hugging Face model_type (llama, qwen3_moe, deepseek_v3, ...)."""
    hidden_size: int = Field(gt=0, le=MAX_WIDTH)
    """Residual stream width."""
    num_layers: int = Field(gt=0, le=MAX_LAYERS)
    """Decoder layers."""
    num_attention_heads: int = Field(gt=0, le=MAX_HEADS)
    """Query heads."""
    num_kv_heads: int = Field(gt=0, le=MAX_HEADS)
    """Key/value heads (equal to the query heads for MHA, 1 for MQA; for MLA the query heads)."""
    head_dim: int = Field(gt=0, le=MAX_WIDTH)
    """Per-head width of queries and keys (explicit in some configs, else hidden / heads)."""
    intermediate_size: int = Field(gt=0, le=MAX_WIDTH)
    """Dense MLP width (for MoE models: the dense layers' width)."""
    vocab_size: int = Field(gt=0, le=MAX_VOCAB)
    """Vocabulary size."""
    max_position_embeddings: int = Field(gt=0, le=MAX_CONTEXT_TOKENS)
    """Longest context the model supports."""
    tie_word_embeddings: bool = False
    """lm_head shares the input embedding matrix."""
    qkv_bias: bool = False
    """q, k and v projections carry biases."""
    o_bias: bool = False
    """The output projection carries a bias."""
    qk_norm: bool = False
    """Per-head RMSNorm on queries and keys (Qwen3, Gemma 3)."""
    norms_per_layer: int = Field(default=2, ge=0)
    """Hidden-size norms per layer (2 for Llama, 4 for Gemma 2/3)."""
    attention_sinks: bool = False
    """One learned sink logit per head (gpt-oss)."""
    sliding_window: int | None = Field(default=None, gt=0, le=MAX_CONTEXT_TOKENS)
    """Window of the sliding-window layers, tokens (for Llama 4's chunked local attention: the chunk, the most any
    such layer attends to)."""
    num_sliding_layers: int = Field(default=0, ge=0)
    """How many layers use the sliding window."""
    rotary_dim: int = Field(default=0, ge=0, le=MAX_WIDTH)
    """Rotary embedding width (the engine caches cos/sin for every position)."""
    mla: MlaSpec | None = None
    """MLA shapes, for DeepSeek-style attention."""
    moe: MoeSpec | None = None
    """Mixture-of-experts shapes."""
    native_format: str = "bf16"
    """Weight format of the published checkpoint (bf16, fp8-block, mxfp4...)."""
    mtp_layers: int = Field(default=0, ge=0, le=MAX_LAYERS)
    """Multi-token-prediction modules published beside the model (DeepSeek-V3 num_nextn_predict_layers): not loaded
    unless they serve as a speculative-decoding draft (sizing/models/params.py mtp_params)."""
    extra_params: int = Field(default=0, ge=0, le=int(MAX_PARAMS_B * 1e9))
    """Parameters outside the decoder (e.g. a vision encoder), sharded by TP like linear layers."""
    source: str = ""
    """Where the architecture facts come from."""
    hf_repo: str | None = None
    """Hugging Face repository the checkpoint is published in (presets), if known."""
    _hash: int | None = PrivateAttr(default=None)

    def __hash__(self) -> int:
        # Cached: the engine's caches key on the spec, and hashing every field each time dominated plan() time.
        private = self.__pydantic_private__
        assert private is not None
        if private["_hash"] is None:
            private["_hash"] = hash(tuple(self.__dict__[f] for f in type(self).model_fields))
        return private["_hash"]

    @model_validator(mode="after")
    def _consistent(self) -> "ModelSpec":
        if self.mla is None and self.num_attention_heads % self.num_kv_heads:
            raise ValueError(
                f"num_attention_heads={self.num_attention_heads} is not a multiple of num_kv_heads={self.num_kv_heads}"
            )
        if self.num_sliding_layers > self.num_layers:
            raise ValueError(f"num_sliding_layers={self.num_sliding_layers} exceeds num_layers={self.num_layers}")
        if self.num_sliding_layers and self.sliding_window is None:
            raise ValueError("num_sliding_layers is set but sliding_window is not")
        if self.moe and self.moe.dense_layers > self.num_layers:
            raise ValueError(f"moe.dense_layers={self.moe.dense_layers} exceeds num_layers={self.num_layers}")
        return self

    @property
    def attention_kind(self) -> AttentionKind:
        """MHA, GQA, MQA or MLA."""
        if self.mla is not None:
            return "mla"
        if self.num_kv_heads == self.num_attention_heads:
            return "mha"
        return "mqa" if self.num_kv_heads == 1 else "gqa"

    @property
    def num_moe_layers(self) -> int:
        """Layers whose MLP is a mixture of experts."""
        if self.moe is None:
            return 0
        step, offset = self.moe.layer_step, self.moe.layer_offset
        first = self.moe.dense_layers + (offset - self.moe.dense_layers) % step  # the first expert layer
        return 0 if first >= self.num_layers else (self.num_layers - 1 - first) // step + 1

    @property
    def has_dense_mlp_layers(self) -> bool:
        """Some layers have a dense MLP of intermediate_size (every layer of a dense model)."""
        return self.num_moe_layers < self.num_layers

    def is_moe_layer(self, index: int) -> bool:
        """Whether layer `index` (0-based) has experts: after the leading dense layers, one in layer_step."""
        moe = self.moe
        return moe is not None and index >= moe.dense_layers and (index - moe.layer_offset) % moe.layer_step == 0

    def is_sliding_layer(self, index: int) -> bool:
        """Whether layer `index` uses the sliding window (spread evenly across the stack)."""
        if not self.num_sliding_layers:
            return False
        return (index * self.num_sliding_layers) // self.num_layers != (
            (index + 1) * self.num_sliding_layers
        ) // self.num_layers
