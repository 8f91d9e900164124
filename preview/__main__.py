"""python -m preview [STACK_FILE ...]: the plan and the resources `pulumi up` would create, under mocks, no credentials.
Exit codes as the engine's CLI: 0 ok, 1 nothing feasible, 2 bad input (a refused config, an unusable plan lock, an
unreadable file); 130 on Ctrl-C."""

from __future__ import annotations

import sys
from collections import Counter

from sizing.extras import exit_unless_installed

exit_unless_installed("python -m preview", ("pulumi", "pulumi_aws", "pulumi_kubernetes"))  # no traceback without them

from preview.mock_run import MockRun, close_event_loop, run_stack
from sizing.cli.main import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_INTERRUPTED, EXIT_OK
from sizing.cli.render import plan_lines, wrapped
from sizing.errors import InfeasibleError, SizingError
from sizing.redact import safe_text

DEFAULT_STACK = "stacks/Pulumi.dev.yaml"
USAGE = (
    "usage: python -m preview [STACK_FILE ...]\n"
    "  the plan and the resources `pulumi up` would create for each stack file (default: "
    f"{DEFAULT_STACK}), under Pulumi's mocks, no credentials"
)


def resource_lines(run: MockRun) -> list[str]:
    """Resources grouped by type, with their logical names."""
    custom = [r for r in run.resources if r.custom]
    counts = Counter(r.type for r in custom)
    lines = [
        f"Resources `pulumi up` would create for stack {run.stack!r} ({len(custom)} resources, "
        f"{len(run.resources) - len(custom)} components; run under Pulumi mocks, no credentials):"
    ]
    for kind in sorted(counts):
        names = ", ".join(sorted(r.name for r in custom if r.type == kind))
        lines.append(f"  {counts[kind]} x {kind}: {names}")
    lines.append(
        f"Outputs: endpoint={run.outputs.get('endpoint')}, autoscaling_groups={run.outputs.get('autoscaling_groups')}"
    )
    return lines


def warning_lines(run: MockRun) -> list[str]:
    """What the program logged as a warning or an error (pulumi.log): what `pulumi preview` would print."""
    return [line for line in run.logs if line.startswith(("warning:", "error:"))]


def exit_code(exc: BaseException) -> int:
    """1 where nothing fits, 2 for everything else the program refuses."""
    cause = exc if isinstance(exc, SizingError) else getattr(exc, "__cause__", None) or exc
    return (
        EXIT_INFEASIBLE if isinstance(cause, InfeasibleError) or getattr(exc, "infeasible", False) else EXIT_BAD_INPUT
    )


def main(argv: list[str]) -> int:
    if any(a in ("-h", "--help") for a in argv):
        print(USAGE)
        return EXIT_OK
    options = [a for a in argv if a.startswith("-")]
    if options:  # never read as a file name
        print(
            safe_text(
                f"{USAGE}\nerror: unknown option {options[0][:100]!r}. To fix: pass stack files only (a file "
                "whose name starts with '-': ./NAME)."
            ),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    for path in argv or [DEFAULT_STACK]:
        run = MockRun(stack="")
        try:
            run = run_stack(path)
        except Exception as exc:  # the program's own error (bad config, infeasible plan) is the message to show
            cause = exc if isinstance(exc, SizingError) else getattr(exc, "__cause__", None) or exc
            print(safe_text(f"{path}: {cause}"), file=sys.stderr)
            return exit_code(exc)
        assert run.plan is not None
        for line in warning_lines(run):
            print(safe_text(line), file=sys.stderr)
        print(safe_text("\n".join(wrapped([*plan_lines(run.plan), "", *resource_lines(run), ""]))))
    return EXIT_OK


def interrupted() -> int:
    """Ctrl-C: one line, no traceback (nothing is written by this command)."""
    print("interrupted", file=sys.stderr)
    return EXIT_INTERRUPTED


if __name__ == "__main__":
    try:
        code = main(sys.argv[1:])
    except KeyboardInterrupt:
        code = interrupted()
    close_event_loop()
    sys.exit(code)
