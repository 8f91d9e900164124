"""Weight bytes per GPU, derived by hand: formats, what stays 16-bit, TP/PP sharding."""

import pytest

from sizing.catalog.formats import flat_format, get_format
from sizing.errors import InvalidInputError
from sizing.memory.layout import Layout
from sizing.memory.weights import total_weight_bytes, weight_bytes_per_gpu
from sizing.models.presets import load_preset

GIB = 2**30


def test_bf16_is_two_bytes_per_param(llama8b):
    assert total_weight_bytes(llama8b, get_format("bf16")) == 2 * 8_030_261_248


def test_int4_70b_is_not_35_gb():
    m = load_preset("llama-3.1-70b")
    embeddings = 2 * 128256 * 8192  # embed + lm_head stay 16-bit
    norms = 80 * 2 * 8192 + 8192
    linear = 70_553_706_496 - embeddings - norms
    expected = linear * (0.5 + (2 + 0.5) / 128) + (embeddings + norms) * 2
    got = total_weight_bytes(m, get_format("int4-awq"))
    assert got == pytest.approx(expected, rel=1e-9)
    assert got / 1e9 == pytest.approx(39.76, abs=0.01)  # decimal GB, not the rule-of-thumb 35 GB


def test_fp8_keeps_embeddings_16bit(llama8b):
    embeddings = 2 * 128256 * 4096
    norms = 32 * 2 * 4096 + 4096
    expected = (8_030_261_248 - embeddings - norms) * 1 + (embeddings + norms) * 2
    assert total_weight_bytes(llama8b, get_format("fp8")) == expected


def test_mxfp4_quantizes_only_experts():
    m = load_preset("gpt-oss-120b")
    experts = 36 * 128 * (3 * 2880 * 2880 + 2 * 2880 + 2880)
    rest = 116_829_156_672 - experts
    expected = experts * (0.5 + 1 / 32) + rest * 2
    assert total_weight_bytes(m, get_format("mxfp4")) == pytest.approx(expected, rel=1e-9)
    assert total_weight_bytes(m, get_format("mxfp4")) / GIB == pytest.approx(60.8, abs=0.1)  # fits one 80 GB GPU


def test_tp_shards_and_replicates_what_it_must():
    m = load_preset("deepseek-v3")  # MLA: q_a and kv_a projections are replicated on every rank
    one = weight_bytes_per_gpu(m, get_format("fp8-block"), Layout(tp=1))
    eight = weight_bytes_per_gpu(m, get_format("fp8-block"), Layout(tp=8))
    assert one / 8 < eight < one / 7.9


def test_pp_stage_holds_its_layers_plus_an_end(llama8b):
    bf16 = get_format("bf16")
    stage = weight_bytes_per_gpu(llama8b, bf16, Layout(pp=2))
    per_layer = 218_112_000 * 2
    last_stage_ends = (128256 * 4096 + 4096) * 2  # lm_head and final norm; the first stage's embedding is smaller
    assert stage == 16 * per_layer + last_stage_ends


def test_flat_format_rejects_nonsense():
    with pytest.raises(InvalidInputError, match="bytes-per-param"):
        flat_format(0)


def test_unknown_format_did_you_mean():
    with pytest.raises(LookupError, match="Did you mean 'fp8'"):
        get_format("fp88")
