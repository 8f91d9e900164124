"""Generated hostile input. For every case: exit 0, 1 or 2; no traceback; an answer within CASE_DEADLINE_S; every
number in JSON output finite and non-negative; no planted secret in any output (see harness.check)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings

from deploy.stack_config import load_stack_config
from deploy.stack_file import StackFileError, read_stack_file
from sizing.errors import SizingError
from sizing.redact import redact
from tests.fuzz.harness import check, run_cli
from tests.fuzz.strategies import ROOT, SECRETS, cli_argv, config_documents, stack_configs, stack_texts

REPORT_EXAMPLES = max(15, settings.default.max_examples // 20)
"""Stack files run through the whole program under mocks (up to 0.3 s each): a twentieth as many (15 in CI)."""


@given(cli_argv())
def test_cli_keeps_the_contract(argv):
    check(run_cli(argv), argv, SECRETS)


@given(config_documents())
def test_config_json_keeps_the_contract(text):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.json"
        path.write_text(text, errors="surrogateescape")
        for argv in (
            ["memory", "--model", str(path), "--json"],
            ["memory", "--model", str(path), "--gpu", "H100", "--json"],
        ):
            check(run_cli(argv), argv, SECRETS)


@given(stack_configs())
def test_stack_config_is_read_or_refused_with_a_fix(raw):
    try:
        load_stack_config(raw, aws_region="us-east-1")
    except SizingError as exc:
        message = redact(str(exc))
        assert "To fix" in message
        assert not any(s in message for s in SECRETS)


@given(stack_texts())
def test_stack_file_is_json_for_pulumi_or_refused_with_a_fix(text):
    """What read_stack_file returns is what Pulumi could hand the program (JSON: no dates, bytes, sets, NaN), or the
    file is refused (exit 2 in `report`) with a fix."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Pulumi.fuzz.yaml"
        path.write_text(text)
        try:
            config = read_stack_file(path)
        except StackFileError as exc:
            assert "To fix" in str(exc)
            return
        json.dumps(config, allow_nan=False)


@settings(max_examples=REPORT_EXAMPLES)
@given(stack_configs())
def test_report_on_generated_stacks_keeps_the_contract(raw):
    config = {"aws:region": "us-east-1", **{f"llmfleet:{k}": v for k, v in raw.items()}}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Pulumi.fuzz.yaml"
        path.write_text(json.dumps({"config": config}))
        argv = ["report", str(path), "--format", "json"]
        check(run_cli(argv), argv, SECRETS)


@pytest.mark.parametrize(
    "argv",
    [
        ["memory", "--params-b", "nan", "--layers", "32", "--kv-heads", "8", "--head-dim", "128"],
        ["plan", "--model", SECRETS[0]],
        ["report", "tests/preview/stacks/infeasible/Pulumi.svc.yaml", "--output", "/no/such/folder/r.md"],
    ],
)
def test_as_a_process(argv):
    """A few cases through `python -m sizing` itself: the exit code and stderr a CI job sees."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LLMFLEET_PREFLIGHT": "off"}
    done = subprocess.run(
        [sys.executable, "-m", "sizing", *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "To fix" in done.stderr
    assert not any(s in done.stdout + done.stderr for s in SECRETS)
