"""Writing generated files, or (`--check`) saying which are out of date: one rule for the argument types and docs/."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(files: dict[Path, str], argv: list[str], command: str) -> int:
    """Write every file; with --check write nothing and exit 1 naming each file whose text differs from `files`."""
    if "--check" in argv:
        stale = [path for path, text in files.items() if not path.exists() or path.read_text() != text]
        for path in stale:
            print(f"{path} is out of date. To fix: {command}", file=sys.stderr)
        return 1 if stale else 0
    for path, text in files.items():
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
    return 0
