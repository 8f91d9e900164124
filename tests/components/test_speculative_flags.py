"""The fleet's vLLM runs the draft the plan assumed (issue 19, item 9), its flags built from typed plan fields."""

import pytest
from pydantic import ValidationError

from components.fleet_spec import vllm_args
from components.options import FleetOptions
from components.shell_values import checked
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload
from sizing.planner.results import Plan


def _plan(model: str, method: str, types: tuple[str, ...]) -> Plan:
    return plan(PlanRequest(model=load_preset(model), workload=Workload(concurrency=8),
                            deployment=Deployment(speculative=method, instance_types=types)))


@pytest.mark.parametrize("model,method,types,flags", [
    ("llama-3.1-8b", "eagle3", ("g6e.xlarge",), ["--speculative-config.method", "eagle3",
                                                  "--speculative-config.model", "yuhuili/EAGLE3-LLaMA3.1-Instruct-8B"]),
    ("deepseek-r1", "mtp", ("p5en.48xlarge",), ["--speculative-config.method", "mtp",
                                                "--speculative-config.num_speculative_tokens", "1"]),
])
def test_the_node_runs_the_planned_draft(model, method, types, flags):
    p = _plan(model, method, types)
    args = list(vllm_args(p, FleetOptions(), p.model))
    for flag, value in zip(flags[::2], flags[1::2]):
        assert args[args.index(flag) + 1] == value
    assert all(checked("vLLM argument", a) for a in args)  # every value passes the bootstrap script's pattern


def test_a_plan_lock_cannot_smuggle_a_draft_flag():
    p = _plan("llama-3.1-8b", "eagle3", ("g6e.xlarge",)).model_dump(mode="json")
    p["speculative"]["draft_repo"] = "x/y --trust-remote-code"
    with pytest.raises(ValidationError, match="draft_repo"):
        Plan.model_validate(p)
    p["speculative"]["draft_repo"], p["speculative"]["vllm_method"] = None, "ngram; rm -rf /"
    with pytest.raises(ValidationError, match="vllm_method"):
        Plan.model_validate(p)
