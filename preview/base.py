"""The base side of the pull-request report, planned as the base branch would plan it: the base commit is checked out
into a temporary folder (`git archive`) and its own engine, catalog and components run its own stack files there.
So a change to prices, the speed model or the components shows up as a change; planning the base with the head's
engine would report every stack as unchanged.

Results are cached per commit and export driver (a commit never changes; a newer driver exports more, such as the
fixed overhead): <cache>/report/<commit>-<driver digest>.json, where <cache> is the pre-flight cache's folder
($LLMFLEET_CACHE_DIR, else $XDG_CACHE_HOME/llm-fleet, else ~/.cache/llm-fleet). The cache holds plans and input digests,
never input values."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from sizing.bounded import parse_json, read_text
from sizing.errors import InvalidInputError, SizingError
from sizing.limits import MAX_REPORT_INPUT_BYTES
from sizing.live.cache import default_cache_dir

DRIVER = Path(__file__).with_name("export_stacks.py")
STACK_GLOB = "stacks/Pulumi.*.yaml"
TIMEOUT_S = 600
"""Planning every base stack must finish within this (the report job's budget)."""
DRIVER_DIGEST_CHARS = 12
"""Hex characters of the export driver's digest in a cache file's name."""


def cache_dir() -> Path:
    """The report's folder in the project's cache (the pre-flight cache's root, sizing.live.cache)."""
    return default_cache_dir() / "report"


def _git(repo: Path, *args: str) -> bytes:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, timeout=TIMEOUT_S)
    if done.returncode != 0:
        raise InvalidInputError(
            f"git {' '.join(args)} failed in {repo}: {done.stderr.decode().strip()}. To fix: pass a "
            "commit, branch or tag of this repository as --base-ref (fetch it first in CI)."
        )
    return done.stdout


def cache_file(commit: str) -> Path:
    """Where a base commit's export is cached: per commit and per export driver (this checkout's export_stacks.py)."""
    digest = hashlib.sha256(DRIVER.read_bytes()).hexdigest()[:DRIVER_DIGEST_CHARS]
    return cache_dir() / f"{commit}-{digest}.json"


def resolve(repo: Path, ref: str) -> str:
    """The full commit id of a ref."""
    return _git(repo, "rev-parse", "--verify", f"{ref}^{{commit}}").decode().strip()


def _plan_checkout(folder: Path, python: str) -> list[dict[str, Any]]:
    stacks = sorted(str(p.relative_to(folder)) for p in folder.glob(STACK_GLOB))
    if not stacks:
        return []
    script = folder / "_llmfleet_export_stacks.py"
    script.write_text(DRIVER.read_text())
    env = {**os.environ, "PYTHONPATH": str(folder), "LLMFLEET_PREFLIGHT": "off"}
    try:
        done = subprocess.run(
            [python, script.name, *stacks], cwd=folder, env=env, capture_output=True, timeout=TIMEOUT_S
        )
    except OSError as exc:
        raise InvalidInputError(
            f"cannot run the base's interpreter {python!r}: {exc.strerror}. To fix: pass "
            "--base-python a Python with the base's dependencies, or leave it out."
        ) from None
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-5:]
        raise InvalidInputError(
            "planning the base commit's stacks with its own engine failed:\n"
            + "\n".join(tail)
            + "\nTo fix: check that the base commit's program runs (python -m preview there)."
        )
    return json.loads(done.stdout)


def base_stacks(ref: str, repo: Path | None = None, python: str = sys.executable) -> list[dict[str, Any]]:
    """Every stack file of the base commit, exported (preview/export_stacks.py) by the base commit's own code."""
    repo = repo or Path.cwd()
    commit = resolve(repo, ref)
    cached = cache_file(commit)
    hit = _read_cached(cached)
    if hit is not None:
        return hit
    with tempfile.TemporaryDirectory(prefix="llmfleet-base-") as tmp:
        tarfile.open(fileobj=io.BytesIO(_git(repo, "archive", "--format=tar", commit))).extractall(tmp, filter="data")
        exported = _plan_checkout(Path(tmp), python)
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=cached.parent, prefix=".tmp-", delete=False) as fh:
        fh.write(json.dumps(exported, sort_keys=True))
    os.replace(fh.name, cached)  # atomic: a concurrent report never reads half a file
    return exported


def _read_cached(path: Path) -> list[dict[str, Any]] | None:
    """The cached export of a base commit, if the file is one (a list of stacks, each with a name); a corrupt,
    truncated or hand-edited file is deleted and the base planned again, rather than failing every later report."""
    if not path.exists():
        return None
    try:
        data = parse_json(
            read_text(path, MAX_REPORT_INPUT_BYTES, "base cache", "it is rebuilt"), "base cache", "rebuilt"
        )
    except SizingError:
        data = None
    if isinstance(data, list) and all(isinstance(d, dict) and isinstance(d.get("name"), str) for d in data):
        return data
    path.unlink(missing_ok=True)
    return None
