"""Copies of the dev example stack with its plan lock, forged or edited as a hostile pull request would, and the check
that such a stack is refused (exit 2, "To fix:") before any resource is registered."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pulumi
import pytest

from deploy.plan_lock import PlanLock, lock_path, plan_digest
from preview.__main__ import main as preview
from preview.mock_run import MockRun, run_stack
from sizing.errors import SizingError

ROOT = Path(__file__).resolve().parents[2]


DEV = ROOT / "stacks/Pulumi.dev.yaml"


HF_TOKEN = "hf_" + "ZyXwVuTsRqPoNmLkJiHgFeDcBa98765432"


AWS_KEY = "AKIA" + "ABCDEFGHIJKLMNOP"


def dev_copy(tmp_path: Path, name: str = "dev") -> Path:
    stack = tmp_path / f"Pulumi.{name}.yaml"
    shutil.copy(DEV, stack)
    shutil.copy(lock_path(DEV), lock_path(stack))
    return stack


def forge(stack: Path, edit) -> None:
    """Edit the lock's plan as an attacker who also rewrites its digest would."""
    path = lock_path(stack)
    data = json.loads(path.read_text())
    edit(data["plan"])
    lock = PlanLock.model_validate(data)
    data["plan_sha256"] = plan_digest(lock.plan)
    path.write_text(json.dumps(data))


def refused_before_any_resource(stack: Path, capsys, code: int = 2) -> str:
    run = MockRun(stack=stack.name.split(".")[1])
    with pytest.raises((pulumi.RunError, SizingError)):
        run_stack(stack, run)
    assert [r for r in run.resources if r.custom] == []
    capsys.readouterr()
    assert preview([str(stack)]) == code
    err = capsys.readouterr().err
    assert "To fix" in err and "Traceback" not in err
    return err


def set_in_plan(*path, value):
    def edit(plan):
        for key in path[:-1]:
            plan = plan[key]
        plan[path[-1]] = value

    return edit


def plan_json(tmp_path: Path, edit) -> Path:
    data = json.loads(lock_path(DEV).read_text())["plan"]
    edit(data)
    path = tmp_path / "evil.plan.json"
    path.write_text(json.dumps(data))
    return path
