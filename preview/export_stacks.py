"""Run stack files through the Pulumi program under mocks and print what each creates, as JSON: the plan, or the
engine's error, and every cloud resource with a digest of each input (never the value: inputs may hold secrets).

Self-contained on purpose: the report copies this file into a checkout of the base commit and runs it there, with the
base's own engine, catalog and components (`python export_stacks.py STACK...`). It relies only on
preview.mock_run's run_stack, stack_name and MockRun, which every version of the project has."""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any

from preview.mock_run import MockRun, run_stack, stack_name


def digest(value: Any) -> str:
    """A stable fingerprint of one input value (sorted JSON, SHA-256, first 16 hex digits)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def export_stack(path: str) -> dict[str, Any]:
    """{name, plan (JSON text) or error, inputs: {"type::name": {input: digest}}} for one stack file."""
    run = MockRun(stack=stack_name(path))
    try:
        run_stack(path, run)
    except Exception as exc:  # the program's own failure (bad config, infeasible plan) is the result to report
        return {"name": run.stack, "plan": None, "error": str(exc), "inputs": {}}
    inputs = {f"{r.type}::{r.name}": {k: digest(v) for k, v in sorted(r.inputs.items())} for r in run.resources if r.custom}
    return {"name": run.stack, "plan": run.plan.model_dump_json() if run.plan else None, "error": None, "inputs": inputs}


if __name__ == "__main__":
    json.dump([export_stack(p) for p in sys.argv[1:]], sys.stdout, sort_keys=True)
