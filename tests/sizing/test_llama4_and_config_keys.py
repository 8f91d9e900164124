"""Issue 19, reproducer 3: Llama 4 config.json files read completely (interleaved MoE layers, the dense MLP width, the
shared expert, chunked attention, the vision adapter), golden against the published totals; and any config key that
may change the parameter count or the KV cache size, if not understood, refused by name instead of counted without."""

import json
import tomllib

import pytest

from sizing.catalog.files import DATA_DIR
from sizing.catalog.formats import get_format
from sizing.errors import ModelConfigError
from sizing.memory.layout import Layout
from sizing.memory.weights import stage_weights
from sizing.models.config_keys import names_shape
from sizing.models.hf_config import spec_from_file, spec_from_hf_config
from sizing.models.params import active_params, total_params
from sizing.models.presets import load_preset, preset_names
from tests.conftest import DATA, test_config

LLAMA4 = ["llama-4-scout", "llama-4-maverick"]


@pytest.mark.parametrize("name", LLAMA4)
def test_llama4_total_is_the_published_one_exactly(name):
    """Before: Scout 102.55B (published 108.64B), Maverick 779.03B (published 401.58B)."""
    cfg = json.loads((DATA / "configs" / f"{name}.json").read_text())
    assert total_params(test_config(name)) == cfg["_published_params_total"], cfg["_published_params_total_source"]


@pytest.mark.parametrize("name", LLAMA4)
def test_llama4_active_is_17b(name):
    """Model cards: 17B active (one routed expert plus the shared expert per MoE layer; the vision encoder runs on
    images only). Before: about 12B, the shared expert missing."""
    assert active_params(test_config(name)) / 1e9 == pytest.approx(17.17, abs=0.02)


def test_maverick_interleaves_moe_and_dense_layers():
    m = test_config("llama-4-maverick")
    assert m.num_moe_layers == 24
    assert [m.is_moe_layer(i) for i in range(4)] == [False, True, False, True]
    assert m.intermediate_size == 16384  # the dense layers' MLP (intermediate_size_mlp)
    assert m.moe.expert_intermediate_size == 8192 and m.moe.shared_intermediate_size == 8192
    # Two pipeline stages each hold 12 of the 24 MoE layers: no stage holds all the experts.
    stages = stage_weights(m, get_format("bf16"), Layout(tp=8, pp=2))
    assert stages[0].expert_bytes == pytest.approx(stages[1].expert_bytes, rel=1e-9)


def test_scout_is_moe_in_every_layer():
    assert test_config("llama-4-scout").num_moe_layers == 48


@pytest.mark.parametrize("name", LLAMA4)
def test_llama4_chunked_attention_is_a_window_on_rope_layers(name):
    m = test_config(name)
    assert (m.sliding_window, m.num_sliding_layers) == (8192, 36)  # 3 RoPE (chunked) layers in 4; NoPE ones global


def _llama(**extra):
    base = {
        "model_type": "llama",
        "hidden_size": 4096,
        "num_hidden_layers": 32,
        "num_attention_heads": 32,
        "num_key_value_heads": 8,
        "intermediate_size": 14336,
        "vocab_size": 128256,
    }
    return {**base, **extra}


@pytest.mark.parametrize(
    "key,value",
    [
        ("cross_attention_layers", [3, 8, 13]),
        ("mlp_bias", True),
        ("full_attention_interval", 4),
        ("linear_num_value_heads", 32),
        ("kv_channels", 128),
        ("hybrid_override_pattern", "M-M*"),
    ],
)
def test_unread_shape_key_is_refused_by_name(key, value):
    with pytest.raises(ModelConfigError, match=rf"{key}=.*does not read.*To fix"):
        spec_from_hf_config(_llama(**{key: value}), name="x")


def test_unread_shape_key_inside_text_config_is_refused():
    cfg = {"model_type": "mllama", "text_config": _llama(cross_attention_layers=[3, 8])}
    with pytest.raises(ModelConfigError, match="text_config.cross_attention_layers"):
        spec_from_hf_config(cfg, name="x")


def test_a_key_that_turns_nothing_on_is_not_refused():
    assert spec_from_hf_config(_llama(mlp_bias=False, sliding_window=None, pad_token_id=0), name="x").num_layers == 32


def test_unknown_layer_kind_is_refused():
    with pytest.raises(ModelConfigError, match="'linear_attention'.*To fix"):
        spec_from_hf_config(_llama(layer_types=["linear_attention", "full_attention"] * 16), name="x")


def test_partial_sliding_split_is_refused():
    with pytest.raises(ModelConfigError, match="max_window_layers=28 of 32"):
        spec_from_hf_config(
            _llama(use_sliding_window=True, sliding_window=4096, max_window_layers=28, max_position_embeddings=32768),
            name="x",
        )


def test_irregular_moe_layers_are_refused():
    cfg = json.loads((DATA / "configs" / "llama-4-maverick.json").read_text())
    cfg["text_config"]["moe_layers"] = [1, 3, 4, 7]
    with pytest.raises(ModelConfigError, match="moe_layers=.*not one MoE layer every N"):
        spec_from_hf_config(cfg, name="x")


def test_every_preset_and_test_config_reads_without_refusal():
    for name in preset_names():
        load_preset(name)
    for path in (DATA / "configs").glob("*.json"):
        spec_from_file(path)


def test_harmless_keys_each_name_a_shape_and_say_why():
    table = tomllib.loads((DATA_DIR / "config_keys.toml").read_text())
    for key, why in table["no_effect"].items():
        assert names_shape(key) and why, key  # a key without a shape word is never checked: listing it says nothing
    assert not set(table["no_effect"]) & set(table["read"])
