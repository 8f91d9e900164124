"""Reading the report's inputs: stack files (run through the real program under mocks) or plan JSON files."""

from __future__ import annotations

from pathlib import Path

import pulumi

from preview.mock_run import MockRun, run_stack
from preview.report import StackResult, stack_name_of
from sizing.errors import SizingError
from sizing.planner.results import Plan


def load(path: str | Path) -> StackResult:
    """One input: a Pulumi.<stack>.yaml, or a plan JSON from `python -m sizing plan --json`."""
    path = Path(path)
    name = stack_name_of(path)
    if path.suffix == ".json":
        return StackResult(name=name, plan=Plan.model_validate_json(path.read_text()), from_plan_json=True)
    run = MockRun(stack=name)
    try:
        run_stack(path, run)
    except (pulumi.RunError, SizingError) as exc:
        return StackResult(name=name, error=str(exc))
    resources = tuple(sorted((r.type, r.name) for r in run.resources if r.custom))  # registration order is async
    return StackResult(name=name, plan=run.plan, resources=resources)
