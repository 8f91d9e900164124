"""The cycle collector paused while the planner runs. A plan allocates hundreds of thousands of short-lived objects
(replica models, load points, priced candidates), nearly all freed by reference counting as soon as they are dropped,
while the replica models it keeps (sizing/planner/replica_memo.py) are long-lived: every allocation burst sets off a
collection that walks them all, for garbage it almost never finds. On the 1,000-scenario sweep of benchmarks/speed.py
those collections took 13% of the CPU (measured with gc.callbacks, 300 scenarios: 2.65 s of 19.65 s; 2.1 s paused).
Paused for one plan, the collector runs once afterwards over what that plan left (Python's gc module: allocations
keep counting while it is disabled, and the next one past the threshold collects)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cycle collector for the block, re-enabled after it only if it was enabled before (a caller that
    turned it off keeps it off, and a nested block leaves it to the outer one)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
