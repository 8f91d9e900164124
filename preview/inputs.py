"""Reading the report's inputs: stack files (run through the real program under mocks) or plan JSON files, and the base
side exported by the base commit's own code (preview/base.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from preview.export_stacks import export_stack
from preview.report import StackResult, stack_name_of
from sizing.planner.results import Plan

MAX_DROPPED_FIELDS = 8
"""Rounds of dropping unknown fields (each round drops every one pydantic reports) before giving up."""


def _without(data: Any, path: tuple[Any, ...]) -> None:
    for key in path[:-1]:
        data = data[key]
    del data[path[-1]]


def read_plan(text: str) -> Plan:
    """A plan another version of the engine wrote: fields this version does not know (added, or since removed) are
    dropped; a field this version needs and the other did not write is still an error."""
    data = json.loads(text)
    for _ in range(MAX_DROPPED_FIELDS):
        try:
            return Plan.model_validate(data)
        except ValidationError as exc:
            extra = [tuple(e["loc"]) for e in exc.errors() if e["type"] == "extra_forbidden"]
            if not extra or len(extra) != len(exc.errors()):
                raise
            for path in extra:
                _without(data, path)
    return Plan.model_validate(data)


def from_export(data: dict[str, Any]) -> StackResult:
    """A StackResult from preview/export_stacks.py's JSON (this checkout's or the base commit's)."""
    inputs = data.get("inputs") or {}
    resources = tuple(sorted(tuple(key.split("::", 1)) for key in inputs))  # registration order is async
    if not data.get("plan"):
        return StackResult(name=data["name"], error=data.get("error") or "no plan", inputs=inputs)
    try:
        plan = read_plan(data["plan"])
    except ValidationError as exc:
        return StackResult(name=data["name"], error=f"the base plan is not readable by this version's report: {exc}")
    return StackResult(name=data["name"], plan=plan, resources=resources, inputs=inputs)


def load(path: str | Path) -> StackResult:
    """One input: a Pulumi.<stack>.yaml, or a plan JSON from `python -m sizing plan --json`."""
    path = Path(path)
    if path.suffix == ".json":
        return StackResult(name=stack_name_of(path), plan=Plan.model_validate_json(path.read_text()), from_plan_json=True)
    return from_export(export_stack(str(path)))
