"""`python -m sizing report HEAD... --base BASE...`: the pull-request report (dispatched here lazily, so that the engine
itself never imports Pulumi)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from preview.base import STACK_GLOB, base_stacks
from preview.inputs import from_export, load
from preview.report import StackResult, build, render_json, render_markdown, stack_name_of
from sizing.cli.render import emit
from sizing.errors import SizingError
from sizing.files import check_target, same_file, write_text_atomic
from sizing.limits import MAX_REPORT_STACKS
from sizing.redact import redact

EXIT_OK, EXIT_INFEASIBLE, EXIT_BAD_INPUT = 0, 1, 2
GIT_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/~^{}@-]{0,199}")
"""A --base-ref: a commit id, branch or tag (never an option: git would read a leading '-' as one)."""


def _base_side(base: list[str], base_ref: str | None, base_python: str | None) -> list[StackResult]:
    """The base stack files planned with this checkout's engine, or, with base_ref, every stack of that commit planned
    with the commit's own engine and catalog (by base_python, when the base needs other dependencies)."""
    if base_ref is None:
        return [load(p) for p in base]
    return [from_export(data) for data in base_stacks(base_ref, python=base_python or sys.executable)]


def _bad(message: str) -> int:
    print(redact(f"error: {message}"), file=sys.stderr)
    return EXIT_BAD_INPUT


def _exists(path: str) -> bool:
    """Whether the path names something; a name too long for the file system (OSError) names nothing."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False


def report_command(
    head: list[str],
    base: list[str],
    fmt: str,
    output: str | None,
    base_ref: str | None = None,
    base_python: str | None = None,
) -> int:
    """Render the report; exit 1 when a head stack has no feasible plan or fails preview, 2 on unreadable inputs."""
    named = list(head)  # stacks named on the command line: the base side is limited to them
    if base_ref is not None and not head:
        head = sorted(str(p) for p in Path.cwd().glob(STACK_GLOB))
    if not head and not base:
        return _bad("no stack files given. To fix: pass the head branch's stack files, and --base the base branch's.")
    head, base = list(dict.fromkeys(head)), list(dict.fromkeys(base))  # a file named twice is reported once
    if max(len(head), len(base)) > MAX_REPORT_STACKS:
        return _bad(
            f"{len(head)} head and {len(base)} base inputs: a report covers at most {MAX_REPORT_STACKS} stacks a "
            "side. To fix: report on fewer stack files (name them), or split them across reports."
        )
    missing = [p for p in [*head, *base] if not _exists(p)]
    if missing:
        return _bad(
            f"no such file: {', '.join(repr(p[:200]) for p in missing)}. To fix: pass stack files "
            "(stacks/Pulumi.<name>.yaml) or plan "
            "JSON files; a stack new in this change simply has no --base file."
        )
    if output:
        fix = "pass a new file, or a regular file that is not one of the inputs, in an existing folder."
        try:
            check_target(output, "--output", fix)
        except SizingError as exc:
            return _bad(str(exc))
        named_input = [p for p in [*head, *base] if same_file(p, output)]
        if named_input:
            return _bad(
                f"--output {output[:200]!r} is the input {named_input[0][:200]!r}; writing the report would "
                f"overwrite it. To fix: {fix}"
            )
    if base_ref is not None and not GIT_REF.fullmatch(base_ref):
        return _bad(
            f"--base-ref {base_ref[:80]!r} is not a commit, branch or tag name. To fix: pass e.g. origin/main or "
            "a commit id (letters, digits and ._/-~^{}; not starting with '-')."
        )
    try:
        base_side = _base_side(base, base_ref, base_python)
        if base_ref is not None and named:  # one stack asked for: the others are not "deleted"
            base_side = [s for s in base_side if s.name in {stack_name_of(Path(p)) for p in named}]
        report = build([load(p) for p in head], base_side)
    except SizingError as exc:
        return _bad(str(exc))
    except (OSError, subprocess.SubprocessError, ValueError, KeyError, TypeError) as exc:  # git, or a base export
        return _bad(
            f"the base side could not be planned ({type(exc).__name__}: {' '.join(str(exc).split())[:300]}). "
            "To fix: check --base-ref and that the base commit's stacks run (python -m preview there)."
        )
    text = (
        render_markdown(report)
        if fmt == "markdown"
        else json.dumps(render_json(report), indent=2, sort_keys=True) + "\n"
    )
    text = redact(text)
    if output:
        try:
            write_text_atomic(output, text, "--output", "pass a writable file path on a disk with room.")
        except SizingError as exc:
            return _bad(str(exc))
    else:
        emit(text, end="")
    if report.failed:
        names = ", ".join(d.name for d in report.diffs if d.status == "infeasible" or (d.head and d.head.blocker))
        print(
            redact(
                f"infeasible: stack(s) {names} would fail `pulumi preview` (no feasible plan, a rejected "
                "config or a stale plan lock); "
                "the report says why.\nTo fix: correct those stacks as the report shows."
            ),
            file=sys.stderr,
        )
        return EXIT_INFEASIBLE
    return EXIT_OK
