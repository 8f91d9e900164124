"""Issue 19, item 9: speculative decoding as a plan option (EAGLE-3 heads, DeepSeek's MTP module) where the pinned vLLM
runs it: the acceptance length a stated assumption, its effect on TPOT and capacity, and its memory."""

import pytest

from sizing.catalog.assumptions import with_overrides
from sizing.cli.main import main
from sizing.errors import InvalidInputError
from sizing.memory.draft import mtp_extra_params
from sizing.models.params import layer_groups_of_kind
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload

DEEPSEEK_MTP_PARAMS = 14e9
"""DeepSeek-V3 README: 'the total size of DeepSeek-V3 models on Hugging Face is 685B, which includes 671B of the Main
Model weights and 14B of the Multi-Token Prediction (MTP) Module weights'."""
MTP_SPEEDUP_AT_ONE_QPS = 1.63
"""vLLM PR 12755 (DeepSeek MTP spec decode, R1, one draft token): TPOT 55.47 -> 33.99 ms at 1 request/s. Hardware
and lengths are not stated there, so only the ratio is compared."""
MTP_SPEEDUP_TOLERANCE = 0.15


def _plan(model, speculative=None, types=None, assumptions=None, **workload):
    req = PlanRequest(
        model=load_preset(model),
        workload=Workload(**workload),
        deployment=Deployment(weights="auto", instance_types=types, speculative=speculative),
    )
    return plan(req.model_copy(update={"assumptions": assumptions}) if assumptions else req)


def test_eagle3_cuts_tpot_by_at_most_its_acceptance_length_and_costs_memory():
    kw = {"types": ("g6e.xlarge",), "concurrency": 16, "tpot_ms": 30}
    plain, spec = _plan("llama-3.1-8b", **kw), _plan("llama-3.1-8b", "eagle3", **kw)
    s = spec.speculative
    assert s is not None and s.method == "eagle3" and s.draft_repo == "yuhuili/EAGLE3-LLaMA3.1-Instruct-8B"
    assert plain.choice.tpot_ms / s.mean_acceptance_length < spec.choice.tpot_ms < plain.choice.tpot_ms
    assert spec.choice.concurrency_per_replica > plain.choice.concurrency_per_replica  # more users within 30 ms
    extra = spec.choice.memory.weights_gib - plain.choice.memory.weights_gib
    assert extra == pytest.approx(s.draft_weights_gib, rel=1e-6) and 0.5 < extra < 1.2
    assert spec.choice.memory.kv_cache_tokens < plain.choice.memory.kv_cache_tokens  # one more layer per token


def test_mtp_speedup_at_light_load_matches_vllm_measurement():
    kw = {"types": ("p5en.48xlarge",), "requests_per_second": 1, "input_tokens": 1000, "output_tokens": 500}
    plain, spec = _plan("deepseek-r1", **kw), _plan("deepseek-r1", "mtp", **kw)
    ratio = plain.choice.tpot_ms / spec.choice.tpot_ms
    assert abs(ratio / MTP_SPEEDUP_AT_ONE_QPS - 1) <= MTP_SPEEDUP_TOLERANCE, ratio


def test_mtp_module_memory_is_the_published_14b():
    m = load_preset("deepseek-v3")
    params = sum(g.params for g in layer_groups_of_kind(m, True)) + mtp_extra_params(m)
    assert abs(params / DEEPSEEK_MTP_PARAMS - 1) <= 0.05


def test_the_acceptance_length_is_a_stated_overridable_assumption():
    kw = {"types": ("g6e.xlarge",), "concurrency": 16, "tpot_ms": 30}
    low = _plan("llama-3.1-8b", "eagle3", assumptions=with_overrides({"speculative_acceptance_length": 1.3}), **kw)
    high = _plan("llama-3.1-8b", "eagle3", **kw)
    assert low.speculative.mean_acceptance_length == 1.3 and "given" in low.speculative.acceptance_source
    assert "vLLM PR" in high.speculative.acceptance_source
    assert low.choice.tpot_ms > high.choice.tpot_ms


def test_pipeline_layouts_are_refused_by_rule():
    p = _plan("deepseek-r1", "mtp", types=("p5en.48xlarge",), requests_per_second=1)
    assert p.choice.pipeline_parallel == 1
    assert any(
        "speculative-no-pipeline" in r.reason for r in p.rejected if r.pipeline_parallel and r.pipeline_parallel > 1
    )


@pytest.mark.parametrize(
    "model,method,engine,match",
    [
        ("mistral-7b", "eagle3", None, "catalogues no eagle3 draft"),
        ("llama-3.1-8b", "mtp", None, "it has: eagle3"),
        ("llama-3.1-8b", "eagle3", "vllm-v0", "from 0.8.5 on"),
    ],
)
def test_drafts_the_engine_cannot_run_are_refused_by_name(model, method, engine, match):
    req = PlanRequest(model=load_preset(model), deployment=Deployment(speculative=method, engine=engine))
    with pytest.raises(InvalidInputError, match=match):
        plan(req)


def test_cli_plan_says_the_draft_and_its_flags(capsys):
    code = main(["plan", "--model", "llama-3.1-8b", "--speculative", "eagle3", "--instance-types", "g6e.xlarge"])
    out = " ".join(capsys.readouterr().out.split())  # as read, lines wrapped to the terminal joined
    assert code == 0 and "assumed mean acceptance length 2.1" in out
    assert "--speculative-config.method eagle3" in out and "--speculative-config.model yuhuili/" in out
