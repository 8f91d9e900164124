"""The JSON schemas of what `python -m sizing memory|speed|plan --json` print, derived from the typed results, and
kept as files under docs/schemas/ (checked current by a test).

Regenerate after a change to a result model: `python -m sizing.schemas`; `--check` exits 1 when a file is stale."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from sizing.memory.results import MemoryResult
from sizing.planner.results import Plan
from sizing.speed.results import SpeedResult

TARGET = Path(__file__).resolve().parents[1] / "docs" / "schemas"
"""Where the schema files live: docs/schemas/<command>.schema.json."""
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The dialect pydantic writes (https://docs.pydantic.dev/latest/concepts/json_schema/)."""
RESULTS: dict[str, Any] = {"memory": MemoryResult, "speed": SpeedResult, "plan": Plan}
"""Each command's typed result (`plan --stack`, `--bench-commands` and a weight format the command line's default
chose (`weights_note`) add keys beside the plan's)."""


def schema(command: str) -> dict[str, Any]:
    """The JSON schema of `python -m sizing <command> --json`, as its typed result serializes."""
    body = TypeAdapter(RESULTS[command]).json_schema(mode="serialization")
    return {"$schema": JSON_SCHEMA_DIALECT, "title": f"python -m sizing {command} --json", **body}


def text(command: str) -> str:
    """The schema file's content."""
    return json.dumps(schema(command), indent=2, sort_keys=True) + "\n"


def main(argv: list[str] | None = None, target: Path | None = None) -> int:
    """Write every schema file (0), or with --check report the stale ones (1)."""
    check, folder = "--check" in (argv or []), target or TARGET
    stale = [
        c
        for c in RESULTS
        if not (folder / f"{c}.schema.json").exists() or (folder / f"{c}.schema.json").read_text() != text(c)
    ]
    if check:
        for c in stale:
            print(f"{folder / f'{c}.schema.json'} is stale. To fix: python -m sizing.schemas", file=sys.stderr)
        return 1 if stale else 0
    folder.mkdir(parents=True, exist_ok=True)
    for c in RESULTS:
        (folder / f"{c}.schema.json").write_text(text(c))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
