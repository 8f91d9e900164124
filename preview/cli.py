"""`python -m sizing report HEAD... --base BASE...`: the pull-request report (dispatched here lazily, so that the engine
itself never imports Pulumi)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from preview.base import STACK_GLOB, base_stacks
from preview.inputs import from_export, load
from preview.report import StackResult, build, render_json, render_markdown
from sizing.errors import SizingError

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT = 0, 1, 2


def _base_side(base: list[str], base_ref: str | None, base_python: str | None) -> list[StackResult]:
    """The base stack files planned with this checkout's engine, or, with base_ref, every stack of that commit planned
    with the commit's own engine and catalog (by base_python, when the base needs other dependencies)."""
    if base_ref is None:
        return [load(p) for p in base]
    return [from_export(data) for data in base_stacks(base_ref, python=base_python or sys.executable)]


def report_command(head: list[str], base: list[str], fmt: str, output: str | None, base_ref: str | None = None,
                   base_python: str | None = None) -> int:
    """Render the report; exit 1 when a head stack has no feasible plan, 2 on bad input."""
    if base_ref is not None and not head:
        head = sorted(str(p) for p in Path.cwd().glob(STACK_GLOB))
    if not head and not base:
        print("error: no stack files given. To fix: pass the head branch's stack files, and --base the base branch's.",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    missing = [p for p in [*head, *base] if not Path(p).exists()]
    if missing:
        print(f"error: no such file: {', '.join(missing)}. To fix: pass stack files (stacks/Pulumi.<name>.yaml) or plan "
              "JSON files; a stack new in this change simply has no --base file.", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        base_side = _base_side(base, base_ref, base_python)
    except SizingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    report = build([load(p) for p in head], base_side)
    text = render_markdown(report) if fmt == "markdown" else json.dumps(render_json(report), indent=2, sort_keys=True) + "\n"
    if output:
        Path(output).write_text(text)
    else:
        sys.stdout.write(text)
    return EXIT_INFEASIBLE if report.failed else EXIT_OK
