"""What the engine-only install (`pip install .`, no extras) leaves out, said as the extra to install.

The engine (memory, speed, plan, plan --stack, calibrate) needs pydantic and PyYAML only; the commands that run the
Pulumi program, the policy pack or the provider need an optional dependency group of pyproject.toml. Such a command
checks for the modules it imports before importing them, and refuses (MissingExtraError: exit 2) with the `pip install`
line that adds them, never a ModuleNotFoundError traceback.
"""

from __future__ import annotations

import importlib.util
import re
import sys

from sizing.cli.exits import EXIT_BAD_INPUT
from sizing.errors import MissingExtraError
from sizing.names import DASHED_NAME

DISTRIBUTION = DASHED_NAME
"""This project's distribution name (pyproject.toml [project].name): its metadata says which extra holds a module."""
DEFAULT_EXTRA = "pulumi"
"""The extra named when the installed metadata does not say (a source checkout run without `pip install`)."""
EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([A-Za-z0-9._-]+)["']""")
"""The environment marker of a requirement that belongs to an extra (PEP 508: `; extra == "pulumi"`)."""


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """The top-level modules among these that cannot be imported (found without importing them)."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def _distribution_name(name: str) -> str:
    """PEP 503's normalized name: pulumi_aws and Pulumi-AWS both read pulumi-aws."""
    return re.sub(r"[-_.]+", "-", name).lower()


def extra_for(module: str) -> str:
    """The optional dependency group of this project that installs `module` (by its distribution name)."""
    # only on a refusal: importlib.metadata loads email and zipfile
    from importlib.metadata import PackageNotFoundError, requires

    try:
        requirements = requires(DISTRIBUTION) or []
    except PackageNotFoundError:
        return DEFAULT_EXTRA
    wanted = _distribution_name(module)
    for requirement in requirements:
        name = _distribution_name(re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0])
        marker = EXTRA_MARKER.search(requirement)
        if name == wanted and marker:
            return marker.group(1)
    return DEFAULT_EXTRA


def missing_extra_message(command: str, missing: list[str]) -> str:
    """The refusal of a command whose optional dependencies are not installed, with the line that installs them."""
    extras = sorted({extra_for(m) for m in missing})
    install = f"pip install '.[{','.join(extras)}]'"
    return (
        f"`{command}` needs {', '.join(missing)}, which the engine-only install (`pip install .`) leaves "
        f"out. To fix: {install} from the repository root, or use the engine's commands, which need no extra: "
        "python -m sizing memory|speed|plan|calibrate (plan --stack included)."
    )


def require(command: str, modules: tuple[str, ...]) -> None:
    """Raise MissingExtraError, naming the extra to install, when any of these modules is missing."""
    missing = missing_modules(modules)
    if missing:
        raise MissingExtraError(missing_extra_message(command, missing))


def exit_unless_installed(command: str, modules: tuple[str, ...]) -> None:
    """For an entry point's `__main__`, before its imports: exit 2 with one line naming the extra, never a traceback."""
    try:
        require(command, modules)
    except MissingExtraError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(EXIT_BAD_INPUT) from None
