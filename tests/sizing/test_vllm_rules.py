"""What vLLM 0.19 accepts (sizing/data/vllm_rules.toml): each issue-9 reproducer gets vLLM's own answer, with the rule
named in the rejection."""

import pytest

from sizing.catalog.engines import get_engine
from sizing.catalog.formats import get_format
from sizing.catalog.gpus import get_gpu
from sizing.catalog.vllm_rules import layout_refusal, rules
from sizing.cli.main import main
from sizing.memory.budget import EngineSettings, memory_breakdown
from sizing.memory.layout import Layout
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload

GPT_OSS_H100_LOADED_GIB = 64.38
"""vllm-project/vllm issue 33155 (H100, Triton MXFP4 backend): 'Model loading took 64.38 GiB memory'."""
GPT_OSS_H100_KV_GIB_AT_095 = 1.71
"""vllm-project/vllm issue 27508 (H100, --gpu-memory-utilization 0.95): 'Available KV cache memory: 1.71 GiB', then
the engine refuses 131072-token requests."""


def test_every_rule_names_its_source():
    assert rules() and all(r.source and r.title for r in rules().values())


def qwen3_plan():
    """`plan --model qwen3-235b-a22b --weights fp8-block --concurrency 32 --input-tokens 2000 --output-tokens 1000
    --tpot-ms 50`."""
    return plan(
        PlanRequest(
            model=load_preset("qwen3-235b-a22b"),
            deployment=Deployment(weights="fp8-block"),
            workload=Workload(concurrency=32, input_tokens=2000, output_tokens=1000, tpot_ms=50),
        )
    )


def test_qwen3_fp8_block_never_plans_tp8_with_sliced_experts():
    """1536 / 8 = 192 is not a multiple of 128: vLLM refuses TP8 unless --enable-expert-parallel keeps experts whole;
    the model's recipe runs TP4 (or TP8 with EP)."""
    p = qwen3_plan()
    c = p.choice  # the cheapest may be another layout (PP on a PCIe type); the recipe must be among those shown
    assert (c.tensor_parallel, c.expert_parallel) != (8, False)
    assert any(
        (x.tensor_parallel, x.expert_parallel) in {(4, False), (8, True)}
        for x in [c] + [a.candidate for a in p.alternatives]
    )
    assert all(not (a.candidate.tensor_parallel == 8 and not a.candidate.expert_parallel) for a in p.alternatives)
    refused = [
        r for r in p.rejected if r.tensor_parallel == 8 and not r.expert_parallel and r.instance_type == "p5.48xlarge"
    ]
    assert refused and all(
        r.kind == "layout" and "block-quant-per-rank" in r.reason and "192" in r.reason for r in refused
    )


def test_expert_parallelism_lifts_the_block_rule():
    m, fmt = load_preset("qwen3-235b-a22b"), get_format("fp8-block")
    assert layout_refusal(m, fmt, Layout(tp=8)).rule.id == "block-quant-per-rank"
    assert layout_refusal(m, fmt, Layout(tp=8, ep=True)) is None
    assert layout_refusal(m, fmt, Layout(tp=4)) is None


def test_block_fp8_on_a100_is_refused_by_kernel_rule():
    p = qwen3_plan()
    a100 = [r for r in p.rejected if r.instance_type in ("p4d.24xlarge", "p4de.24xlarge")]
    assert a100 and all(r.kind == "engine" and "kernel-capability" in r.reason for r in a100)
    assert p.choice.gpu not in ("A100-SXM-40GB", "A100-SXM-80GB")


def gpt_oss_on_h100():
    return memory_breakdown(
        load_preset("gpt-oss-120b"),
        get_gpu("H100"),
        get_format("mxfp4"),
        Layout(),
        get_engine(),
        EngineSettings(gpu_memory_utilization=0.95, max_model_len=131072, kv_element_bytes=2),
    )


def test_gpt_oss_120b_startup_memory_matches_vllm_logs():
    """Weights within 1% of the loaded size vLLM logs; KV within 0.5 GiB of what it reports (before: 11.3 GiB)."""
    mem = gpt_oss_on_h100()
    assert mem.weights_gib == pytest.approx(GPT_OSS_H100_LOADED_GIB, rel=0.01)
    assert mem.kv_cache_gib == pytest.approx(GPT_OSS_H100_KV_GIB_AT_095, abs=0.5)
    assert not mem.fits


def test_memory_cli_agrees_with_vllms_refusal(capsys):
    code = main(
        [
            "memory",
            "--model",
            "gpt-oss-120b",
            "--gpu",
            "H100",
            "--max-model-len",
            "131072",
            "--gpu-memory-utilization",
            "0.95",
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    assert "engine refuses to start" in out and "mxfp4-hopper-startup-peak" in out


def test_memory_cli_names_the_block_rule(capsys):
    code = main(
        [
            "memory",
            "--model",
            "qwen3-235b-a22b",
            "--weights",
            "fp8-block",
            "--gpu",
            "H100",
            "--tp",
            "8",
            "--max-model-len",
            "8192",
        ]
    )
    assert code == 1 and "block-quant-per-rank" in capsys.readouterr().out


def test_attention_sinks_need_ampere_or_newer():
    p = plan(PlanRequest(model=load_preset("gpt-oss-20b"), deployment=Deployment(weights="bf16")))
    t4 = [r for r in p.rejected if r.instance_type.startswith("g4dn")]
    assert t4 and all("attention-sinks-backend" in r.reason for r in t4)
