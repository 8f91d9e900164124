"""Reading a Hugging Face config.json into a ModelSpec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sizing.bounded import parse_json, read_text
from sizing.errors import ModelConfigError
from sizing.limits import MAX_CONFIG_BYTES
from sizing.models.config_keys import check_shape_keys, sliding_split_refusal
from sizing.models.hf_schema import checked_fields
from sizing.models.spec import MlaSpec, ModelSpec, MoeSpec

TORCH_DTYPE_FORMATS = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp16"}
"""Checkpoint dtype -> serving format. vLLM's dtype 'auto' serves float32 checkpoints in fp16."""

GEMMA_FAMILIES = ("gemma2", "gemma3", "gemma3_text")
QK_NORM_FAMILIES = ("qwen3", "qwen3_moe", "gemma3", "gemma3_text")
"""Families whose per-head query/key norms carry weights (Llama 4's use_qk_norm is an L2 norm without any)."""
LLAMA4_FAMILIES = ("llama4", "llama4_text")
"""Llama 4 (transformers models/llama4/modeling_llama4.py): every MoE layer also runs a shared expert of
intermediate_size; the dense layers between MoE layers have an MLP of intermediate_size_mlp; RoPE layers attend within
chunks of attention_chunk_size."""
LLAMA4_NOPE_INTERVAL = 4
"""Llama 4: one NoPE (global attention) layer in four when the config lists none (transformers Llama4TextConfig
no_rope_layer_interval default)."""


def _need(cfg: dict[str, Any], key: str, where: str) -> Any:
    if cfg.get(key) is None:
        raise ModelConfigError(
            f"{where}: config.json has no {key!r}, which the sizing engine needs. "
            "To fix: pass the model's original config.json, or give raw numbers (--params-b, --layers, --kv-heads, "
            "--head-dim)."
        )
    return cfg[key]


def _text_config(cfg: dict[str, Any], where: str) -> tuple[dict[str, Any], int]:
    """The language-model part of a (possibly multimodal) config, and the vision encoder's parameter count."""
    if not cfg.get("text_config"):
        return cfg, 0
    text = dict(checked_fields(cfg["text_config"], where, ".text_config"))
    check_shape_keys(text, where, "text_config.")
    text.setdefault("tie_word_embeddings", cfg.get("tie_word_embeddings", True))
    text.setdefault("torch_dtype", cfg.get("torch_dtype"))
    text.setdefault("quantization_config", cfg.get("quantization_config"))
    vision = cfg.get("vision_config")
    return text, (_vision_params(vision, text, where) if vision else 0)


