"""--weights auto (plan's default on the command line) and --weights native."""

from sizing.cli.commands import plan_request
from sizing.cli.main import _parser
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload

TPOT_20 = Workload(tpot_ms=20)


def eight_b(weights: str):
    return plan(
        PlanRequest(model=load_preset("llama-3.1-8b"), workload=TPOT_20, deployment=Deployment(weights=weights))
    )


def test_auto_serves_an_8b_model_in_fp8():
    """Issue 9: at TPOT 20 ms the checkpoint's own bf16 bought a TP4 A10G box (g5.12xlarge, 3x one L40S); with the
    steady-state load model the cheapest bf16 fleet is one H100 (p5.4xlarge, $6.88/h). FP8 is cheaper on every GPU
    with FP8 kernels: one g7e (RTX PRO 6000) or three L40S, from the published FP8 release (no --quantization)."""
    native, auto = eight_b("native"), eight_b("auto")
    assert native.weights == native.choice.weights == "bf16"
    assert (auto.weights, auto.choice.weights) == ("fp8", "fp8")
    assert auto.choice.gpu in ("RTX-PRO-6000-96GB", "L40S-48GB")
    assert auto.hourly_cost_usd < 0.85 * native.hourly_cost_usd
    l40s = [a.candidate for a in auto.alternatives if a.candidate.gpu == "L40S-48GB"]
    assert l40s and all(c.weights == "fp8" and c.hourly_cost_usd < native.hourly_cost_usd for c in l40s[:1])


def test_every_alternative_says_its_format():
    p = plan(
        PlanRequest(
            model=load_preset("llama-3.1-8b"),
            workload=TPOT_20,
            deployment=Deployment(
                weights="auto", instance_types=("g5.12xlarge", "g5.2xlarge", "g6e.xlarge", "p5.4xlarge")
            ),
        )
    )
    formats = {a.candidate.weights for a in p.alternatives}
    assert formats == {"bf16", "fp8"}
    assert all(
        a.candidate.weights == "fp8" for a in p.alternatives if a.candidate.gpu in ("L40S-48GB", "H100-SXM-80GB")
    )
    # Ampere has no FP8 tensor cores: both its own bf16 and FP8 as Marlin W8A16 (issue 19, item 7) are sized there
    assert {a.candidate.weights for a in p.alternatives if a.candidate.gpu == "A10G-24GB"} == {"bf16", "fp8"}


def test_issue19_reproducer8_format_search_covers_fp8_kv_w8a16_and_nvfp4():
    """Issue 19, reproducer 8: `auto` never tried an FP8 KV cache, never FP8 weights on A100 (W8A16 Marlin), and had
    no NVFP4 for Blackwell (`--weights nvfp4` was an unknown value). Now the FP8-KV plan is shown beside the 16-bit one
    (never chosen unasked), A100 types weigh W8A16, and Blackwell serves the publisher's NVFP4 release."""
    work = Workload(concurrency=64, tpot_ms=50)
    llama = load_preset("llama-3.3-70b")
    a100 = plan(
        PlanRequest(model=llama, workload=work, deployment=Deployment(weights="auto", instance_types=("p4d.24xlarge",)))
    )
    assert a100.weights == "fp8" and a100.kv_dtype == "auto"
    assert a100.kv_alternative is not None and a100.kv_alternative.kv_dtype == "fp8"
    b200 = plan(
        PlanRequest(
            model=llama, workload=work, deployment=Deployment(weights="auto", instance_types=("p6-b200.48xlarge",))
        )
    )
    assert b200.weights == "nvfp4" and b200.checkpoint.repo == "nvidia/Llama-3.3-70B-Instruct-FP4"
    assert b200.vllm_quantization == ""  # the release declares its scheme
    pinned = plan(
        PlanRequest(
            model=llama,
            workload=work,
            deployment=Deployment(weights="auto", kv_dtype="fp8", instance_types=("p4d.24xlarge",)),
        )
    )
    assert pinned.kv_dtype == "fp8" and pinned.kv_alternative is None


def test_nvfp4_without_a_release_is_refused():
    import pytest

    from sizing.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="To fix"):
        plan(PlanRequest(model=load_preset("mistral-7b"), deployment=Deployment(weights="nvfp4")))


def test_pre_quantized_checkpoints_are_served_as_published():
    p = plan(PlanRequest(model=load_preset("gpt-oss-20b"), deployment=Deployment(weights="auto")))
    assert p.weights == "mxfp4" and {a.candidate.weights for a in p.alternatives} == {"mxfp4"}


def test_plan_command_defaults_to_auto():
    args = _parser().parse_args(["plan", "--model", "llama-3.1-8b"])
    assert plan_request(args).deployment.weights == "auto"
    args = _parser().parse_args(["plan", "--model", "llama-3.1-8b", "--weights", "native"])
    assert plan_request(args).deployment.weights == "native"


def test_unknown_format_suggests_the_search_words(capsys):
    from sizing.cli.main import main

    assert main(["plan", "--weights", "natve"]) == 2
    assert "Did you mean 'native'?" in capsys.readouterr().err


def test_auto_serves_the_publishers_fp8_release_where_there_is_one():
    """Qwen3's official FP8 checkpoint is block-scaled. `auto` used to add online per-tensor FP8 only, so the nodes
    downloaded the 438 GiB bf16 checkpoint and quantized it at load; an expert serves Qwen/Qwen3-235B-A22B-FP8
    (220 GiB), whose TP/EP layouts vLLM's block-FP8 rules then govern."""
    p = plan(
        PlanRequest(
            model=load_preset("qwen3-235b-a22b"),
            workload=Workload(concurrency=64, input_tokens=3000, output_tokens=800, tpot_ms=40),
            deployment=Deployment(weights="auto", instance_types=("p5.48xlarge", "p5en.48xlarge")),
        )
    )
    assert p.weights == "fp8-block" and p.checkpoint.prequantized
    assert p.checkpoint.repo == "Qwen/Qwen3-235B-A22B-FP8" and p.checkpoint.download_bytes < 250 * 2**30
    assert p.vllm_quantization == ""  # served as published, no quantization at load
    assert all(a.candidate.weights == "fp8-block" for a in p.alternatives)
    assert eight_b("auto").checkpoint.repo.startswith("RedHatAI/")  # a per-tensor FP8 release still wins where known
