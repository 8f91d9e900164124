"""Reading a Hugging Face config.json into a ModelSpec."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import ValidationError

from sizing.bounded import parse_json, read_text
from sizing.errors import ModelConfigError
from sizing.limits import MAX_CONFIG_BYTES
from sizing.models.hf_schema import checked_fields
from sizing.models.spec import MlaSpec, ModelSpec, MoeSpec

TORCH_DTYPE_FORMATS = {"bfloat16": "bf16", "float16": "fp16", "float32": "fp16"}
"""Checkpoint dtype -> serving format. vLLM's dtype 'auto' serves float32 checkpoints in fp16."""

GEMMA_FAMILIES = ("gemma2", "gemma3", "gemma3_text")
QK_NORM_FAMILIES = ("qwen3", "qwen3_moe", "gemma3", "gemma3_text")


def _need(cfg: dict[str, Any], key: str, where: str) -> Any:
    if cfg.get(key) is None:
        raise ModelConfigError(
            f"{where}: config.json has no {key!r}, which the sizing engine needs. "
            "To fix: pass the model's original config.json, or give raw numbers (--params-b, --layers, --kv-heads, --head-dim)."
        )
    return cfg[key]


def _text_config(cfg: dict[str, Any], where: str) -> tuple[dict[str, Any], int]:
    """The language-model part of a (possibly multimodal) config, and the vision encoder's parameter count."""
    if not cfg.get("text_config"):
        return cfg, 0
    text = dict(checked_fields(cfg["text_config"], where, ".text_config"))
    text.setdefault("tie_word_embeddings", cfg.get("tie_word_embeddings", True))
    text.setdefault("torch_dtype", cfg.get("torch_dtype"))
    text.setdefault("quantization_config", cfg.get("quantization_config"))
    vision = cfg.get("vision_config")
    return text, (_vision_params(vision, text, where) if vision else 0)


def _vision_params(vision: dict[str, Any], text: dict[str, Any], where: str) -> int:
    """Parameters of a ViT-style vision encoder plus its projector into the text model."""
    keys = ("hidden_size", "intermediate_size", "num_hidden_layers", "patch_size", "image_size")
    missing = [k for k in keys if vision.get(k) is None]
    if missing:
        raise ModelConfigError(
            f"{where}: multimodal config whose vision_config lacks {missing}; its encoder cannot be counted. "
            "To fix: pass the text model's config.json (the text_config part) and add the encoder's size by hand."
        )
    h, inter, layers = vision["hidden_size"], vision["intermediate_size"], vision["num_hidden_layers"]
    patch, image = vision["patch_size"], vision["image_size"]
    per_layer = 4 * h * h + 4 * h + 2 * h * inter + inter + h + 4 * h  # qkv+o with biases, MLP with biases, two LayerNorms
    embeddings = vision.get("num_channels", 3) * patch * patch * h + h + (image // patch) ** 2 * h
    projector = h * int(_need(text, "hidden_size", where))
    return layers * per_layer + embeddings + 2 * h + projector


INTEGER_FORMATS = {("awq", 4): "int4-awq", ("gptq", 4): "int4-gptq", ("gptq", 8): "int8-gptq"}
"""AWQ and GPTQ checkpoints by quantization_config.bits: the widths vLLM's Marlin kernels serve (AWQ 4-bit; GPTQ 4- and
8-bit: vllm/model_executor/layers/quantization/auto_awq.py and auto_gptq.py TYPE_MAP, 0.32.0)."""


def _integer_format(method: str, quant: dict[str, Any]) -> str:
    """The weight format of an AWQ or GPTQ checkpoint, from its bits (4 when the config does not say)."""
    bits = quant.get("bits", quant.get("w_bit", 4))
    if isinstance(bits, bool) or not isinstance(bits, int) or (method, bits) not in INTEGER_FORMATS:
        served = ", ".join(f"{m} {b}-bit" for m, b in INTEGER_FORMATS)
        raise ModelConfigError(
            f"quantization_config: {method} with bits={repr(bits)[:20]} is not a width the sizing knows or vLLM's Marlin "
            f"kernels serve ({served}). To fix: use a checkpoint quantized to one of those widths, or pass the "
            "unquantized config.json and choose --weights explicitly.")
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
        raise ModelConfigError(f"config.json has {experts} experts but no 'num_experts_per_tok'. "
                               "To fix: pass the model's original config.json.")
    width = cfg.get("moe_intermediate_size") or _need(cfg, "intermediate_size", "config.json")
    shared = (cfg.get("n_shared_experts") or 0) * width + (cfg.get("shared_expert_intermediate_size") or 0)
    dense = int(cfg.get("first_k_dense_replace") or 0) + len(cfg.get("mlp_only_layers") or [])
    step = int(cfg.get("decoder_sparse_step") or cfg.get("moe_layer_freq") or 1)
    if step > 1:
        dense += num_layers - num_layers // step
    gpt_oss = cfg.get("model_type") == "gpt_oss"
    return MoeSpec(
        num_experts=experts, experts_per_token=top_k, expert_intermediate_size=width, shared_intermediate_size=shared,
        dense_layers=min(dense, num_layers), expert_bias=gpt_oss,
        router_bias=gpt_oss or cfg.get("topk_method") == "noaux_tc",
    )


def _mla(cfg: dict[str, Any]) -> MlaSpec | None:
    if not cfg.get("kv_lora_rank"):
        return None
    return MlaSpec(
        kv_lora_rank=cfg["kv_lora_rank"], q_lora_rank=cfg.get("q_lora_rank"), qk_nope_head_dim=cfg["qk_nope_head_dim"],
        qk_rope_head_dim=cfg["qk_rope_head_dim"], v_head_dim=cfg["v_head_dim"],
    )


def _sliding(cfg: dict[str, Any], num_layers: int) -> tuple[int | None, int]:
    """(window, number of sliding layers)."""
    window = cfg.get("sliding_window")
    kind = cfg.get("model_type")
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
    text, extra = _text_config(cfg, name)
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
            name=name, architecture=kind, hidden_size=hidden, num_layers=layers, num_attention_heads=heads,
            num_kv_heads=kv_heads, head_dim=head_dim, intermediate_size=_need(text, "intermediate_size", name),
            vocab_size=_need(text, "vocab_size", name),
            max_position_embeddings=text.get("max_position_embeddings") or 4096,
            tie_word_embeddings=bool(text.get("tie_word_embeddings", False)),
            qkv_bias=bool(text.get("attention_bias") or kind in ("qwen2", "qwen2_moe")),
            o_bias=bool(text.get("attention_bias")) and kind != "qwen2",
            qk_norm=kind in QK_NORM_FAMILIES, norms_per_layer=4 if kind in GEMMA_FAMILIES else 2,
            attention_sinks=kind == "gpt_oss", sliding_window=window, num_sliding_layers=sliding, rotary_dim=rotary,
            mla=mla, moe=_moe(text, layers), native_format=_native_format(text), extra_params=extra, source=source,
        )
    except ValidationError as exc:
        problems = "; ".join(e["msg"] for e in exc.errors())
        raise ModelConfigError(f"{name}: config.json is inconsistent: {problems}. To fix: check the file.") from None


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
