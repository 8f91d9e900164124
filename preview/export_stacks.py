"""Run stack files through the Pulumi program under mocks and print what each creates, as JSON: the plan, or the
engine's error, and every cloud resource with a digest of each input (never the value: inputs may hold secrets).

Self-contained on purpose: the report copies this file into a checkout of the base commit and runs it there, with the
base's own engine, catalog and components (`python export_stacks.py STACK...`). It relies only on
preview.mock_run's run_stack, stack_name and MockRun, which every version of the project has."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from preview.mock_run import MockRun, run_stack, stack_name


def digest(value: Any) -> str:
    """A stable fingerprint of one input value (sorted JSON, SHA-256, first 16 hex digits)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _run(path: str) -> dict[str, Any]:
    run = MockRun(stack=stack_name(path))
    try:
        run_stack(path, run)
    except Exception as exc:  # the program's own failure (bad config, infeasible plan) is the result to report
        return {"name": run.stack, "plan": None, "error": str(exc), "inputs": {}}
    inputs = {f"{r.type}::{r.name}": {k: digest(v) for k, v in sorted(r.inputs.items())} for r in run.resources if r.custom}
    return {"name": run.stack, "plan": run.plan.model_dump_json() if run.plan else None, "error": None, "inputs": inputs}


def export_stack(path: str) -> dict[str, Any]:
    """{name, plan (JSON text) or error, inputs: {"type::name": {input: digest}}, lock_error} for one stack file. A
    stack that fails only because of its plan lock (Pulumi.<stack>.plan.json next to it, made for other config) is run
    again without the lock, so that the report shows what the change buys; lock_error says why preview fails."""
    result = _run(path)
    lock = Path(path).with_name(Path(path).name.rsplit(".", 1)[0] + ".plan.json")
    if result["plan"] is not None or not lock.exists():
        return {**result, "lock_error": None}
    with tempfile.TemporaryDirectory() as folder:
        unlocked = _run(shutil.copy(path, str(Path(folder) / Path(path).name)))
    return {**unlocked, "lock_error": result["error"]} if unlocked["plan"] is not None else {**result, "lock_error": None}


if __name__ == "__main__":
    json.dump([export_stack(p) for p in sys.argv[1:]], sys.stdout, sort_keys=True)
