"""Reading untrusted files with bounds: a regular file only (never a FIFO, device or folder), at most a given number
of bytes, UTF-8, and JSON nested at most a given depth. One reader for config.json, plan JSON, stack files and the
pre-flight cache."""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sizing.errors import InputFileError
from sizing.limits import MAX_JSON_DEPTH


def read_text(path: str | Path, max_bytes: int, what: str, fix: str, error: type[ValueError] = InputFileError) -> str:
    """The file's text; raises `error` naming the path and what is wrong with it."""
    shown = repr(str(path)[:200])
    try:
        info = os.stat(path)  # never opens: a FIFO cannot block here
    except FileNotFoundError:
        raise error(f"{what} {shown} does not exist. To fix: {fix}") from None
    except (OSError, ValueError) as exc:  # name too long, embedded NUL, permission, loop
        raise error(
            f"{what} {shown} cannot be read ({type(exc).__name__}: {getattr(exc, 'strerror', '') or exc}). "
            f"To fix: {fix}"
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise error(f"{what} {shown} is a folder, not a file. To fix: {fix}")
    if not stat.S_ISREG(info.st_mode):
        raise error(f"{what} {shown} is not a regular file (a FIFO, socket or device). To fix: {fix}")
    if info.st_size > max_bytes:
        raise error(f"{what} {shown} is {info.st_size:,} bytes, over the {max_bytes:,}-byte limit. To fix: {fix}")
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise error(f"{what} {shown} cannot be read ({exc.strerror or exc}). To fix: {fix}") from None
    if len(data) > max_bytes:
        raise error(f"{what} {shown} grew past the {max_bytes:,}-byte limit while being read. To fix: {fix}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {shown} is not UTF-8 text (byte {exc.start}). To fix: {fix}") from None


def depth(value: Any) -> int:
    """Nesting depth of parsed JSON (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children)
    return deepest


def leaves(value: Any, where: str = "$") -> Iterator[tuple[str, Any]]:
    """Every scalar of parsed JSON or YAML with its path (`$.a[0].b`), without recursion."""
    stack = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, dict):
            stack.extend((v, f"{path}.{k}") for k, v in item.items())
        elif isinstance(item, (list, tuple)):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(item))
        else:
            yield path, item


def parse_json(
    text: str, what: str, fix: str, max_depth: int = MAX_JSON_DEPTH, error: type[ValueError] = InputFileError
) -> Any:
    """Parsed JSON, refusing invalid text, NaN/Infinity literals and nesting deeper than max_depth."""

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a JSON number")

    try:
        value = json.loads(text, parse_constant=no_constants)
    except json.JSONDecodeError as exc:
        raise error(f"{what} is not valid JSON ({exc.msg} at line {exc.lineno}). To fix: {fix}") from None
    except RecursionError:
        raise error(f"{what} nests deeper than {max_depth} levels. To fix: {fix}") from None
    except ValueError as exc:
        raise error(f"{what} is not valid JSON ({exc}). To fix: {fix}") from None
    if depth(value) > max_depth:
        raise error(f"{what} nests deeper than {max_depth} levels. To fix: {fix}")
    odd = unwritable(value)
    if odd:
        raise error(f"{what} is not valid JSON text ({odd}). To fix: {fix}")
    return value


def unwritable(value: Any) -> str | None:
    """What in parsed JSON no tool can print or compute with: a number too large for a float (1e999 parses as
    infinity), or a lone surrogate (\\ud800 parses into text no encoder writes); None if nothing. Keys included."""
    for where, item in leaves(value):
        texts = [item] if isinstance(item, str) else []
        texts.append(where)  # the path holds the keys
        if isinstance(item, float) and not math.isfinite(item):
            return f"a number at {where[:100]!r} is out of range"
        if any(0xD800 <= ord(c) <= 0xDFFF for t in texts for c in t):
            return (
                "a lone surrogate (half of a UTF-16 pair) near "
                f"{where[:100].encode('utf-8', 'backslashreplace').decode()!r}"
            )
    return None
