"""The tutorial's four questions, answered with the engine's real accounting and derived here by hand.

The tutorial prints 15.0 / 16.4 / 41.0 / 42.4 "GB" for these; its own formula gives 14.6 / 19.8 / 36.5 / 49.6 GiB; both
miss the rotary table, the engine's activation peak and its CUDA context and graph pool, and use 7B for an 8.03B
model and 0.5 bytes per INT4 weight with no group scales or 16-bit embeddings."""

import pytest

from sizing.catalog.engines import get_engine
from sizing.catalog.formats import get_format
from sizing.memory.demand import memory_demand
from sizing.memory.layout import Layout
from sizing.models.presets import load_preset

GIB = 2**30
ENGINE = get_engine("vllm-0.19")
OVERHEAD = (0.25 + 0.91) * GIB  # CUDA context + CUDA graph pool (vLLM 0.19, S1)
TOKENS = 8192  # max_num_batched_tokens profiled on a >= 70 GiB GPU


def by_hand_8b(batch: int) -> float:
    weights = 8_030_261_248 * 2 + 131072 * 128 * 2  # bf16 weights + rotary table (131072 positions x 128 x bf16)
    kv = batch * 2048 * (32 * 2 * 8 * 128 * 2)  # requests x tokens x (layers x K,V x heads x dim x bytes)
    activation = TOKENS * (4 * 14336 + 4 * 4096) * 2  # forward peak beats the sampler (batch x 128256 x 15.2 B)
    return (weights + kv + activation + OVERHEAD) / GIB


def by_hand_70b_int4(batch: int) -> float:
    embeddings, norms = 2 * 128256 * 8192, 80 * 2 * 8192 + 8192
    linear = 70_553_706_496 - embeddings - norms
    weights = linear * (0.5 + 2.5 / 128) + (embeddings + norms) * 2 + 131072 * 128 * 2
    kv = batch * 2048 * (80 * 2 * 8 * 128 * 2)
    activation = TOKENS * (4 * 28672 + 4 * 8192) * 2
    return (weights + kv + activation + OVERHEAD) / GIB


@pytest.mark.parametrize("batch,expected_gib", [(1, 17.52), (20, 22.27)])
def test_llama3_8b_fp16_2k_context(batch, expected_gib):
    got = memory_demand(load_preset("llama-3.1-8b"), get_format("bf16"), Layout(), ENGINE, 2, batch, 2048)
    assert got.total_gib == pytest.approx(by_hand_8b(batch), rel=1e-9)
    assert got.total_gib == pytest.approx(expected_gib, abs=0.01)


@pytest.mark.parametrize("batch,expected_gib", [(1, 41.10), (20, 52.98)])
def test_llama3_70b_int4_2k_context(batch, expected_gib):
    got = memory_demand(load_preset("llama-3.1-70b"), get_format("int4-awq"), Layout(), ENGINE, 2, batch, 2048)
    assert got.total_gib == pytest.approx(by_hand_70b_int4(batch), rel=1e-9)
    assert got.total_gib == pytest.approx(expected_gib, abs=0.01)


def test_20_requests_add_exactly_their_kv():
    m = load_preset("llama-3.1-8b")
    one = memory_demand(m, get_format("bf16"), Layout(), ENGINE, 2, 1, 2048)
    twenty = memory_demand(m, get_format("bf16"), Layout(), ENGINE, 2, 20, 2048)
    assert twenty.kv_cache_gib - one.kv_cache_gib == pytest.approx(19 * 0.25)
