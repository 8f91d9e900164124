"""Instance types chosen by a person's words: API names, GPU names (aliases from gpus.csv) and shell-style globs
(`H100`, `p5.*`, `g6e.*`), expanded to the catalog's API names (sizing/data/instances.csv)."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable

from sizing.catalog.gpus import all_gpus, find_gpu
from sizing.catalog.instances import all_instance_types, not_planned_types
from sizing.errors import InvalidInputError, UnknownGpuError
from sizing.limits import MAX_INSTANCE_TYPES

GLOB_CHARACTERS = frozenset("*?[")
"""Characters that make a name a shell-style pattern (Python's fnmatch, as a shell expands file names)."""
FIX = (
    "pass an instance type (sizing/data/instances.csv), a GPU name (sizing/data/gpus.csv) or a glob such as "
    "'p5.*'; `python -m sizing catalog` lists them."
)
"""What to do about a name that selects nothing."""


def is_glob(name: str) -> bool:
    """Whether a name is a shell-style pattern."""
    return any(ch in GLOB_CHARACTERS for ch in name)


def instance_types_with_gpu(gpu_name: str) -> tuple[str, ...]:
    """The catalog's instance types carrying this GPU (by name or alias); raises UnknownGpuError naming close ones."""
    gpu = find_gpu(gpu_name)
    if gpu is None:
        valid = [n for g in all_gpus().values() for n in (g.name, *g.aliases)]
        raise UnknownGpuError("GPU", gpu_name, valid, FIX)
    found = tuple(t.name for t in all_instance_types().values() if t.gpu.name == gpu.name)
    if not found:
        raise InvalidInputError(
            f"GPU {gpu_name.strip()!r} ({gpu.name}) is on no AWS instance type in the catalog. To fix: {FIX}"
        )
    return found


def _one(name: str) -> tuple[str, ...]:
    """The API names one word selects, in catalog order."""
    key = name.strip().lower()
    known = {**dict.fromkeys(all_instance_types()), **dict.fromkeys(not_planned_types())}
    if key in known:
        return (key,)
    if is_glob(key):
        found = tuple(n for n in known if fnmatch.fnmatchcase(n, key))
        if found:
            return found
    elif find_gpu(key) is not None:
        return instance_types_with_gpu(key)
    valid = [*all_instance_types(), *(n for g in all_gpus().values() for n in (g.name, *g.aliases))]
    kind = "instance-type glob (it matches no type)" if is_glob(key) else "instance type or GPU"
    raise UnknownGpuError(kind, name.strip(), valid, FIX)


def expand_instance_types(names: Iterable[str]) -> tuple[str, ...]:
    """Every API name the given names, GPU names and globs select, each once, in the order given (at most
    MAX_INSTANCE_TYPES names given: a bounded search)."""
    names = tuple(names)
    if len(names) > MAX_INSTANCE_TYPES:
        raise InvalidInputError(
            f"{len(names)} instance types were given; at most {MAX_INSTANCE_TYPES} are read. "
            "To fix: give fewer, or a glob such as 'p5.*' or a GPU name such as 'H100'."
        )
    return tuple(dict.fromkeys(n for name in names if name.strip() for n in _one(name)))


def restrict_to_gpu(names: tuple[str, ...] | None, gpu_name: str) -> tuple[str, ...]:
    """The allow-list narrowed to instance types with this GPU (every such type when there is no allow-list)."""
    with_gpu = instance_types_with_gpu(gpu_name)
    return with_gpu if names is None else tuple(n for n in names if n in with_gpu)
