"""Reading the data files under sizing/data. CSV files may carry '#' comment lines that explain their columns."""

from __future__ import annotations

import csv
import tomllib
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


@cache
def read_csv(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a commented CSV in sizing/data, as dicts of strings."""
    with open(DATA_DIR / name, newline="") as fh:
        lines = [line for line in fh if not line.startswith("#")]
    return tuple(csv.DictReader(lines))


@cache
def read_toml(name: str) -> dict:
    """A TOML file in sizing/data."""
    with open(DATA_DIR / name, "rb") as fh:
        return tomllib.load(fh)


def optional_float(text: str) -> float | None:
    """A CSV cell as a float, or None when empty."""
    return float(text) if text.strip() else None


def as_bool(text: str) -> bool:
    """A CSV cell 'true'/'false' as a bool."""
    return text.strip().lower() == "true"
