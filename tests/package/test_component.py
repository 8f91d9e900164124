"""LlmServingFleet's model argument (preset, preset repo id, config.json contents) and its failures before any
resource: a bad value names itself and the fix, an infeasible plan says by how much it misses."""

import json
from pathlib import Path

import pulumi
import pytest

from components.llm_fleet import LlmServingFleet
from preview.mock_run import MockRun, record_fleet, run_under_mocks

CONFIG = {"aws:region": "us-east-1"}
CONFIGS = Path(__file__).resolve().parents[1] / "data" / "configs"
SMALL = {
    "workload": {"concurrency": 4},
    "deployment": {"instance_types": ["g6.xlarge", "g5.xlarge"]},
    "fleet": {"allowed_cidrs": ["10.0.0.0/8"]},
}


def run_fleet(args: dict) -> MockRun:
    run = MockRun(stack="component")
    run_under_mocks(CONFIG, run, lambda: record_fleet(run, LlmServingFleet("f", args)))  # type: ignore[arg-type]
    return run


def test_a_preset_repo_id_is_the_preset():
    run = run_fleet({"model": "meta-llama/Llama-3.1-8B-Instruct", **SMALL})
    assert run.plan is not None and run.plan.model == "llama-3.1-8b"
    assert run.outputs["plan"]["instance_type"] == run.plan.instance_type


def test_config_json_contents_size_a_model_that_is_not_a_preset():
    config = json.loads((CONFIGS / "meta-llama-3-8b.json").read_text())
    run = run_fleet(
        {
            "model": "my-llama-3-8b",
            "hf_config": config,
            **SMALL,
            "fleet": {**SMALL["fleet"], "weights": {"hf_model_id": "meta-llama/Meta-Llama-3-8B"}},
        }
    )
    assert run.plan is not None and run.plan.model == "my-llama-3-8b"
    assert run.one("LaunchTemplate").inputs["tags"]["llmfleet:model"] == "my-llama-3-8b"


@pytest.mark.parametrize(
    "args,needles",
    [
        ({"model": "lama-3.1-8b"}, ["llmfleet:model", "Did you mean 'llama-3.1-8b'", "To fix"]),
        ({"model": "llama-3.1-8b", "workload": {"concurrency": 0}}, ["llmfleet:workload.concurrency=0", "To fix"]),
        (
            {"model": "llama-3.1-405b", "deployment": {"instance_types": ["g5.xlarge"]}},
            ["Nearest miss", "GiB more per GPU"],
        ),
        ({"model": "mine", "hf_config": "{not json"}, ["hf_config is not valid JSON", "To fix"]),
        ({"model": "mine", "hf_config": [1, 2]}, ["hf_config must be the mapping in config.json, not list", "To fix"]),
        ({"model": "mine", "hf_config": {"hidden_size": 4096}}, ["config.json"]),
    ],
)
def test_bad_input_or_infeasible_plan_fails_before_any_resource(args, needles):
    run = MockRun(stack="component")
    with pytest.raises(pulumi.RunError) as info:
        run_under_mocks(CONFIG, run, lambda: LlmServingFleet("f", args).endpoint)  # type: ignore[arg-type]
    for needle in needles:
        assert needle in str(info.value)
    assert run.resources == []
