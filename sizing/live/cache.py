"""A small on-disk cache of pre-flight answers, with a time-to-live, so repeated previews do not call AWS again.

Cache files are untrusted (shared folders, concurrent runs, a crash mid-write, a hand edit): an entry is used only
when it is a bounded JSON object of the expected shape whose value passes the caller's validation; a corrupt one is
deleted and reported (CorruptEntry); a NaN or future timestamp counts as expired. Writes are atomic (temp file, then
os.replace), so concurrent runs never see half a file."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sizing.bounded import parse_json, read_text
from sizing.errors import CorruptEntry, SizingError
from sizing.names import DASHED_NAME

DEFAULT_TTL_S = 3600
"""Offerings, quotas and specs change rarely; spot prices within the hour are close enough for sizing."""
CACHE_ENV = "LLMFLEET_CACHE_DIR"
MAX_ENTRY_BYTES = 8 << 20
"""Largest cache file read (the specs of every catalog type take about 100 KiB)."""
TIMESTAMP_MAX_CHARS = 40
"""Longest fetched_at accepted ('2026-11-27T08:00:00.123456+00:00' is 32)."""
CLOCK_SKEW_S = 300
"""A timestamp further than this in the future is not trusted (the entry counts as expired)."""


def default_cache_dir() -> Path:
    """$LLMFLEET_CACHE_DIR, else $XDG_CACHE_HOME/llm-fleet, else ~/.cache/llm-fleet."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / DASHED_NAME


def _path(cache_dir: Path, key: tuple) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return cache_dir / f"{key[0]}-{digest}.json"


def _discard(path: Path, why: str) -> CorruptEntry:
    try:
        path.unlink()
    except OSError:
        pass
    return CorruptEntry(f"cache file {path.name} discarded: {why}")


def _is_timestamp(text: Any) -> bool:
    """An ISO 8601 time as now_iso() writes it: fetched_at reaches plan outputs and the pull-request report, so a hand
    edited one (markdown, control characters, a pasted token, megabytes) is never passed on."""
    if not isinstance(text, str) or len(text) > TIMESTAMP_MAX_CHARS:
        return False
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def read(
    cache_dir: Path, key: tuple, ttl_s: float, validate: Callable[[Any], Any] = lambda v: v
) -> tuple[Any, str] | None:
    """(validated value, fetched_at) if a fresh, sound entry exists; None if missing or expired. Raises CorruptEntry
    (after deleting the file) when the file is not a sound entry or `validate` refuses its value."""
    path = _path(cache_dir, key)
    if not path.exists():
        return None
    try:
        entry = parse_json(
            read_text(path, MAX_ENTRY_BYTES, "cache file", "it is deleted"), "cache file", "it is deleted"
        )
    except SizingError as exc:
        raise _discard(path, str(exc).split(". To fix")[0]) from None
    if not isinstance(entry, dict) or not {"fetched_at", "fetched_epoch", "value"} <= set(entry):
        raise _discard(path, "not an entry (fetched_at, fetched_epoch, value)")
    epoch, fetched_at = entry["fetched_epoch"], entry["fetched_at"]
    if not _is_timestamp(fetched_at) or isinstance(epoch, bool) or not isinstance(epoch, (int, float)):
        raise _discard(path, "its timestamps are not an ISO 8601 time and a number")
    now = time.time()
    if not math.isfinite(epoch) or epoch > now + CLOCK_SKEW_S or now - epoch > ttl_s:
        return None
    try:
        return validate(entry["value"]), fetched_at
    except (ValueError, TypeError) as exc:
        raise _discard(path, f"its value is not of the expected shape ({_shape_problem(exc)})") from None


SHAPE_PROBLEMS_SHOWN = 3
"""How many of a refused value's problems the notice names."""
SAFE_NAME = re.compile(r"[A-Za-z0-9_.\[\]-]+")
NAME_SHOWN_MAX_CHARS = 40
"""A key of a refused value is named in the notice only when it is this plain and short."""


def _shape_problem(exc: Exception) -> str:
    """Where and why a cached value was refused, never the value itself (a poisoned entry's text, escapes or Markdown
    included, must not reach a terminal or a PR report)."""
    errors = getattr(exc, "errors", None)
    if not callable(errors):
        return type(exc).__name__
    found = errors(include_input=False, include_url=False)
    return "; ".join(
        f"{'.'.join(_safe_part(part) for part in e['loc']) or 'value'}: {e['msg'][:80]}"
        for e in found[:SHAPE_PROBLEMS_SHOWN]
    )


def _safe_part(part: Any) -> str:
    """A location in a refused value: an index or a plain name; a key that is itself the poisoned text shows as '?'."""
    text = str(part)
    return text if len(text) <= NAME_SHOWN_MAX_CHARS and SAFE_NAME.fullmatch(text) else "?"


def write(cache_dir: Path, key: tuple, value: Any, fetched_at: str) -> None:
    """Store a value atomically; a cache that cannot be written is skipped silently (it is only an optimisation)."""
    temp = None
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"fetched_at": fetched_at, "fetched_epoch": time.time(), "value": value}, allow_nan=False)
        with tempfile.NamedTemporaryFile("w", dir=cache_dir, prefix=".tmp-", suffix=".json", delete=False) as fh:
            temp = fh.name
            fh.write(text)
        os.replace(temp, _path(cache_dir, key))
    except (OSError, ValueError, TypeError):
        if temp:  # a full disk or a folder where the entry goes: leave no temp file behind, run after run
            with contextlib.suppress(OSError):
                os.unlink(temp)