def _vision_params(vision: dict[str, Any], text: dict[str, Any], where: str) -> int:
    """Parameters of a ViT-style vision encoder plus its projector into the text model (Llama 4's adapter and
    projector where the config is Llama 4's)."""
    keys = ("hidden_size", "intermediate_size", "num_hidden_layers", "patch_size", "image_size")
    missing = [k for k in keys if vision.get(k) is None]
    if missing:
        raise ModelConfigError(
            f"{where}: multimodal config whose vision_config lacks {missing}; its encoder cannot be counted. "
            "To fix: pass the text model's config.json (the text_config part) and add the encoder's size by hand."
        )
    h, inter, layers = vision["hidden_size"], vision["intermediate_size"], vision["num_hidden_layers"]
    patch, image = vision["patch_size"], vision["image_size"]
    per_layer = (
        4 * h * h + 4 * h + 2 * h * inter + inter + h + 4 * h
    )  # qkv+o with biases, MLP with biases, two LayerNorms
    embeddings = vision.get("num_channels", 3) * patch * patch * h + h + (image // patch) ** 2 * h
    if vision.get("model_type") == "llama4_vision_model":
        return layers * per_layer + embeddings + _llama4_vision_extra(vision, text, where)
    projector = h * int(_need(text, "hidden_size", where))
    return layers * per_layer + embeddings + 2 * h + projector


def _llama4_vision_extra(vision: dict[str, Any], text: dict[str, Any], where: str) -> int:
    """Llama 4's encoder beyond the ViT layers and embeddings (transformers modeling_llama4.py Llama4VisionModel): the
    class token's position, pre and post LayerNorms, the pixel-shuffle MLP (two bias-free linears) and the projector
    into the text model (bias-free)."""
    h, inter = vision["hidden_size"], vision["intermediate_size"]
    p_in, p_out, out = (
        int(_need(vision, k, where + " vision_config"))
        for k in ("projector_input_dim", "projector_output_dim", "vision_output_dim")
    )
    class_position = h  # the class embedding itself is in the ViT embeddings
    layer_norms = 2 * 2 * h
    pixel_shuffle = inter * p_in + p_out * p_out
    return class_position + layer_norms + pixel_shuffle + out * int(_need(text, "hidden_size", where))


INTEGER_FORMATS = {("awq", 4): "int4-awq", ("gptq", 4): "int4-gptq", ("gptq", 8): "int8-gptq"}
"""AWQ and GPTQ checkpoints by quantization_config.bits: the widths vLLM's Marlin kernels serve (AWQ 4-bit; GPTQ 4- and
8-bit: vllm/model_executor/layers/quantization/auto_awq.py and auto_gptq.py TYPE_MAP, 0.32.0)."""


def _integer_format(method: str, quant: dict[str, Any]) -> str:
    """The weight format of an AWQ or GPTQ checkpoint, from its bits (4 when the config does not say)."""
    bits = quant.get("bits", quant.get("w_bit", 4))
    if isinstance(bits, bool) or not isinstance(bits, int) or (method, bits) not in INTEGER_FORMATS:
        served = ", ".join(f"{m} {b}-bit" for m, b in INTEGER_FORMATS)
        raise ModelConfigError(
            f"quantization_config: {method} with bits={repr(bits)[:20]} is not a width the sizing knows or vLLM's "
            "Marlin "
            f"kernels serve ({served}). To fix: use a checkpoint quantized to one of those widths, or pass the "
            "unquantized config.json and choose --weights explicitly."
        )
    return INTEGER_FORMATS[(method, bits)]


def _native_format(cfg: dict[str, Any]) -> str:
    quant = cfg.get("quantization_config") or {}
    method = str(quant.get("quant_method", "")).lower()
    if method == "fp8":
        return "fp8-block" if quant.get("weight_block_size") else "fp8"
    if method in ("awq", "gptq"):
        return _integer_format(method, quant)
    if method == "mxfp4":
        return "mxfp4"
    if method:
        raise ModelConfigError(
            f"quantization_config.quant_method={method!r} is not supported. Supported: fp8, awq, gptq, mxfp4. "
            "To fix: pass the unquantized config.json and choose --weights explicitly."
        )
    return TORCH_DTYPE_FORMATS.get(str(cfg.get("torch_dtype") or cfg.get("dtype") or "bfloat16"), "bf16")


def _moe(cfg: dict[str, Any], num_layers: int) -> MoeSpec | None:
    experts = cfg.get("num_local_experts") or cfg.get("num_experts") or cfg.get("n_routed_experts")
    if not experts or experts <= 1:
        return None
    top_k = cfg.get("num_experts_per_tok") or cfg.get("experts_per_token") or cfg.get("moe_topk")
    if not top_k:
        raise ModelConfigError(
            f"config.json has {experts} experts but no 'num_experts_per_tok'. "
            "To fix: pass the model's original config.json."
        )
    width = cfg.get("moe_intermediate_size") or _need(cfg, "intermediate_size", "config.json")
    llama4 = cfg.get("model_type") in LLAMA4_FAMILIES
    shared = (cfg.get("n_shared_experts") or 0) * width + (cfg.get("shared_expert_intermediate_size") or 0)
    shared += width if llama4 else 0  # Llama4TextMoe.shared_expert: one MLP of intermediate_size
    dense = int(cfg.get("first_k_dense_replace") or 0) + len(cfg.get("mlp_only_layers") or [])
    step, offset = _moe_layer_pattern(cfg, num_layers)
    gpt_oss = cfg.get("model_type") == "gpt_oss"
    return MoeSpec(
        num_experts=experts,
        experts_per_token=top_k,
        expert_intermediate_size=width,
        shared_intermediate_size=shared,
        dense_layers=min(dense, num_layers),
        layer_step=step,
        layer_offset=offset,
        expert_bias=gpt_oss,
        router_bias=gpt_oss or cfg.get("topk_method") == "noaux_tc",
    )


def _moe_layer_pattern(cfg: dict[str, Any], num_layers: int) -> tuple[int, int]:
    """(step, offset): layer i has experts when (i - offset) % step == 0, after the leading dense layers.
    Qwen MoE: (i + 1) % decoder_sparse_step == 0; DeepSeek: i % moe_layer_freq == 0; Llama 4: the listed moe_layers,
    else (i + 1) % interleave_moe_layer_step == 0."""
    if cfg.get("decoder_sparse_step"):
        return int(cfg["decoder_sparse_step"]), int(cfg["decoder_sparse_step"]) - 1
    if cfg.get("moe_layer_freq"):
        return int(cfg["moe_layer_freq"]), 0
    listed = cfg.get("moe_layers")
    step = int(cfg.get("interleave_moe_layer_step") or 1)
    if not listed:
        return step, step - 1
    step = listed[1] - listed[0] if len(listed) > 1 else step
    offset = listed[0] % step if step > 0 else 0
    if step < 1 or listed != list(range(listed[0], num_layers, step)) or listed[0] >= step:
        raise ModelConfigError(
            f"config.json moe_layers={listed[:8]}{'...' if len(listed) > 8 else ''} is not one MoE layer every N "
            f"layers up to the last of {num_layers}, the pattern the sizing engine counts. To fix: pass the model's "
            "published config.json."
        )
    return step, offset


def _mla(cfg: dict[str, Any]) -> MlaSpec | None:
    if not cfg.get("kv_lora_rank"):
        return None
    return MlaSpec(
        kv_lora_rank=cfg["kv_lora_rank"],
        q_lora_rank=cfg.get("q_lora_rank"),
        qk_nope_head_dim=cfg["qk_nope_head_dim"],
        qk_rope_head_dim=cfg["qk_rope_head_dim"],
        v_head_dim=cfg["v_head_dim"],
    )


def _sliding(cfg: dict[str, Any], num_layers: int) -> tuple[int | None, int]:
    """(window, number of sliding layers). Llama 4's chunked local attention counts as a window of one chunk on its
    RoPE layers: no layer attends to more (vLLM ChunkedLocalAttention)."""
    window = cfg.get("sliding_window")
    kind = cfg.get("model_type")
    if kind in LLAMA4_FAMILIES and cfg.get("attention_chunk_size"):
        rope = cfg.get("no_rope_layers") or [
            int((i + 1) % int(cfg.get("no_rope_layer_interval") or LLAMA4_NOPE_INTERVAL) != 0)
            for i in range(num_layers)
        ]
        return int(cfg["attention_chunk_size"]), min(sum(rope), num_layers)
    if not window or cfg.get("use_sliding_window") is False:
        return None, 0
    if cfg.get("layer_types"):
        return window, sum(1 for t in cfg["layer_types"] if t == "sliding_attention")
    if kind == "gemma2":
        return window, num_layers // 2
    if kind in ("gemma3", "gemma3_text"):
        pattern = int(cfg.get("sliding_window_pattern") or 6)
        return window, num_layers - num_layers // pattern
    if window >= int(cfg.get("max_position_embeddings") or window + 1):
        return None, 0
    return window, num_layers


def spec_from_hf_config(cfg: dict[str, Any], name: str, source: str = "") -> ModelSpec:
    """Build a ModelSpec from a parsed config.json. Raises ModelConfigError naming what is missing or unsupported."""
    cfg = checked_fields(cfg, name)
    check_shape_keys(cfg, name)
    text, extra = _text_config(cfg, name)
    sliding_split_refusal(text, name)
    _check_layer_types(text, name)
    kind = str(text.get("model_type") or cfg.get("model_type") or "unknown")
    hidden = _need(text, "hidden_size", name)
    layers = _need(text, "num_hidden_layers", name)
    heads = _need(text, "num_attention_heads", name)
    mla = _mla(text)
    kv_heads = heads if mla else (text.get("num_key_value_heads") or heads)
    head_dim = text.get("head_dim") or (mla.qk_nope_head_dim + mla.qk_rope_head_dim if mla else hidden // heads)
    window, sliding = _sliding(text, layers)
    rotary = mla.qk_rope_head_dim if mla else int(head_dim * float(text.get("partial_rotary_factor") or 1.0))
    try:
        return ModelSpec(
            name=name,
            architecture=kind,
            hidden_size=hidden,
            num_layers=layers,
            num_attention_heads=heads,
            num_kv_heads=kv_heads,
            head_dim=head_dim,
            intermediate_size=text.get("intermediate_size_mlp") or _need(text, "intermediate_size", name),
            vocab_size=_need(text, "vocab_size", name),
            max_position_embeddings=text.get("max_position_embeddings") or 4096,
            tie_word_embeddings=bool(text.get("tie_word_embeddings", False)),
            qkv_bias=bool(text.get("attention_bias") or kind in ("qwen2", "qwen2_moe")),
            o_bias=bool(text.get("attention_bias")) and kind != "qwen2",
            qk_norm=kind in QK_NORM_FAMILIES,
            norms_per_layer=4 if kind in GEMMA_FAMILIES else 2,
            attention_sinks=kind == "gpt_oss",
            sliding_window=window,
            num_sliding_layers=sliding,
            rotary_dim=rotary,
            mla=mla,
            moe=_moe(text, layers),
            native_format=_native_format(text),
            extra_params=extra,
            source=source,
            mtp_layers=int(text.get("num_nextn_predict_layers") or 0),
        )
    except ValidationError as exc:
        problems = "; ".join(e["msg"] for e in exc.errors())
        raise ModelConfigError(f"{name}: config.json is inconsistent: {problems}. To fix: check the file.") from None


KNOWN_LAYER_TYPES = ("full_attention", "sliding_attention")
"""layer_types entries the engine counts (gpt-oss, Gemma 3); others (linear_attention, mamba...) hold other state."""


def _check_layer_types(cfg: dict[str, Any], where: str) -> None:
    """A layer kind the engine does not count (linear attention, Mamba) is refused by name."""
    unknown = sorted({t for t in cfg.get("layer_types") or [] if t not in KNOWN_LAYER_TYPES})
    if unknown:
        raise ModelConfigError(
            f"{where}: config.json layer_types has {', '.join(repr(t) for t in unknown[:4])}, layers whose parameters "
            f"and cache the sizing engine does not count (it counts {', '.join(KNOWN_LAYER_TYPES)}). To fix: use a "
            "model with attention layers only, or give raw numbers to the memory command."
        )


def spec_from_file(path: str | Path) -> ModelSpec:
    """Read a config.json (or a folder holding one) from disk: a regular UTF-8 file of at most MAX_CONFIG_BYTES holding
    a JSON object nested at most MAX_JSON_DEPTH deep."""
    path = Path(path)
    fix = "pass a path to a Hugging Face config.json (or its folder), or a preset name."
    try:
        if path.is_dir():
            path = path / "config.json"
    except (OSError, ValueError):
        pass  # read_text names the problem
    text = read_text(path, MAX_CONFIG_BYTES, "config.json", fix, ModelConfigError)
    cfg = parse_json(text, f"{str(path)[:200]!r}", fix, error=ModelConfigError)
    return spec_from_hf_config(cfg, name=str(path), source=str(path))
