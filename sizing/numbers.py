"""Number fields read from stack files, config and the command line. Python's bool is an int, so pydantic's lax mode
reads `api_port: true` as port 1 and `concurrency: false` as 0: these types refuse a boolean where a number belongs
(ints, floats and strings of digits are still converted as before)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator


def _not_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a boolean, not a number; give a number (true/false are not 1/0 here)")
    return value


NOT_BOOL = BeforeValidator(_not_bool)
"""Refuses True/False before pydantic converts it to 1/0."""
Int = Annotated[int, NOT_BOOL]
"""An int field that refuses booleans."""
Float = Annotated[float, NOT_BOOL]
"""A float field that refuses booleans."""
