"""Rejection.kind is a closed set (RejectionKind) that names every kind the planner emits, each documented."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest
from pydantic import ValidationError

from sizing.planner.replica import MissKind
from sizing.planner.results import Rejection, RejectionKind

PLANNER = Path(__file__).resolve().parents[2] / "sizing/planner"
KINDS = set(typing.get_args(RejectionKind))


def emitted_kinds() -> set[str]:
    """Every literal kind the planner passes to reject() (third argument) or Rejection(kind=...)."""
    found = set()
    for path in PLANNER.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            args = [
                *(node.args[2:3] if node.func.id == "reject" else []),
                *(k.value for k in node.keywords if k.arg == "kind" and node.func.id in ("reject", "Rejection")),
            ]
            found |= {a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return found


def test_every_emitted_kind_is_in_the_closed_set():
    emitted = emitted_kinds() | set(typing.get_args(MissKind))  # a replica's miss is passed on as its kind
    assert emitted == KINDS  # and none is listed that the planner never emits


def test_every_kind_is_documented():
    """RejectionKind's docstring (the string after it in results.py) says what each kind means."""
    body = ast.parse((PLANNER / "results.py").read_text()).body
    index = next(
        i
        for i, n in enumerate(body)
        if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", None) == "RejectionKind"
    )
    doc = body[index + 1].value.value  # type: ignore[attr-defined]
    assert [k for k in sorted(KINDS) if f"{k}:" not in doc and f"{k}," not in doc] == []


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValidationError):
        Rejection(instance_type="g5.xlarge", tensor_parallel=None, pipeline_parallel=None, kind="quota", reason="x")
