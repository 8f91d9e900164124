"""Reading config.json: attention kinds, MLA, MoE, sliding windows, tied embeddings, nested configs, bad files."""

import json

import pytest

from sizing.errors import ModelConfigError, SizingError
from sizing.models.hf_config import spec_from_file, spec_from_hf_config
from sizing.models.params import total_params
from sizing.models.presets import load_preset, resolve_model
from tests.conftest import DATA, test_config


@pytest.mark.parametrize("name,kind", [("llama-3.1-8b", "gqa"), ("deepseek-v3", "mla"), ("gpt-oss-20b", "gqa")])
def test_attention_kind_of_presets(name, kind):
    assert load_preset(name).attention_kind == kind


def test_mha_and_mqa():
    assert test_config("codellama-7b").attention_kind == "mha"
    assert test_config("mqa-tiny").attention_kind == "mqa"


def test_explicit_head_dim_wins_over_hidden_over_heads():
    gemma = load_preset("gemma-2-9b")  # 3584 / 16 = 224, but head_dim is 256
    assert gemma.head_dim == 256
    qwen3 = load_preset("qwen3-32b")  # 5120 / 64 = 80, but head_dim is 128
    assert qwen3.head_dim == 128


def test_sliding_window_layers():
    assert (load_preset("gemma-2-9b").sliding_window, load_preset("gemma-2-9b").num_sliding_layers) == (4096, 21)
    assert (load_preset("gpt-oss-120b").sliding_window, load_preset("gpt-oss-120b").num_sliding_layers) == (128, 18)
    assert load_preset("qwen2.5-7b").sliding_window is None  # use_sliding_window: false
    assert load_preset("mistral-7b").num_sliding_layers == 0


def test_moe_shapes():
    v3 = load_preset("deepseek-v3")
    assert (v3.moe.num_experts, v3.moe.experts_per_token, v3.moe.dense_layers) == (256, 8, 3)
    assert v3.moe.shared_intermediate_size == 2048
    assert v3.mla.kv_lora_rank == 512
    qwen = load_preset("qwen3-235b-a22b")
    assert (qwen.moe.num_experts, qwen.moe.experts_per_token, qwen.moe.dense_layers) == (128, 8, 0)


def test_native_formats_from_quantization_config():
    assert load_preset("deepseek-v3").native_format == "fp8-block"
    assert load_preset("gpt-oss-20b").native_format == "mxfp4"
    assert test_config("llama-2-70b").native_format == "fp16"


def test_nested_multimodal_config_is_read_with_its_vision_encoder():
    spec = test_config("gemma-3-4b-it")
    assert spec.architecture == "gemma3_text"
    assert spec.num_sliding_layers == 34 - 34 // 6
    assert spec.extra_params > 0
    # Gemma 3 4B: 4.30B in all (model card), of which the SigLIP encoder and projector are ~0.42B.
    assert total_params(spec) / 1e9 == pytest.approx(4.30, rel=0.01)


def test_nested_config_without_countable_vision_is_refused(tmp_path):
    cfg = json.loads((DATA / "configs" / "gemma-3-4b-it.json").read_text())
    del cfg["vision_config"]["patch_size"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    with pytest.raises(ModelConfigError, match=r"vision_config lacks \['patch_size'\].*To fix"):
        spec_from_file(path)


def test_missing_key_names_it():
    with pytest.raises(ModelConfigError, match=r"no 'num_hidden_layers'.*To fix"):
        spec_from_hf_config({"hidden_size": 64, "num_attention_heads": 4}, name="x")


def test_inconsistent_heads_are_refused():
    cfg = {
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "num_attention_heads": 6,
        "num_key_value_heads": 4,
        "intermediate_size": 128,
        "vocab_size": 100,
    }
    with pytest.raises(ModelConfigError, match="not a multiple of num_kv_heads"):
        spec_from_hf_config(cfg, name="x")


def test_bad_json_and_missing_file(tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    with pytest.raises(ModelConfigError, match="not valid JSON"):
        resolve_model(str(bad))
    with pytest.raises(ModelConfigError, match="does not exist"):
        resolve_model(str(tmp_path / "nope.json"))


def test_unknown_quantization_is_refused():
    cfg = json.loads((DATA / "configs" / "codellama-7b.json").read_text())
    cfg["quantization_config"] = {"quant_method": "bitsandbytes"}
    with pytest.raises(ModelConfigError, match="bitsandbytes"):
        spec_from_hf_config(cfg, name="x")


def test_unknown_preset_suggests_close_names():
    with pytest.raises(LookupError) as info:
        load_preset("llama-3.1-7b")
    message = str(info.value)
    assert "Did you mean" in message and "llama-3.1-8b" in message and "To fix" in message
    assert isinstance(info.value, SizingError)


def test_preset_by_repo_id():
    assert load_preset("meta-llama/Llama-3.1-70B-Instruct").name == "llama-3.1-70b"
