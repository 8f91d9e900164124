"""Commands the upper layers add to `python -m sizing`, found through Python entry points, so that the engine never
imports deploy/, components/ or preview/ by name (tests/sizing/test_boundary.py reads every import).

pyproject.toml registers them in the entry-point group `llmfleet.cli`: `plan-stack` (deploy/: `plan --stack`) and one
entry per subcommand (preview/: `report`). A source checkout reads that table from its own pyproject.toml (an editable
install made before an entry was added still finds it); an installed package reads its distribution's metadata.
Each entry names a light module: the heavy imports (Pulumi) happen inside `run`, after the command has checked for
them (sizing/extras.py), so the engine-only install refuses such a command with exit 2 and the extra to install.
"""

from __future__ import annotations

import argparse
import importlib
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sizing.errors import InvalidInputError
from sizing.names import DASHED_NAME

GROUP = "llmfleet.cli"
"""The entry-point group (pyproject.toml [project.entry-points."llmfleet.cli"])."""
STACK_PLANNER = "plan-stack"
"""The entry that plans a stack file for `plan --stack` (deploy/)."""
SOURCE_ROOT = Path(__file__).resolve().parents[2]
"""The repository root when the engine runs from a source checkout (an installed package has no pyproject.toml
there)."""


@dataclass(frozen=True)
class Command:
    """A subcommand of `python -m sizing` that an upper layer provides (its entry-point name is the subcommand)."""

    help: str
    """One line for `python -m sizing --help`."""
    add_arguments: Callable[[argparse.ArgumentParser], None]
    """Adds the subcommand's options to its parser."""
    run: Callable[[argparse.Namespace], int]
    """Runs it on the parsed options, printing its own output; returns the exit code (sizing/cli/exits.py)."""
    needs: tuple[str, ...] = ()
    """Top-level modules it imports that the engine-only install leaves out (checked before `run`)."""


@dataclass(frozen=True)
class StackPlanned:
    """A stack file planned as `pulumi up` would plan it, for `plan --stack` to print."""

    plan: Any
    """The plan the stack deploys (sizing.planner.results.Plan: the lock's, when it has one and it still holds)."""
    messages: tuple[str, ...]
    """Lock differences, pre-flight notices and warnings, shown before the plan."""
    extra_json: dict[str, Any]
    """Keys `plan --stack --json` adds to the plan's own (the fixed overhead of what the stack creates)."""
    extra_lines: tuple[str, ...]
    """Lines shown after the plan (the fixed overhead)."""
    lock_status: str = "locked"
    """How the plan stands with the stack's lock: written, none, locked or stale (deploy/stack_plan.py's StackPlan;
    stale: `plan --stack` exits 3)."""
    weights_note: str | None = None
    """Why the stack's weights differ from what the command line's default would choose (None: nothing to say)."""


@dataclass(frozen=True)
class StackPlanner:
    """What deploy/ provides for `plan --stack`."""

    plan_stack_file: Callable[[str, bool], StackPlanned]
    """(stack file, update the lock) -> the stack's plan."""
    needs: tuple[str, ...] = ()
    """Top-level modules it imports that the engine-only install leaves out (checked before it runs)."""


def _source_table() -> dict[str, str] | None:
    """name -> 'module:attribute' from this checkout's pyproject.toml (None: not a source checkout of this project)."""
    pyproject = SOURCE_ROOT / "pyproject.toml"
    if not pyproject.is_file():
        return None
    project = tomllib.loads(pyproject.read_text()).get("project", {})
    if project.get("name") != DASHED_NAME:
        return None
    return dict(project.get("entry-points", {}).get(GROUP, {}))


@cache
def registered() -> dict[str, str]:
    """Every entry of the group: name -> 'module:attribute'."""
    table = _source_table()
    if table is not None:
        return table
    # here: importlib.metadata loads email and zipfile, which the engine's commands skip
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in entry_points(group=GROUP)}


def load(name: str) -> Any:
    """The object an entry names (importing its module), or None where no entry has that name."""
    value = registered().get(name)
    if value is None:
        return None
    module, _, attribute = value.partition(":")
    found: Any = importlib.import_module(module.strip())
    for part in attribute.strip().split(".") if attribute.strip() else []:
        found = getattr(found, part)
    return found


def commands() -> dict[str, Command]:
    """The subcommands the upper layers add, by name."""
    found = {name: load(name) for name in registered() if name != STACK_PLANNER}
    return {name: command for name, command in sorted(found.items()) if isinstance(command, Command)}


def stack_planner() -> StackPlanner:
    """deploy/'s `plan --stack`; a clear error where this install has none."""
    planner = load(STACK_PLANNER)
    if not isinstance(planner, StackPlanner):
        raise InvalidInputError(
            f"plan --stack is not available: no {GROUP!r} entry point {STACK_PLANNER!r} provides "
            "it. To fix: install the whole project (pip install .), not the engine's folder alone."
        )
    return planner
