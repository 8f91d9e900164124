"""Running the CLI in-process as a hostile user would, and the invariants every answer must keep."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import re
import signal
import time
import traceback
import warnings
from dataclasses import dataclass

CASE_DEADLINE_S = 10.0
"""An answer must come within this many seconds (the issue's hang threshold)."""
SECRET_SHAPES = re.compile(r"hf_[A-Za-z0-9]{20,}|(?:AKIA|ASIA)[A-Z0-9]{16}|-----BEGIN [A-Z ]*PRIVATE KEY-----")
"""Credential-shaped strings that must never come back out of the tool."""
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
"""Control characters besides tab and newline: an input's terminal escape (ESC, BEL) is shown escaped (!r), never
raw."""


class Hang(Exception):
    """The case ran past CASE_DEADLINE_S."""


@dataclass(frozen=True)
class Outcome:
    """What one run printed and returned."""

    code: int
    out: str
    err: str
    elapsed_s: float


def _alarm(_signum, _frame):
    raise Hang(f"no answer within {CASE_DEADLINE_S} s")


def run_cli(argv: list[str], deadline_s: float = CASE_DEADLINE_S) -> Outcome:
    """`python -m sizing ARGV` in this process; an escaping exception becomes exit 99 with its traceback on stderr."""
    from sizing.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    start = time.perf_counter()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, deadline_s)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse
                code = exc.code if isinstance(exc.code, int) else 2
            except Hang:
                raise
            except BaseException:  # noqa: BLE001 - recorded, then failed on by check()
                err.write(traceback.format_exc())
                code = 99
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        _reopen_event_loop()
    return Outcome(code, out.getvalue(), err.getvalue(), time.perf_counter() - start)


def _reopen_event_loop() -> None:
    """`report` closes the event loop Pulumi ran on (as the process would at exit); later tests need an open one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if asyncio.get_event_loop().is_closed():
            asyncio.set_event_loop(asyncio.new_event_loop())


def _numbers(value, path="$"):
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _numbers(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _numbers(v, f"{path}[{i}]")


SIGNED_FIELDS = ("unused_gib", "shortfall_gib", "margin")
"""JSON fields that may legitimately be negative (a deficit); every other number must be >= 0."""
DEFICIT_FIELDS = ("kv_cache_gib",)
"""Fields that may be negative only in an answer that says it does not fit (documented: the weights do not fit)."""


def check(o: Outcome, argv: list[str], secrets: tuple[str, ...] = ()) -> None:
    """The contract: exit 0/1/2, no traceback, an answer in time, finite non-negative JSON numbers, no secret echoed,
    and something on stderr that says what to fix whenever the exit code is not 0."""
    assert o.code in (0, 1, 2), f"{argv}: exit {o.code}\n{o.err[-3000:]}"
    assert "Traceback" not in o.err, f"{argv}: traceback\n{o.err[-3000:]}"
    assert o.elapsed_s < CASE_DEADLINE_S, f"{argv}: {o.elapsed_s:.1f} s"
    if o.code != 0:
        assert o.err.strip(), f"{argv}: exit {o.code} with nothing on stderr"
    for s in secrets:
        assert s not in o.out and s not in o.err, f"{argv}: secret {s[:6]}... echoed"
    assert not SECRET_SHAPES.search(o.out + o.err), f"{argv}: secret-shaped string in the output"
    assert not CONTROL.search(o.out + o.err), f"{argv}: raw control character {CONTROL.search(o.out + o.err)!r}"
    if "--json" in argv and o.code in (0, 1) and o.out.strip():
        data = json.loads(o.out)
        signed = SIGNED_FIELDS + (DEFICIT_FIELDS if isinstance(data, dict) and data.get("fits") is False else ())
        for path, x in _numbers(data):
            assert math.isfinite(x), f"{argv}: {path}={x}"
            if not any(path.endswith(f) or f".{f}" in path for f in signed):
                assert x >= 0, f"{argv}: {path}={x} is negative"
