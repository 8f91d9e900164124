"""Found by a hostile review after the fuzz suite landed: stack files, fleet options and pre-flight cache entries that
were accepted (or crashed) although Pulumi or AWS would refuse them, or that opened the endpoint to the internet."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from deploy.options import AWS_MAX_TAGS, COMPONENT_TAGS, MAX_CLIENT_RULES
from preview.mock_run import run_stack
from sizing.live import cache
from tests.fuzz.harness import check, run_cli
from tests.fuzz.test_hostile_stack_files import fails_before_any_resource, stack_file

HEAD = "config:\n  aws:region: us-east-1\n  llmfleet:fleet:\n    allowed_cidrs: ['10.0.0.0/8']\n"


@pytest.mark.parametrize(
    "body,needle",
    [
        ("  llmfleet:model: llama-3.1-8b\n  llmfleet:model: llama-3.1-70b\n", "given twice"),  # preview planned the 2nd
        (
            "  llmfleet:model: llama-3.1-8b\n  llmfleet:workload:\n    concurrency: 4\n    concurrency: 400000\n",
            "given twice",
        ),
        (
            "  llmfleet:model: llama-3.1-8b\n  llmfleet:workload:\n    tpot_ms: 2024-01-01\n",
            "tpot_ms",
        ),  # date: TypeError
        ("  llmfleet:model: !!binary aGVsbG8=\n", "bytes"),
        (
            "  llmfleet:model: llama-3.1-8b\n  llmfleet:deployment:\n    instance_types: !!set {g5.xlarge: null}\n",
            "set",
        ),
        ("  llmfleet:model: llama-3.1-8b\n  llmfleet:workload:\n    tpot_ms: .inf\n", "finite"),  # "must be a mapping"
        (
            "  llmfleet:model: llama-3.1-8b\n  llmfleet:workload:\n    concurrency: " + "9" * 5000 + "\n",
            "cannot be read",
        ),
    ],
)
def test_yaml_pulumi_would_not_read_is_refused_with_a_fix(tmp_path, body, needle):
    message = fails_before_any_resource(stack_file(tmp_path, text=HEAD + body))
    assert needle in message and "To fix" in message, message


@pytest.mark.parametrize(
    "fleet,needle",
    [
        ({"allowed_cidrs": ["0.0.0.0/1", "128.0.0.0/1"]}, "allow_public_ingress"),  # the internet in two halves
        ({"allowed_cidrs": ["1.2.3.4/0"]}, "allow_public_ingress"),  # 0.0.0.0/0 spelt with host bits
        ({"allowed_cidrs": ["0::/0"]}, "IPv6"),  # ::/0 spelt otherwise; and EC2 refuses IPv6 as CidrIp
        (
            {"allowed_cidrs": [f"10.{i}.0.0/16" for i in range(MAX_CLIENT_RULES + 1)]},
            "allowed_cidrs",
        ),  # 20,000 took 55 s
        (
            {"allowed_cidrs": ["10.0.0.0/8"], "tags": {f"k{i}": "v" for i in range(AWS_MAX_TAGS - COMPONENT_TAGS + 1)}},
            "tags",
        ),
        (
            {"allowed_cidrs": ["10.0.0.0/8"], "vpc_id": "vpc-1", "subnet_ids": [f"subnet-{i:x}" for i in range(5000)]},
            "subnet_ids",
        ),  # 5,000 took 5.6 s, a 1 MiB stack file of them about 45 s
    ],
)
def test_fleet_options_aws_would_refuse_register_nothing(tmp_path, fleet, needle):
    start = time.perf_counter()
    message = fails_before_any_resource(stack_file(tmp_path, **{"llmfleet:fleet": fleet}))
    assert needle in message and "To fix" in message, message
    assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    "prices,needle",
    [
        ({"g5.xlarg": 0.5}, "did you mean 'g5.xlarge'"),  # silently ignored: the catalog's price was used
        ({"g5.xlarge": 1e-320}, "spot_usd_per_hour"),  # a fleet priced at nothing
    ],
)
def test_bad_spot_price_override_is_refused(tmp_path, prices, needle):
    message = fails_before_any_resource(stack_file(tmp_path, **{"llmfleet:deployment": {"spot_usd_per_hour": prices}}))
    assert needle in message and "To fix" in message, message


def _tag_counts(inputs: dict) -> int:
    tags = inputs.get("tags") or {}
    return len(tags)


def test_the_most_tags_allowed_still_fit_aws_on_every_resource(tmp_path):
    """Pins COMPONENT_TAGS: with the most user tags accepted, no resource carries more than AWS's 50."""
    tags = {f"k{i}": "v" for i in range(AWS_MAX_TAGS - COMPONENT_TAGS)}
    run = run_stack(stack_file(tmp_path, **{"llmfleet:fleet": {"allowed_cidrs": ["10.0.0.0/8"], "tags": tags}}))
    counts = {r.name: _tag_counts(r.inputs) for r in run.resources if r.custom}
    assert max(counts.values()) <= AWS_MAX_TAGS, counts
    assert max(counts.values()) > AWS_MAX_TAGS - COMPONENT_TAGS  # the component's own tags are counted here


