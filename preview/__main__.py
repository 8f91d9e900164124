"""python -m preview [STACK_FILE ...]: the plan and the resources `pulumi up` would create, under mocks, no credentials."""

from __future__ import annotations

import sys
from collections import Counter

from preview.mock_run import MockRun, close_event_loop, run_stack
from sizing.cli.render import plan_lines
from sizing.errors import SizingError
from sizing.redact import redact

DEFAULT_STACK = "stacks/Pulumi.dev.yaml"


def resource_lines(run: MockRun) -> list[str]:
    """Resources grouped by type, with their logical names."""
    custom = [r for r in run.resources if r.custom]
    counts = Counter(r.type for r in custom)
    lines = [f"Resources `pulumi up` would create for stack {run.stack!r} ({len(custom)} resources, "
             f"{len(run.resources) - len(custom)} components; run under Pulumi mocks, no credentials):"]
    for kind in sorted(counts):
        names = ", ".join(sorted(r.name for r in custom if r.type == kind))
        lines.append(f"  {counts[kind]} x {kind}: {names}")
    lines.append(f"Outputs: endpoint={run.outputs.get('endpoint')}, autoscaling_groups={run.outputs.get('autoscaling_groups')}")
    return lines


def main(argv: list[str]) -> int:
    for path in argv or [DEFAULT_STACK]:
        try:
            run = run_stack(path)
        except Exception as exc:  # the program's own error (bad config, infeasible plan) is the message to show
            cause = exc if isinstance(exc, SizingError) else getattr(exc, "__cause__", None) or exc
            print(redact(f"{path}: {cause}"), file=sys.stderr)
            return 1
        assert run.plan is not None
        print("\n".join([*plan_lines(run.plan), "", *resource_lines(run), ""]))
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    close_event_loop()
    sys.exit(code)
