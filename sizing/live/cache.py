"""A small on-disk cache of pre-flight answers, with a time-to-live, so repeated previews do not call AWS again."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

DEFAULT_TTL_S = 3600
"""Offerings, quotas and specs change rarely; spot prices within the hour are close enough for sizing."""
CACHE_ENV = "LLMFLEET_CACHE_DIR"


def default_cache_dir() -> Path:
    """$LLMFLEET_CACHE_DIR, else $XDG_CACHE_HOME/llm-fleet, else ~/.cache/llm-fleet."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "llm-fleet"


def _path(cache_dir: Path, key: tuple) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:24]
    return cache_dir / f"{key[0]}-{digest}.json"


def read(cache_dir: Path, key: tuple, ttl_s: float) -> tuple[Any, str] | None:
    """(value, fetched_at) if a fresh entry exists, else None (missing, stale or unreadable)."""
    path = _path(cache_dir, key)
    try:
        entry = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if time.time() - entry.get("fetched_epoch", 0) > ttl_s:
        return None
    return entry["value"], entry["fetched_at"]


def write(cache_dir: Path, key: tuple, value: Any, fetched_at: str) -> None:
    """Store a value; a cache that cannot be written is skipped silently (it is only an optimisation)."""
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        _path(cache_dir, key).write_text(json.dumps({"fetched_at": fetched_at, "fetched_epoch": time.time(), "value": value}))
    except OSError:
        pass
