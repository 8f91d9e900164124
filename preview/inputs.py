"""Reading the report's inputs: stack files (run through the real program under mocks) or plan JSON files.

Each input is a regular file of at most MAX_REPORT_INPUT_BYTES; one that cannot be read as a stack file or a plan
is bad input (exit 2). A stack the program rejects is not: it is reported as "this stack fails preview: <message>"."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from preview.mock_run import MockRun, read_stack_file, run_stack
from preview.report import StackResult, stack_name_of
from sizing.bounded import InputFileError, parse_json, read_text
from sizing.errors import SizingError
from sizing.limits import MAX_REPORT_INPUT_BYTES
from sizing.planner.results import Plan
from sizing.redact import redact

FIX = ("pass stack files (stacks/Pulumi.<name>.yaml) or plan JSON files from `python -m sizing plan --json`, each at "
       f"most {MAX_REPORT_INPUT_BYTES >> 20} MiB.")
FAILS_PREVIEW = "this stack fails preview: "
"""How a stack the program rejects is reported."""


def _plan(path: Path) -> Plan:
    data = parse_json(read_text(path, MAX_REPORT_INPUT_BYTES, "plan JSON", FIX), f"plan JSON {str(path)[:200]!r}", FIX)
    try:
        return Plan.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise InputFileError(f"plan JSON {str(path)[:200]!r} is not a plan ({exc.error_count()} problem(s): {fields}). "
                             f"To fix: {FIX}") from None


def _program_error(exc: BaseException) -> str:
    cause = exc if isinstance(exc, SizingError) else exc.__cause__ or exc
    text = str(cause) or type(cause).__name__
    return FAILS_PREVIEW + redact(text if isinstance(cause, SizingError) or "To fix" in text
                                  else f"{type(cause).__name__}: {text}")


def load(path: str | Path) -> StackResult:
    """One input: a Pulumi.<stack>.yaml, or a plan JSON from `python -m sizing plan --json`. Raises InputFileError
    (or StackFileError) for a file that is neither."""
    path = Path(path)
    name = stack_name_of(path)
    if path.suffix == ".json":
        return StackResult(name=name, plan=_plan(path), from_plan_json=True)
    read_stack_file(path)  # bad input (exit 2) before the program runs
    run = MockRun(stack=name)
    try:
        run_stack(path, run)
    except Exception as exc:  # noqa: BLE001 - whatever stops the program is what preview would show
        return StackResult(name=name, error=_program_error(exc))
    resources = tuple(sorted((r.type, r.name) for r in run.resources if r.custom))  # registration order is async
    return StackResult(name=name, plan=run.plan, resources=resources)
