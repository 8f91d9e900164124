"""Refusing a config.json whose shape the engine would read only in part (sizing/data/config_keys.toml): a key that
names layers, experts, heads or widths and is neither read nor known to be harmless stops the count, by name."""

from __future__ import annotations

from functools import cache
from typing import Any

from sizing.catalog.files import read_toml
from sizing.errors import ModelConfigError


@cache
def _table() -> tuple[frozenset[str], frozenset[str], dict[str, str]]:
    """(shape words, keys read, harmless keys with their reasons)."""
    t = read_toml("config_keys.toml")
    return frozenset(t["shape_words"]), frozenset(t["read"]), dict(t["no_effect"])


def names_shape(key: str) -> bool:
    """The key's name holds a shape word (layers, experts, heads, size...)."""
    words, _, _ = _table()
    return any(part in words for part in key.lower().split("_"))


def unread_shape_keys(cfg: dict[str, Any]) -> list[str]:
    """Keys of one config level that name a shape, turn something on, and that the engine neither reads nor knows to
    be harmless. Nested objects (text_config, vision_config, rope_scaling, quantization_config) are not this level's."""
    _, read, harmless = _table()
    return [
        k
        for k, v in cfg.items()
        if not k.startswith("_")
        and k not in read
        and k not in harmless
        and v not in (None, False, 0, [], "")
        and not isinstance(v, dict)
        and names_shape(k)
    ]


def check_shape_keys(cfg: dict[str, Any], where: str, part: str = "") -> None:
    """Raise ModelConfigError naming each key that could change the parameter count or the KV cache size and is not
    understood, instead of counting without it."""
    unread = unread_shape_keys(cfg)
    if unread:
        shown = ", ".join(f"{part}{k}={cfg[k]!r}"[:80] for k in unread[:5])
        raise ModelConfigError(
            f"{where}: config.json has {shown}, which may change the parameter count or the KV cache size and which "
            "the sizing engine does not read, so a count would be silently wrong. To fix: use a preset or a model "
            "whose keys are read (sizing/data/config_keys.toml lists them), or, for the memory command, give raw "
            "numbers (--params-b, --layers, --kv-heads, --head-dim)."
        )


def sliding_split_refusal(cfg: dict[str, Any], where: str) -> None:
    """Qwen2's max_window_layers splits the layers into full and sliding-window ones when use_sliding_window is on;
    the engine counts the window on every layer, so a partial split is refused."""
    layers, split = cfg.get("num_hidden_layers"), cfg.get("max_window_layers")
    if cfg.get("use_sliding_window") and cfg.get("sliding_window") and split and layers and split < layers:
        raise ModelConfigError(
            f"{where}: config.json has use_sliding_window=true with max_window_layers={split} of {layers} layers: "
            "only some layers use the window, which the sizing engine does not read. To fix: pass a config with "
            "use_sliding_window false (as the published Qwen2 checkpoints have), or size it with raw numbers."
        )