KEY = ("zones", "us-east-1", ())


@pytest.mark.parametrize(
    "fetched_at",
    [
        "2026-01-01\n## Approved by security <img src=x onerror=alert(1)>",
        "\x1b[2J\x1b[31mcached",
        "x" * 100_000,
        "yesterday",
    ],
)
def test_cache_entry_with_a_hostile_timestamp_is_discarded(tmp_path, fetched_at):
    """fetched_at is shown in the plan's fact sources (a stack output) and the pull-request report."""
    cache.write(tmp_path, KEY, ["us-east-1a"], "2026-11-27T08:00:00+00:00")
    path = next(tmp_path.glob("zones-*.json"))
    entry = json.loads(path.read_text())
    path.write_text(json.dumps({**entry, "fetched_at": fetched_at}))
    with pytest.raises(cache.CorruptEntry, match="ISO 8601"):
        cache.read(tmp_path, KEY, 3600)
    assert not path.exists()


def test_a_failed_cache_write_leaves_no_temp_file(tmp_path):
    cache._path(tmp_path, KEY).mkdir(parents=True)  # a folder where the entry goes: os.replace fails
    cache.write(tmp_path, KEY, ["us-east-1a"], "2026-11-27T08:00:00+00:00")
    assert [p.name for p in Path(tmp_path).iterdir() if p.name.startswith(".tmp-")] == []


@pytest.mark.parametrize("name", ["\U0001f600" * 300, "\x1b]0;pwned\x07\x1b[2J"])
def test_report_on_a_name_too_long_or_with_terminal_escapes(name):
    """A 1,200-byte name was an OSError traceback (Path.exists raises ENAMETOOLONG); escapes were printed raw."""
    o = run_cli(["report", name])
    check(o, ["report", name])
    assert o.code == 2 and "To fix" in o.err
    assert "\x1b" not in o.err and "\x07" not in o.err


@pytest.mark.parametrize("field", ["model", "region", "instance_type"])
def test_plan_json_with_a_terminal_escape_is_refused(tmp_path, field):
    """A plan JSON in a pull request carried ESC and BEL raw into the report (the PR comment and a CI log)."""
    o = run_cli(["plan", "--json"])
    data = json.loads(o.out)
    (data["choice"] if field == "instance_type" else data)[field] = "\x1b]0;pwned\x07\x1b[2J"
    path = tmp_path / "x.plan.json"
    path.write_text(json.dumps(data))
    for fmt in ("markdown", "json"):
        argv = ["report", str(path), "--format", fmt]
        o = run_cli(argv)
        check(o, argv)
        assert o.code == 2 and "control character" in o.err and "To fix" in o.err


