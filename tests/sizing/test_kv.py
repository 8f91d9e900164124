"""KV cache bytes per token, derived by hand and against tests/data/models.csv."""

import pytest

from sizing.memory.kv import kv_bytes_per_token, kv_bytes_per_token_model, stage_kv_bytes_per_request
from sizing.memory.layout import Layout, stage_layer_counts
from sizing.models.presets import load_preset
from tests.conftest import read_rows
from tests.sizing.test_params import PRESET_FOR_ROW


@pytest.mark.parametrize("row", read_rows("models.csv"), ids=lambda r: r["model"])
def test_kv_bytes_per_token_matches_table(row):
    expected = int(row["kv_bytes_per_token_bf16"].split()[0])
    assert kv_bytes_per_token_model(load_preset(PRESET_FOR_ROW[row["model"]]), 2) == expected


def test_llama_8b_by_hand():
    # 32 layers x 2 (K,V) x 8 heads x 128 x 2 bytes = 131072
    assert kv_bytes_per_token(load_preset("llama-3.1-8b"), 2, Layout()) == 32 * 2 * 8 * 128 * 2


def test_tp_splits_kv_heads_then_replicates():
    m = load_preset("llama-3.1-70b")  # 8 KV heads
    per = [kv_bytes_per_token(m, 2, Layout(tp=tp)) for tp in (1, 2, 4, 8)]
    assert per == [327680, 163840, 81920, 40960]
    # TP=16 > 8 KV heads: every rank still holds one head
    assert kv_bytes_per_token(m, 2, Layout(tp=16)) == 40960


def test_qwen_tp4_holds_one_of_four_heads():
    assert kv_bytes_per_token(load_preset("qwen2.5-7b"), 2, Layout(tp=4)) == 57344 // 4


def test_mla_full_copy_on_every_rank():
    m = load_preset("deepseek-v3")
    assert kv_bytes_per_token(m, 2, Layout(tp=1)) == 61 * (512 + 64) * 2
    assert kv_bytes_per_token(m, 2, Layout(tp=8)) == 61 * (512 + 64) * 2


def test_fp8_halves():
    m = load_preset("llama-3.1-8b")
    assert kv_bytes_per_token(m, 1, Layout()) * 2 == kv_bytes_per_token(m, 2, Layout())


def test_pp_splits_layers_like_vllm():
    assert stage_layer_counts(126, 4) == (31, 32, 32, 31)
    assert stage_layer_counts(80, 2) == (40, 40)
    m = load_preset("llama-3.1-405b")
    assert kv_bytes_per_token(m, 2, Layout(tp=8, pp=4)) == 32 * 2 * 1 * 128 * 2


def test_sliding_layers_bounded_by_window():
    m = load_preset("gemma-2-9b")  # 21 sliding (4096) + 21 full layers, 8192 bytes per token per layer
    per_layer = 2 * 8 * 256 * 2
    full = stage_kv_bytes_per_request(m, 2, Layout(), 8192, sliding_savings=False)[0]
    bounded = stage_kv_bytes_per_request(m, 2, Layout(), 8192, sliding_savings=True)[0]
    assert full == 42 * 8192 * per_layer
    assert bounded == (21 * 8192 + 21 * 4096) * per_layer
    short = stage_kv_bytes_per_request(m, 2, Layout(), 1000, sliding_savings=True)[0]
    assert short == 42 * 1000 * per_layer
