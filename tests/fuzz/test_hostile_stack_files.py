"""Stack files and report inputs as a fork's pull request could write them: rejected before any resource exists,
reported as "this stack fails preview: ...", never a traceback, never an echoed secret."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from preview.mock_run import MockRun, run_stack
from tests.fuzz.harness import check, run_cli

HF_TOKEN = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz01234567"
AWS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
GOOD = {
    "aws:region": "us-east-1",
    "llmfleet:model": "llama-3.1-8b",
    "llmfleet:deployment": {"instance_types": ["g6e.xlarge", "g5.xlarge"]},
    "llmfleet:fleet": {"allowed_cidrs": ["10.0.0.0/8"]},
}


def stack_file(tmp_path: Path, name: str = "x", text: str | None = None, **config) -> str:
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(text if text is not None else json.dumps({"config": {**GOOD, **config}}))
    return str(path)


def fails_before_any_resource(path: str) -> str:
    run = MockRun(stack="x")
    with pytest.raises(Exception) as info:
        run_stack(path, run)
    assert run.resources == [], [r.name for r in run.resources]
    return str(info.value)


@pytest.mark.parametrize(
    "config,needle",
    [
        ({"llmfleet:fleet": {"vpc_cidr": "banana"}}, "vpc_cidr"),
        ({"llmfleet:fleet": {"vpc_cidr": "10.0.0.0/8"}}, "vpc_cidr"),
        ({"llmfleet:workloads": {"concurrency": 4}}, "llmfleet:workload'"),
        ({"llmfleet:deployment": {"spot_usd_per_hour": {"g5.xlarge": -5}}}, "spot_usd_per_hour"),
        ({"llmfleet:fleet": {"subnet_ids": ["subnet-1; rm -rf /", "subnet-2"], "vpc_id": "vpc-1"}}, "not an AWS id"),
        ({"llmfleet:fleet": {"tags": {"team": "a\nb"}}}, "tag"),
        ({"llmfleet:workload": "lots"}, "mapping"),
        ({"llmfleet:deployment": True}, "mapping"),  # found by the fuzzer: a TypeError before
        ({"llmfleet:deployment": {"instance_types": ["g5.xlarge"] * 2000}}, "instance_types"),
    ],
)
def test_bad_stack_registers_nothing(tmp_path, config, needle):
    message = fails_before_any_resource(stack_file(tmp_path, **config))
    assert needle in message and "To fix" in message


def test_config_json_path_with_a_newline_never_reaches_the_boot_script(tmp_path):
    folder = tmp_path / "models\nreboot"
    folder.mkdir()
    (folder / "config.json").write_text((Path(__file__).parents[2] / "tests/data/configs/mqa-tiny.json").read_text())
    message = fails_before_any_resource(stack_file(tmp_path, **{"llmfleet:model": str(folder / "config.json")}))
    assert "control character" in message and "To fix" in message


def test_token_pasted_for_an_arn_is_never_echoed(tmp_path):
    path = stack_file(
        tmp_path, **{"llmfleet:fleet": {"weights": {"hf_token_secret_arn": HF_TOKEN}, "tags": {"k": AWS_KEY}}}
    )
    message = fails_before_any_resource(path)
    assert HF_TOKEN not in message and AWS_KEY not in message
    o = run_cli(["report", path, "--format", "json"])
    check(o, ["report", path], secrets=(HF_TOKEN, AWS_KEY))
    assert o.code == 1
    assert "this stack fails preview" in o.out


@pytest.mark.parametrize(
    "config",
    [
        {"llmfleet:fleet": {"weights": {"hf_token_secret_arn": {"secure": "v1:SeCrEtCiPhErTeXt"}}}},
        {"llmfleet:model": {"secure": "v1:SeCrEtCiPhErTeXt"}},
        {"llmfleet:workload": {"concurrency": {"secure": "v1:SeCrEtCiPhErTeXt"}}},
    ],
)
def test_values_under_secure_are_never_echoed(tmp_path, config):
    path = stack_file(tmp_path, **config)
    assert "SeCrEtCiPhErTeXt" not in fails_before_any_resource(path)
    for fmt in ("json", "markdown"):
        o = run_cli(["report", path, "--format", fmt])
        check(o, ["report", path])
        assert "SeCrEtCiPhErTeXt" not in o.out + o.err and "[REDACTED]" in o.out


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    text = "ignored:\n" + "\n".join("  " + line for line in lines) + "\nconfig:\n  llmfleet:model: llama-3.1-8b\n"
    path = stack_file(tmp_path, text=text)
    start = time.perf_counter()
    o = run_cli(["report", path])
    check(o, ["report", path])
    assert time.perf_counter() - start < 5
    assert o.code == 2 and "alias" in o.err


@pytest.mark.parametrize(
    "case",
    [
        "malformed plan json",
        "directory",
        "invalid yaml",
        "missing output folder",
        "huge file",
        "plan json of the wrong shape",
        "yaml not a mapping",
    ],
)
def test_bad_report_input_is_exit_2(tmp_path, case):
    argv = {
        "malformed plan json": lambda: [str((tmp_path / "p.json").write_text("{not json") and tmp_path / "p.json")],
        "plan json of the wrong shape": lambda: [
            str((tmp_path / "p.json").write_text('{"model": 3}') and tmp_path / "p.json")
        ],
        "directory": lambda: [str(tmp_path)],
        "invalid yaml": lambda: [stack_file(tmp_path, text="config: [unclosed\n")],
        "yaml not a mapping": lambda: [stack_file(tmp_path, text="- a\n- b\n")],
        "missing output folder": lambda: [stack_file(tmp_path), "--output", str(tmp_path / "no" / "such" / "r.md")],
        "huge file": lambda: [_huge(tmp_path)],
    }[case]()
    o = run_cli(["report", *argv])
    check(o, ["report", *argv])
    assert o.code == 2, (o.code, o.err)
    assert "To fix" in o.err


@pytest.mark.parametrize("ref", ["--output=/tmp/x", "HEAD; rm -rf /", "a b", "x" * 300])
def test_hostile_base_ref_is_exit_2(tmp_path, ref):
    argv = ["report", stack_file(tmp_path), f"--base-ref={ref}"]
    o = run_cli(argv)
    check(o, argv)
    assert o.code == 2 and "--base-ref" in o.err


def _huge(tmp_path: Path) -> str:
    path = tmp_path / "big.plan.json"
    with open(path, "wb") as fh:
        fh.truncate(200 << 20)  # a sparse 200 MB file: costs no disk
    return str(path)


def test_report_renders_a_rejected_stack_instead_of_crashing(tmp_path):
    good = stack_file(tmp_path, name="good")
    bad = stack_file(tmp_path, name="bad", **{"llmfleet:fleet": {"vpc_cidr": "banana"}})
    o = run_cli(["report", good, bad])
    check(o, ["report", good, bad])
    assert o.code == 1
    assert "this stack fails preview: " in o.out and "vpc_cidr" in o.out
    assert "bad" in o.err