@pytest.mark.parametrize("content", ['{"a": 1}', "[1, 2]", "garbage{", ""])
def test_corrupt_base_report_cache_is_rebuilt(tmp_path, monkeypatch, content):
    """`{"a": 1}` in the per-commit cache was an AttributeError traceback, on every later report of that base."""
    import preview.base as base

    monkeypatch.setenv("LLMFLEET_CACHE_DIR", str(tmp_path))
    root = Path(__file__).resolve().parents[2]
    cached = base.cache_file(base.resolve(root, "HEAD"))
    cached.parent.mkdir(parents=True)
    cached.write_text(content)
    planned = [{"name": "dev", "plan": None, "error": "x", "inputs": {}}]
    monkeypatch.setattr(base, "_plan_checkout", lambda folder, python: planned)
    assert base.base_stacks("HEAD", root) == planned
    assert json.loads(cached.read_text()) == planned


TOKEN = "hf_" + "PaStEdToKeNaBcDeFgHiJkLmNoPqRs0123"


@pytest.mark.parametrize(
    "fleet",
    [
        {"tags": {"token": TOKEN}},  # was on every resource's tags, in plain text
        {"tags": {TOKEN: "x"}},
        {"weights": {"hf_token_ssm_parameter": TOKEN}},  # was in the node role's IAM policy
        {"vllm_image": f"vllm/vllm-openai:{TOKEN}"},
    ],
)
def test_credential_pasted_into_a_plain_fleet_value_registers_nothing(tmp_path, fleet):
    message = fails_before_any_resource(
        stack_file(tmp_path, **{"llmfleet:fleet": {"allowed_cidrs": ["10.0.0.0/8"], **fleet}})
    )
    assert "holds a credential" in message and "To fix" in message and TOKEN not in message


def test_a_secret_named_like_a_token_in_an_arn_is_still_accepted(tmp_path):
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{TOKEN}-AbCdEf"
    run = run_stack(
        stack_file(
            tmp_path, **{"llmfleet:fleet": {"allowed_cidrs": ["10.0.0.0/8"], "weights": {"hf_token_secret_arn": arn}}}
        )
    )
    assert run.plan is not None


@pytest.mark.parametrize(
    "config",
    [
        {"llmfleet:workload": "[" * 3000 + "]" * 3000},  # the whole value was repeated in the message
        {"llmfleet:fleet": {"allowed_cidrs": ["10.0.0.0/8"], "tags": {"team": "x" * 300_000}}},
    ],
)
def test_a_huge_bad_value_is_not_repeated_whole_in_the_message(tmp_path, config):
    message = fails_before_any_resource(stack_file(tmp_path, **config))
    assert "To fix" in message and len(message) < 2_000, len(message)


def test_report_on_thousands_of_stacks_is_refused_at_once(tmp_path):
    """Each stack runs the program under mocks (about 0.13 s): 5,000 in a pull request held the report for 11 min."""
    from sizing.limits import MAX_REPORT_STACKS

    paths = [stack_file(tmp_path, name=f"s{i}") for i in range(MAX_REPORT_STACKS + 1)]
    o = run_cli(["report", *paths])
    check(o, ["report", "..."])
    assert o.code == 2 and "at most" in o.err and o.elapsed_s < 5


@pytest.mark.parametrize(
    "fleet",
    [
        {"weights": {"hf_model_id": "org/model; reboot"}},
        {"weights": {"s3_uri": "s3://bucket/$(reboot)"}},
        {"weights": {"hf_token_ssm_parameter": "name\nreboot"}},
        {"image_mirror": "123456789012.dkr.ecr.us-east-1.amazonaws.com/x`id`"},
        {"ami_ssm_parameter": "/aws/service/ami id"},
    ],
)
def test_a_value_the_boot_script_would_refuse_registers_nothing(tmp_path, fleet):
    """Refused safely, but inside the launch template's user data: after some forty resources were registered."""
    message = fails_before_any_resource(
        stack_file(tmp_path, **{"llmfleet:fleet": {"allowed_cidrs": ["10.0.0.0/8"], **fleet}})
    )
    assert "bootstrap script" in message and "To fix" in message
