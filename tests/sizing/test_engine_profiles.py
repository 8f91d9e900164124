"""Engine profiles (sizing/data/engines.toml): vLLM 0.34 beside 0.19, scheduler defaults as each release's source sets
them (vllm/engine/arg_utils.py EngineArgs.get_batch_defaults, vllm/config/cache.py), and which memory constants were
measured on the release and which were carried over."""

import pytest

from sizing.catalog.engines import all_engines, get_engine
from sizing.catalog.formats import get_format
from sizing.catalog.gpus import get_gpu
from sizing.memory.budget import EngineSettings, memory_breakdown
from sizing.memory.layout import Layout
from sizing.models.presets import load_preset

MEMORY_CONSTANTS = (
    "cuda_context_gib",
    "nccl_buffers_gib",
    "cuda_graph_pool_gib",
    "forward_mlp_factor",
    "forward_hidden_factor",
    "sampler_bytes_per_logit",
    "sliding_window_kv_savings",
)
"""The profile's figures fitted to start-up logs: each release says whether it measured them or carried them over."""


@pytest.mark.parametrize("name", ["vllm-0.19", "vllm-0.34"])
def test_every_memory_constant_is_measured_or_carried_over(name):
    e = get_engine(name)
    assert set(e.measured) | set(e.carried_over) == set(MEMORY_CONSTANTS)
    assert not set(e.measured) & set(e.carried_over)
    assert e.defaults_source and e.image.endswith(e.version) or e.image.endswith("v" + e.version)


@pytest.mark.parametrize(
    "engine,gpu,tokens,seqs",
    [
        ("vllm-0.34", "B200", 16384, 1024),  # >= 160 GiB: the largest defaults, API server included
        ("vllm-0.34", "H200", 8192, 1024),  # 139.8 GiB visible: below 160
        ("vllm-0.34", "H100", 8192, 1024),
        ("vllm-0.34", "A100-80GB", 2048, 256),  # '"a100" not in device_name'
        ("vllm-0.34", "L40S", 2048, 256),
        ("vllm-0.19", "B200", 8192, 1024),  # 0.19 had no 160 GiB tier
        ("vllm-0.19", "A100-80GB", 2048, 256),  # the same A100 check in 0.19's source
    ],
)
def test_scheduler_defaults_follow_the_release_source(engine, gpu, tokens, seqs):
    e, g = get_engine(engine), get_gpu(gpu)
    assert e.max_num_batched_tokens(g.visible_memory_gib, 4096, g.name) == tokens
    assert e.max_num_seqs(g.visible_memory_gib, g.name) == seqs


def test_issue19_also_current_release_defaults_reach_the_plan():
    """Issue 19, "Also": the profile was vLLM 0.19 only, while newer releases budget 16,384 tokens per step on GPUs
    with 160 GiB or more, which sets the activation peak and the prefill chunk the plan depends on."""
    m, gpu = load_preset("llama-3.1-70b"), get_gpu("B200")
    settings = EngineSettings(max_model_len=8192, kv_element_bytes=2)
    new = memory_breakdown(m, gpu, get_format("bf16"), Layout(tp=2), get_engine("vllm-0.34"), settings)
    old = memory_breakdown(m, gpu, get_format("bf16"), Layout(tp=2), get_engine("vllm-0.19"), settings)
    assert (new.max_num_batched_tokens, old.max_num_batched_tokens) == (16384, 8192)
    assert new.kv_cache_tokens % 64 == 0 and get_engine("vllm-0.34").block_size_tokens == 64


def test_extensible_kv_cache_keeps_its_margin_and_the_graphs_inside():
    """vLLM 0.34 sizes the cache after warm-up: at utilization 1.0 the device less the CUDA context, what is resident
    (weights, NCCL buffers, CUDA graphs) and the peak, less a margin of max(1 GiB, 0.75 x peak)."""
    e, gpu, m = get_engine("vllm-0.34"), get_gpu("H100"), load_preset("llama-3.1-8b")
    mem = memory_breakdown(
        m, gpu, get_format("bf16"), Layout(tp=1), e, EngineSettings(max_model_len=8192, kv_element_bytes=2)
    )
    margin = max(e.kv_margin_floor_gib, e.kv_margin_peak_fraction * mem.activation_gib)
    expected = (
        gpu.visible_memory_gib
        - mem.weights_gib
        - mem.activation_gib
        - mem.non_torch_gib
        - e.cuda_graph_pool_gib
        - margin
    )
    assert mem.gpu_memory_utilization == 1.0
    assert mem.kv_cache_gib == pytest.approx(expected, abs=1e-6)


def test_profiles_are_all_listed():
    assert {"vllm-0.19", "vllm-0.34"} <= set(all_engines())
