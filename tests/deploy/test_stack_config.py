"""Stack config errors name the key, the bad value and a fix; an infeasible plan fails before any resource exists."""

import types
import typing

import pytest

from deploy.options import FleetOptions
from deploy.stack_config import SECTIONS, ConfigError, load_stack_config
from preview.mock_run import MockRun, run_stack


def test_valid_config_reads_into_typed_models():
    cfg = load_stack_config(
        {
            "model": "llama-3.1-8b",
            "workload": {"concurrency": 8, "tpot_ms": 50},
            "fleet": {"allowed_cidrs": ["10.0.0.0/8"]},
        },
        aws_region="us-west-2",
    )
    assert cfg.request.workload.concurrency == 8
    assert cfg.request.deployment.region == "us-west-2"  # taken from aws:region
    assert isinstance(cfg.fleet, FleetOptions)


@pytest.mark.parametrize(
    "raw,needles",
    [
        ({}, ["llmfleet:model is not set", "pulumi config set"]),
        ({"model": "lama-3.1-8b"}, ["llmfleet:model", "Did you mean 'llama-3.1-8b'"]),
        (
            {"model": "llama-3.1-8b", "workload": {"concurrency": -1}},
            ["llmfleet:workload.concurrency=-1", "greater than 0"],
        ),
        (
            {"model": "llama-3.1-8b", "workload": {"concurency": 4}},
            ["llmfleet:workload.concurency=4", "did you mean 'concurrency'", "Valid keys"],
        ),
        ({"model": "llama-3.1-8b", "fleet": {"allowed_cidrs": ["0.0.0.0/0"]}}, ["allow_public_ingress"]),
        ({"model": "llama-3.1-8b", "fleet": {"allowed_cidrs": ["10.0.0.300/8"]}}, ["'10.0.0.300/8' is not a CIDR"]),
        ({"model": "llama-3.1-8b", "fleet": {"vllm_image": "vllm/vllm-openai:latest"}}, ["not pinned"]),
        ({"model": "llama-3.1-8b", "fleet": {"vpc_id": "vpc-1"}}, ["subnet_ids in at least two"]),
        ({"model": "llama-3.1-8b", "fleet": {"weights": {"s3_uri": "bucket/x"}}}, ["must start with s3://"]),
        ({"model": "llama-3.1-8b", "workload": "lots"}, ["llmfleet:workload must be a mapping"]),
        ({"model": "llama-3.1-8b", "extra": 1}, ["Unknown config key(s) llmfleet:extra"]),
        (
            {"model": "llama-3.1-8b", "deployment": {"spare_purchase": "spot"}},
            ["llmfleet:deployment.spare_purchase='spot' has no spare to buy", "llmfleet:workload.headroom_replicas"],
        ),
    ],
)
def test_config_errors_name_key_value_and_fix(raw, needles):
    with pytest.raises(ConfigError) as info:
        load_stack_config(raw)
    for needle in needles:
        assert needle in str(info.value)
    assert "To fix" in str(info.value)


def _number_fields() -> list[tuple[str, str]]:
    found = []
    for section, model in SECTIONS.items():
        for name, field in model.model_fields.items():
            kind = field.annotation
            if typing.get_origin(kind) in (typing.Union, types.UnionType):
                kind = next(a for a in typing.get_args(kind) if a is not type(None))
            if typing.get_origin(kind) is typing.Annotated:
                kind = typing.get_args(kind)[0]
            if kind in (int, float):
                found.append((section, name))
    return found


NUMBER_FIELDS = _number_fields()


def test_every_section_has_number_fields_to_check():
    assert {
        ("fleet", "api_port"),
        ("workload", "concurrency"),
        ("deployment", "max_nodes_per_replica"),
        ("workload", "prefix_hit_rate"),
        ("fleet", "max_scale_factor"),
    } <= set(NUMBER_FIELDS)


@pytest.mark.parametrize("section,name", NUMBER_FIELDS)
@pytest.mark.parametrize("flag", [True, False])
def test_a_boolean_is_not_a_number(section, name, flag):
    """YAML `api_port: true` would otherwise be read as port 1 (bool is an int in Python)."""
    with pytest.raises(ConfigError) as info:
        load_stack_config({"model": "llama-3.1-8b", section: {name: flag}})
    assert f"llmfleet:{section}.{name}={flag!r}" in str(info.value)
    assert "is a boolean, not a number" in str(info.value) and "To fix" in str(info.value)


def test_a_boolean_spot_price_is_refused_and_numbers_still_read():
    with pytest.raises(ConfigError, match="boolean, not a number"):
        load_stack_config({"model": "llama-3.1-8b", "deployment": {"spot_usd_per_hour": {"g6.xlarge": True}}})
    cfg = load_stack_config(
        {
            "model": "llama-3.1-8b",
            "fleet": {"api_port": 8080, "max_scale_factor": 3},
            "workload": {"prefix_hit_rate": 0.5, "requests_per_second": 2},
        }
    )
    assert (
        cfg.fleet.api_port == 8080 and cfg.fleet.max_scale_factor == 3.0 and cfg.request.workload.prefix_hit_rate == 0.5
    )


def test_region_mismatch_is_refused():
    with pytest.raises(ConfigError, match="differs from aws:region"):
        load_stack_config({"model": "llama-3.1-8b", "deployment": {"region": "eu-west-1"}}, aws_region="us-east-1")


def test_infeasible_plan_fails_the_program_and_creates_nothing(tmp_path):
    stack = tmp_path / "Pulumi.toobig.yaml"
    stack.write_text(
        "config:\n  aws:region: us-east-1\n  llmfleet:model: llama-3.1-405b\n"
        "  llmfleet:deployment:\n    instance_types: [g5.xlarge]\n"
    )
    with pytest.raises(Exception) as info:
        run_stack(stack)
    assert "Nearest miss" in str(info.value) and "GiB more per GPU" in str(info.value)


def test_infeasible_run_registered_no_cloud_resource(tmp_path):
    stack = tmp_path / "Pulumi.toobig.yaml"
    stack.write_text(
        "config:\n  aws:region: us-east-1\n  llmfleet:model: llama-3.1-405b\n"
        "  llmfleet:deployment:\n    instance_types: [g5.xlarge]\n"
    )
    recorded = MockRun(stack="toobig")
    with pytest.raises(Exception, match="Nearest miss"):
        run_stack(stack, recorded)
    assert recorded.resources == []  # the plan failed before the first resource, component or cloud


def test_a_config_json_model_without_a_weights_source_is_refused_before_any_resource(tmp_path, capsys):
    """Issue 18: such a stack passed `plan --stack` (and wrote a lock), then failed in preview at the launch template
    after 42 resources. Both now refuse it, before anything exists."""
    from pathlib import Path

    from sizing.cli.main import main

    config = Path(__file__).resolve().parents[1] / "data/configs/llama-2-7b.json"
    stack = tmp_path / "Pulumi.own.yaml"
    stack.write_text(
        f"config:\n  aws:region: us-east-1\n  llmfleet:model: {config}\n"
        "  llmfleet:fleet:\n    allowed_cidrs: ['10.0.0.0/8']\n"
    )
    assert main(["plan", "--stack", str(stack)]) == 2
    assert "no weights source" in capsys.readouterr().err
    run = MockRun(stack="own")
    with pytest.raises(Exception, match="no weights source.*To fix"):
        run_stack(stack, run)
    assert [r for r in run.resources if r.custom] == []
