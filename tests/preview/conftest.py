"""The report's inputs, each stack file run through the program under mocks once per test session."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from preview import inputs
from preview.report import StackResult


def _fingerprint(path: Path) -> str:
    """The stack file and its neighbours (its plan lock among them): a file a test edits is run again."""
    digest = hashlib.sha256()
    for item in sorted(path.parent.glob("Pulumi.*")):
        digest.update(item.name.encode() + b"\0" + item.read_bytes() + b"\0")
    return digest.hexdigest()


@cache
def _load(path: Path, fingerprint: str) -> StackResult:
    return inputs.load(path)


def load(path: str | Path) -> StackResult:
    """preview.inputs.load, cached per stack file and content: the program is deterministic, and a report test reads
    the same stacks many times. Plan JSON inputs are read afresh (they cost nothing)."""
    path = Path(path).resolve()
    if path.suffix == ".json" or not path.is_file():
        return inputs.load(path)
    return _load(path, _fingerprint(path))
