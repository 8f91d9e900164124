"""Issue 19, reproducer 1: a checkpoint for every format the plan picks, or no plan. Every (format, checkpoint format,
--quantization) triple the planner can emit is one vLLM accepts (vllm_rules.toml checkpoint-quantization, which cites
vllm/model_executor/model_loader/weight_utils.py get_quant_config and vLLM's FP8 docs)."""

import pytest

from sizing.catalog.formats import LLAMA_CPP_ONLY_FORMATS, all_formats, get_format
from sizing.catalog.vllm_rules import rules
from sizing.cli.main import main
from sizing.errors import InvalidInputError
from sizing.models.presets import load_preset, preset_names
from sizing.planner.checkpoint import CHECKPOINT_RULE, checkpoint_for, vllm_quantization_for
from sizing.planner.formats import requested_formats
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload

ASKED = [n for n in all_formats() if n not in LLAMA_CPP_ONLY_FORMATS] + ["auto", "native"]


def _accepted(served: str, stored: str, quantization: str) -> bool:
    """What vLLM loads: the checkpoint's own format with no --quantization (it reads the quantization config), or a
    16-bit checkpoint with --quantization fp8 (quantized at load)."""
    online = rules()[CHECKPOINT_RULE].params["online"]
    if served == stored:
        return quantization == ""
    return stored in online.get(served, ()) and quantization == get_format(served).vllm_quantization != ""


@pytest.mark.parametrize("model", preset_names())
def test_every_triple_the_planner_can_emit_loads_in_vllm(model):
    m = load_preset(model)
    emitted = 0
    for asked in ASKED:
        try:
            formats = requested_formats(m, asked)
        except InvalidInputError:
            continue  # refused up front, with the formats that would load
        for fmt in formats:
            ckpt = checkpoint_for(m, fmt)
            assert _accepted(fmt.name, ckpt.format, vllm_quantization_for(fmt, ckpt)), (asked, fmt.name, ckpt)
            emitted += 1
    assert emitted >= 1


def test_awq_without_a_release_is_refused_with_the_formats_that_load(capsys):
    """Reproducer 1: before, this planned the bf16 repo with --quantization awq_marlin, which vLLM stops on with
    'Cannot find the config file for awq'."""
    code = main(
        [
            "plan",
            "--model",
            "llama-3.3-70b",
            "--weights",
            "int4-awq",
            "--concurrency",
            "16",
            "--input-tokens",
            "1000",
            "--output-tokens",
            "256",
            "--tpot-ms",
            "60",
            "--json",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert "no pre-quantized int4-awq release" in err and "checkpoint-quantization" in err
    assert "int8 (RedHatAI/Llama-3.3-70B-Instruct-quantized.w8a8)" in err and "To fix" in err


@pytest.mark.parametrize(
    "model,weights",
    [
        ("llama-3.3-70b", "int4-gptq"),
        ("mistral-7b", "int8"),
        ("llama-3.3-70b", "fp8-block"),
        ("llama-3.3-70b", "fp16"),
        ("mixtral-8x7b", "mxfp4"),
    ],
)
def test_formats_without_a_checkpoint_are_refused(model, weights):
    with pytest.raises(InvalidInputError, match="no pre-quantized"):
        requested_formats(load_preset(model), weights)


def test_a_catalogued_release_plans_with_no_quantization_flag():
    p = plan(
        PlanRequest(
            model=load_preset("llama-3.1-70b"),
            workload=Workload(concurrency=16, tpot_ms=60),
            deployment=Deployment(weights="int4-awq", instance_types=("p5.4xlarge",)),
        )
    )
    assert p.checkpoint.repo == "hugging-quants/Meta-Llama-3.1-70B-Instruct-AWQ-INT4" and p.vllm_quantization == ""


def test_online_fp8_passes_its_flag():
    p = plan(
        PlanRequest(
            model=load_preset("mistral-7b"), deployment=Deployment(weights="fp8", instance_types=("g6e.xlarge",))
        )
    )
    assert (p.checkpoint.format, p.vllm_quantization) == ("bf16", "fp8")
