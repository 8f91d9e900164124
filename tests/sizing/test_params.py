"""Parameter counts from the architecture against published totals (tests/data/models.csv and model cards)."""

import pytest

from sizing.models.params import active_params, matmul_params, total_params
from sizing.models.presets import load_preset, preset_names
from tests.conftest import read_rows, test_config

PRESET_FOR_ROW = {
    "meta-llama/Llama-3.1-8B": "llama-3.1-8b",
    "meta-llama/Llama-3.1-70B": "llama-3.1-70b",
    "meta-llama/Llama-3.1-405B": "llama-3.1-405b",
    "mistralai/Mistral-7B-v0.3": "mistral-7b",
    "Qwen/Qwen2.5-7B": "qwen2.5-7b",
    "google/gemma-2-9b": "gemma-2-9b",
    "deepseek-ai/DeepSeek-V3": "deepseek-v3",
}
TOLERANCE = 0.001  # the bar: within 0.1% of the published total


@pytest.mark.parametrize("row", read_rows("models.csv"), ids=lambda r: r["model"])
def test_param_count_matches_published_total(row):
    published = int(row["params_total"].split()[0])
    counted = total_params(load_preset(PRESET_FOR_ROW[row["model"]]))
    assert abs(counted - published) / published <= TOLERANCE
    assert counted == published  # in fact exact: every tensor is accounted for


# Published totals from the model cards / safetensors metadata (source in each tuple).
MODEL_CARD_TOTALS = [
    ("llama-3.3-70b", 70_553_706_496, "same architecture as Llama 3.1 70B"),
    ("mixtral-8x7b", 46_702_792_704, "Mixtral 8x7B safetensors total"),
    ("mixtral-8x22b", 140_630_071_296, "Mixtral 8x22B: 141B per model card"),
    ("qwen2.5-72b", 72_706_203_648, "Qwen2.5-72B model card: 72.7B"),
    ("qwen3-8b", 8_190_735_360, "Qwen3-8B model card: 8.2B"),
    ("qwen3-32b", 32_762_123_264, "Qwen3-32B model card: 32.8B"),
    ("qwen3-235b-a22b", 235_093_634_560, "Qwen3-235B-A22B model card: 235B total, 22B active"),
    ("gemma-2-27b", 27_227_128_320, "gemma-2-27b: 27.2B"),
    ("gpt-oss-20b", 20_914_757_184, "gpt-oss model card: 20.91B total, 3.61B active"),
    ("gpt-oss-120b", 116_829_156_672, "gpt-oss model card: 116.83B total, 5.13B active"),
]


@pytest.mark.parametrize("name,published,source", MODEL_CARD_TOTALS)
def test_presets_match_model_card_totals(name, published, source):
    assert abs(total_params(load_preset(name)) - published) / published <= TOLERANCE


@pytest.mark.parametrize("name,active_b", [("mixtral-8x7b", 12.9), ("qwen3-235b-a22b", 22.2), ("deepseek-v3", 37.5)])
def test_moe_active_params(name, active_b):
    assert active_params(load_preset(name)) / 1e9 == pytest.approx(active_b, rel=0.01)


@pytest.mark.parametrize("name,active_b", [("gpt-oss-20b", 3.61), ("gpt-oss-120b", 5.13)])
def test_gpt_oss_active_excludes_embedding(name, active_b):
    # The gpt-oss card counts active parameters without the input embedding, as matmul_params does.
    assert matmul_params(load_preset(name)) / 1e9 == pytest.approx(active_b, rel=0.01)


def test_every_required_preset_exists():
    required = {
        "llama-3.1-8b",
        "llama-3.1-70b",
        "llama-3.1-405b",
        "llama-3.3-70b",
        "mistral-7b",
        "mixtral-8x7b",
        "mixtral-8x22b",
        "qwen2.5-7b",
        "qwen2.5-72b",
        "qwen3-8b",
        "qwen3-32b",
        "qwen3-235b-a22b",
        "gemma-2-9b",
        "gemma-2-27b",
        "deepseek-v3",
        "gpt-oss-20b",
        "gpt-oss-120b",
    }
    assert required <= set(preset_names())


def test_presets_carry_a_source():
    for name in preset_names():
        assert "huggingface.co" in load_preset(name).source


def test_tied_embeddings_counted_once():
    gemma = load_preset("gemma-2-9b")
    untied = gemma.model_copy(update={"tie_word_embeddings": False})
    assert total_params(untied) - total_params(gemma) == gemma.vocab_size * gemma.hidden_size


def test_calibration_only_models():
    # CodeLlama-7b: 6.74B (model card); DeepSeek-V2-Lite: 15.7B (model card).
    assert total_params(test_config("codellama-7b")) / 1e9 == pytest.approx(6.74, rel=0.002)
    assert total_params(test_config("deepseek-v2-lite")) / 1e9 == pytest.approx(15.7, rel=0.003)
