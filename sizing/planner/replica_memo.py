"""Replica models shared by the plan() calls of one process. A replica's memory and steady-state model depend on the
model, the weight format, the engine and its settings, the KV bytes, the draft, the assumptions, the request shape and
the placement's GPU and layout, not on the traffic's size, the targets' values or the region; its fit depends on the
targets too. A sweep, the FP8-KV alternative of a repeated request, the frontier and a long-lived caller ask for the
same ones again, so they are kept per context (least recently used dropped). Only a store: every value is the model's
own, computed as before on a miss."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SHARED_CONTEXTS = 8
"""Contexts (model x format x settings x request shape ...) kept per process: one plan's. A plan uses one context per
weight format and KV cache it sizes, at most 3 x 2 (on the 1,000 scenarios of benchmarks/speed.py: 6 at most, 1-2 for
most), so the same request planned again (a preview, then the update, the plan lock's recheck) builds no replica model
again. More pays for little: a context holds the few hundred replica models of one search (about 1.5 MB with their
load memos), and a sweep of varied shapes rarely returns to one. Measured on 300 scenarios of that sweep: 32 contexts
instead of 8 built 1.8% fewer replica models (46,001 vs 46,838) and spent 0.55 s more in the cycle collector, which
walks every object kept."""


class Same:
    """A key part compared by identity (catalog objects whose fields are not hashable). Holding the object keeps its
    id from being reused while the key lives."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.obj is self.obj


@dataclass(frozen=True)
class ContextMemos:
    """What a context keeps (each dictionary filled by the search, sizing/planner/search.py)."""

    models: dict[tuple, Any] = field(default_factory=dict)
    """Replica models (memory breakdown and load model, or the memory miss) by GPU, link and layout."""
    fits: dict[tuple, Any] = field(default_factory=dict)
    """Replica fits by GPU, link, layout and latency targets."""
    placed: dict[tuple, dict[int, Any]] = field(default_factory=dict)
    """Per latency targets, the fit of each placement object by its id (the value holds the placement)."""
    rejections: dict[tuple[int, str], Any] = field(default_factory=dict)
    """The rejection a replica miss makes on an instance type, by the miss's id and the type (the value holds the
    miss)."""


_store: OrderedDict[tuple, ContextMemos] = OrderedDict()
_speeds: OrderedDict[tuple, Any] = OrderedDict()
SHARED_SPEEDS = 4096
"""Replica speed models kept per process (least recently used dropped): a memory bound, not a measured figure. A
speed model (sizing/speed/model.py ReplicaSpeed) holds a few dozen constants of its model, GPU, format, layout, KV
bytes and assumptions, and none of the request shape or the traffic, so the contexts of other request shapes share
it (on the sweep of benchmarks/speed.py, 56% of the speed models a context needs were built by another); at about
1 KB each (tracemalloc, 200 sweep scenarios) the store stays under about 5 MB."""


def shared_memos(context: tuple) -> ContextMemos:
    """The memos of one context, created empty on first use."""
    return _recent(_store, context, ContextMemos, SHARED_CONTEXTS)


def shared_speed(key: tuple, make: Callable[[], Any]) -> Any:
    """The replica speed model of `key` (everything it is built from), built by `make` on first use."""
    return _recent(_speeds, key, make, SHARED_SPEEDS)


def _recent(store: OrderedDict[tuple, Any], key: tuple, make: Callable[[], Any], kept: int) -> Any:
    """The value of `key` in a store of the `kept` most recently used, made on a miss (the oldest then dropped)."""
    found = store.get(key)
    if found is None:
        found = store[key] = make()
        if len(store) > kept:
            store.popitem(last=False)
    else:
        store.move_to_end(key)
    return found


def clear_shared_memos() -> None:
    """Forget every shared replica model (after the catalog data a process reads has changed)."""
    _store.clear()
    _speeds.clear()
