"""--weights auto (plan's default on the command line) and --weights native."""

from sizing.cli.commands import plan_request
from sizing.cli.main import _parser
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload

TPOT_20 = Workload(tpot_ms=20)


def eight_b(weights: str):
    return plan(PlanRequest(model=load_preset("llama-3.1-8b"), workload=TPOT_20, deployment=Deployment(weights=weights)))


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
    p = plan(PlanRequest(model=load_preset("llama-3.1-8b"), workload=TPOT_20, deployment=Deployment(
        weights="auto", instance_types=("g5.12xlarge", "g5.2xlarge", "g6e.xlarge", "p5.4xlarge"))))
    formats = {a.candidate.weights for a in p.alternatives}
    assert formats == {"bf16", "fp8"}
    assert all(a.candidate.weights == "fp8" for a in p.alternatives if a.candidate.gpu in ("L40S-48GB", "H100-SXM-80GB"))
    assert all(a.candidate.weights == "bf16" for a in p.alternatives if a.candidate.gpu == "A10G-24GB")


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
    p = plan(PlanRequest(model=load_preset("qwen3-235b-a22b"),
                         workload=Workload(concurrency=64, input_tokens=3000, output_tokens=800, tpot_ms=40),
                         deployment=Deployment(weights="auto", instance_types=("p5.48xlarge", "p5en.48xlarge"))))
    assert p.weights == "fp8-block" and p.checkpoint.prequantized
    assert p.checkpoint.repo == "Qwen/Qwen3-235B-A22B-FP8" and p.checkpoint.download_bytes < 250 * 2**30
    assert p.vllm_quantization == ""  # served as published, no quantization at load
    assert all(a.candidate.weights == "fp8-block" for a in p.alternatives)
    assert eight_b("auto").checkpoint.repo.startswith("RedHatAI/")  # a per-tensor FP8 release still wins where known
