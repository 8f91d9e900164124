"""Reading the data files under sizing/data. CSV files may carry '#' comment lines that explain their columns.

Every command parses several of these files at start (the prices alone are ~1,500 CSV rows, the TOML files ~30 KB read
by a pure-Python parser): ~25 ms of a whole-process `plan`. Their parsed form is therefore kept as Python keeps
bytecode: in sizing/data/__pycache__, named by the file, a digest of its bytes and the interpreter's cache tag, written
only where bytecode would be written (not under PYTHONDONTWRITEBYTECODE, nor into a read-only install) and trusted as
the bytecode beside it is. A changed file has another digest, so it is parsed afresh; what the models built from the
rows validate is the same either way (the parsed values, not validated objects, are kept)."""

from __future__ import annotations

import contextlib
import csv
import io
import marshal
import os
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PARSED_DIR = DATA_DIR / "__pycache__"
"""Where the parsed forms are kept (beside the bytecode the interpreter keeps the same way)."""
PARSED_FORMAT = 1
"""The layout of a kept parsed form; a new layout leaves the old files unread."""


@cache
def read_csv(name: str) -> tuple[dict[str, str], ...]:
    """Rows of a commented CSV in sizing/data, as dicts of strings (as csv.DictReader makes them: blank rows skipped,
    a short row's missing cells None, a long row's extra cells a list under the key None)."""
    return _parsed(name, _parse_csv)


@cache
def read_toml(name: str) -> dict:
    """A TOML file in sizing/data."""
    return _parsed(name, _parse_toml)


def _parse_toml(raw: bytes) -> dict:
    import tomllib  # loaded when a file is parsed, not when its kept parsed form is read (start-up time)

    return tomllib.loads(raw.decode())


def _parse_csv(raw: bytes) -> tuple[dict[str, str], ...]:
    lines = [line for line in io.StringIO(raw.decode(), newline="") if not line.startswith("#")]
    reader = csv.reader(lines)
    header = next(reader, [])
    return tuple(_row(header, cells) for cells in reader if cells)


def _row(header: list[str], cells: list[str]) -> dict[str, str]:
    """One row as csv.DictReader maps it (restkey and restval None), at a third less of its time."""
    row: dict[Any, Any] = dict(zip(header, cells, strict=False))  # a malformed row's extra keys: None and lists
    if len(cells) > len(header):
        row[None] = cells[len(header) :]
    for missing in header[len(cells) :]:
        row[missing] = None
    return row


def _parsed(name: str, parse: Callable[[bytes], Any]) -> Any:
    """The file parsed: its kept form where one matches its bytes, else parsed now (and kept, where allowed)."""
    source = DATA_DIR / name
    raw = source.read_bytes()
    digest = f"{len(raw)}-{zlib.crc32(raw):08x}"  # content, not mtime: an edit within one clock tick is seen too
    kept = PARSED_DIR / f"{name}.{digest}.{sys.implementation.cache_tag}.{PARSED_FORMAT}.marshal"
    with contextlib.suppress(OSError, ValueError, EOFError, TypeError):
        return marshal.loads(kept.read_bytes())
    value = parse(raw)
    if not sys.dont_write_bytecode:
        _keep(kept, value, source)
        for stale in PARSED_DIR.glob(f"{name}.*.marshal"):  # the forms of the file's earlier contents
            if stale != kept:
                with contextlib.suppress(OSError):
                    stale.unlink()
    return value


def _keep(path: Path, value: Any, source: Path) -> None:
    """Write the parsed form atomically (concurrent runs never read half a file), readable by whoever reads its
    source (as bytecode takes its source's mode); a folder that cannot be written (a read-only install) is no error,
    as for bytecode."""
    temporary = None
    try:
        path.parent.mkdir(exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(marshal.dumps(_shared(value)))
        os.chmod(temporary, stat.S_IMODE(source.stat().st_mode))
        os.replace(temporary, path)
        temporary = None
    except (OSError, ValueError):
        pass
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _shared(value: Any) -> Any:
    """CSV rows with each distinct cell text one string object, which marshal then writes once (the kept prices are a
    third of the size and load a third faster); other values as they are."""
    if not isinstance(value, tuple):
        return value
    same: dict[Any, Any] = {}
    return tuple({k: same.setdefault(v, v) if isinstance(v, str) else v for k, v in row.items()} for row in value)


def optional_float(text: str) -> float | None:
    """A CSV cell as a float, or None when empty."""
    return float(text) if text.strip() else None


def as_bool(text: str) -> bool:
    """A CSV cell 'true'/'false' as a bool."""
    return text.strip().lower() == "true"
