"""Reading the report's inputs: stack files (run through the real program under mocks) or plan JSON files, and the base
side exported by the base commit's own code (preview/base.py).

Each input is a regular file of at most MAX_REPORT_INPUT_BYTES; one that cannot be read as a stack file or a plan
is bad input (exit 2). A stack the program rejects is not: it is reported as "this stack fails preview: <message>"."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from deploy.fixed_costs import FixedCosts
from deploy.stack_file import read_stack_file
from preview.export_stacks import export_stack
from preview.report import FIXED_GAPS, FixedGap, KubernetesFleet, StackResult, stack_name_of
from sizing.bounded import leaves, parse_json, read_text
from sizing.errors import InputFileError
from sizing.limits import MAX_REPORT_INPUT_BYTES
from sizing.planner.results import Plan
from sizing.redact import redact

FIX = (
    "pass stack files (stacks/Pulumi.<name>.yaml) or plan JSON files from `python -m sizing plan --json`, each at "
    f"most {MAX_REPORT_INPUT_BYTES >> 20} MiB."
)
FAILS_PREVIEW = "this stack fails preview: "
"""How a stack the program rejects is reported."""

Part = TypeVar("Part", bound=BaseModel)
"""A typed part of an export (part_of)."""
MAX_DROPPED_FIELDS = 8
"""Rounds of dropping unknown fields (each round drops every one pydantic reports) before giving up."""


def _without(data: Any, path: tuple[Any, ...]) -> None:
    for key in path[:-1]:
        data = data[key]
    del data[path[-1]]


def read_plan(text: str) -> Plan:
    """A plan JSON text another version of the engine wrote (plan_from_data)."""
    return plan_from_data(json.loads(text))


def plan_from_data(data: Any) -> Plan:
    """A parsed plan another version of the engine wrote: fields this version does not know (added, or since removed)
    are dropped; a field this version needs and the other did not write is still an error."""
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
        return StackResult(
            name=data["name"], error=FAILS_PREVIEW + redact(data.get("error") or "no plan"), inputs=inputs
        )
    try:
        plan = read_plan(data["plan"])
    except ValidationError as exc:
        return StackResult(name=data["name"], error=f"the base plan is not readable by this version's report: {exc}")
    blocker = data.get("lock_error")
    fixed = part_of(FixedCosts, data.get("fixed_costs"))
    return StackResult(
        name=data["name"],
        plan=plan,
        resources=resources,
        inputs=inputs,
        blocker=FAILS_PREVIEW + redact(blocker) if blocker else None,
        kubernetes=part_of(KubernetesFleet, data.get("kubernetes")),
        fixed_costs=fixed,
        fixed_unknown=None if fixed else fixed_gap_of(data),
    )


def part_of(model: type[Part], data: Any) -> Part | None:
    """A part of an export as `model`: the EKS summary, the fixed overhead (None: absent, as from a version that had
    none); one that does not parse is left out rather than trusted into the report."""
    if not isinstance(data, dict):
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None


def fixed_gap_of(data: dict[str, Any]) -> FixedGap:
    """Why an export has no fixed overhead: figures that do not parse, the export's own word when it is one of
    FIXED_GAPS, else a version without it."""
    if data.get("fixed_costs") is not None:
        return "unreadable"
    said = data.get("fixed_costs_unknown")
    return said if isinstance(said, str) and said in FIXED_GAPS else "version"


CONTROL_CHARACTER = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
"""What no plan the engine writes holds in a string (its names come from the catalog and presets); a plan JSON in a
pull request could carry a terminal escape or a line break into the report's table."""


def _control_character(value: Any) -> str | None:
    """The JSON path of the first string holding a control character (tab and newline aside), or None."""
    return next(
        (where for where, item in leaves(value) if isinstance(item, str) and CONTROL_CHARACTER.search(item)), None
    )


def _plan(path: Path) -> Plan:
    data = parse_json(read_text(path, MAX_REPORT_INPUT_BYTES, "plan JSON", FIX), f"plan JSON {str(path)[:200]!r}", FIX)
    odd = _control_character(data)
    if odd:
        raise InputFileError(
            f"plan JSON {str(path)[:200]!r} holds a control character at {odd[:200]!r}, which no plan "
            f"the engine writes does. To fix: {FIX}"
        )
    try:
        return plan_from_data(data)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise InputFileError(
            f"plan JSON {str(path)[:200]!r} is not a plan ({exc.error_count()} problem(s): {fields}). To fix: {FIX}"
        ) from None


def load(path: str | Path) -> StackResult:
    """One input: a Pulumi.<stack>.yaml, or a plan JSON from `python -m sizing plan --json`. Raises InputFileError
    (or StackFileError) for a file that is neither."""
    path = Path(path)
    if path.suffix == ".json":
        return StackResult(name=stack_name_of(path), plan=_plan(path), from_plan_json=True, fixed_unknown="plan-json")
    read_stack_file(path)  # bad input (exit 2) before the program runs
    return from_export(export_stack(str(path)))
