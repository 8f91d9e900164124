"""Issue 22's boundaries under generated input: plan-lock edits, ingress split across rules, report plan JSON text,
file kinds. Each answer keeps the contract (refused with "To fix:", or judged), never a traceback or an echo."""

from __future__ import annotations

import json
import math
import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deploy.plan_lock import PlanLock, PlanLockError, decide, lock_path, plan_digest
from deploy.stack_config import load_stack_config, namespace_config
from deploy.stack_file import read_stack_file
from policy import policies as p
from sizing.planner.plan import plan
from tests.fuzz.harness import check, run_cli
from tests.fuzz.strategies import SECRETS, ingress_splits, lock_edits, markdown_text
from tests.policy.test_policies import _stack
from tests.policy.test_policy_evasion import NODE, ingress_rule

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "stacks/Pulumi.dev.yaml"
RAW = read_stack_file(DEV)
STACK = load_stack_config(namespace_config(RAW), aws_region=RAW["aws:region"])
FRESH = plan(STACK.request)
LOCK = json.loads(lock_path(DEV).read_text())
SLOW = max(10, settings.default.max_examples // 5)


def _edited(edits) -> dict | None:
    data = json.loads(json.dumps(LOCK))
    for path, value in edits:
        target = data["plan"]
        try:
            for key in path[:-1]:
                target = target[key]
            target[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            return None
    return data


@settings(max_examples=SLOW)
@given(lock_edits(), st.booleans())
def test_an_edited_lock_deploys_only_what_the_engine_derives(edits, forged):
    data = _edited(edits)
    if data is None:
        return
    try:
        lock = PlanLock.model_validate(data)
    except ValueError:
        lock = None
    if forged and lock is not None:
        data["plan_sha256"] = plan_digest(lock.plan)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Pulumi.dev.plan.json"
        path.write_text(json.dumps(data, allow_nan=True))
        try:
            decision = decide(path, namespace_config(RAW), RAW["aws:region"], FRESH, STACK.request)
        except PlanLockError as exc:
            assert "To fix" in str(exc) and not any(s in str(exc) for s in SECRETS)
            return
    c, original = decision.plan.choice, PlanLock.model_validate(LOCK).plan
    assert (
        decision.plan.checkpoint,
        decision.plan.vllm_quantization,
        decision.plan.max_model_len,
        decision.plan.region,
        decision.plan.model,
        c.instance_type,
        c.tensor_parallel,
        c.pipeline_parallel,
        c.instances,
        c.batch_per_replica,
        c.memory,
    ) == (
        original.checkpoint,
        original.vllm_quantization,
        original.max_model_len,
        original.region,
        original.model,
        original.choice.instance_type,
        original.choice.tensor_parallel,
        original.choice.pipeline_parallel,
        original.choice.instances,
        original.choice.batch_per_replica,
        original.choice.memory,
    )
    assert math.isfinite(c.hourly_cost_usd) and c.hourly_cost_usd >= 0


@given(ingress_splits())
def test_ingress_is_judged_as_the_union_of_its_rules(case):
    cidrs, world = case
    rules = [
        ingress_rule(f"r{i}", **({"ipv6CidrBlocks": [c]} if ":" in c else {"cidrBlocks": [c]}))
        for i, c in enumerate(cidrs)
    ]
    found = _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), *rules)
    assert bool(found) == world


@settings(max_examples=SLOW)
@given(markdown_text, markdown_text)
def test_report_text_from_a_plan_json_never_becomes_markdown(model, why):
    data = LOCK["plan"] | {"model": model}
    data["alternatives"] = [dict(data["alternatives"][0], why_lost=why)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.plan.json"
        path.write_text(json.dumps(data))
        argv = ["report", str(path)]
        outcome = run_cli(argv)
    check(outcome, argv, SECRETS)
    if outcome.code == 0:
        lines = outcome.out.splitlines()
        assert sum(line.startswith("#") for line in lines) == 2  # the report's title and the stack's heading
        assert outcome.out.count("<!-- llm-fleet-report -->") == 1
        prose = re.sub(r"`[^`\n]*`", "", outcome.out)  # code spans show their text as it is
        assert "[click](" not in prose and not re.search(r"(?<!\\)<img", prose)


@pytest.mark.parametrize("kind", ["fifo", "folder", "device", "symlink", "missing", "empty", "binary"])
@pytest.mark.parametrize("role", ["stack", "plan-json"])
def test_file_kinds_are_refused_in_time(tmp_path, kind, role):
    import os

    path = tmp_path / ("Pulumi.x.yaml" if role == "stack" else "x.plan.json")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "device":
        path.symlink_to("/dev/zero")
    elif kind == "symlink":
        path.symlink_to(tmp_path / "nowhere")
    elif kind == "empty":
        path.write_text("")
    elif kind == "binary":
        path.write_bytes(b"\xff\xfe\x00" * 100)
    argv = ["report", str(path)]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code in (1, 2)
