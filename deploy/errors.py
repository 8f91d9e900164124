"""The deployment layer's errors (stack files, stack config, names, plan locks, pre-flight, platforms).

Each derives from the engine's `SizingError` (sizing/errors.py) and the matching builtin, so a caller catches
`SizingError` for every error the project raises on purpose, and the command line maps them to exit 2 (1 for
infeasible)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sizing.errors import InvalidInputError, SizingError

if TYPE_CHECKING:
    from sizing.planner.results import Plan


class StackFileError(InvalidInputError):
    """A stack file that cannot be read: too large, not UTF-8, invalid YAML, aliases, or not a mapping."""


class ConfigError(ValueError, SizingError):
    """A stack config value that cannot be used."""


class FleetNameError(InvalidInputError):
    """A stack or served model name outside its pattern."""


class ArnError(ValueError, SizingError):
    """A value that is not the ARN it should be."""


class UnsafeShellValueError(ValueError, SizingError):
    """A value that may not be written into a node's bootstrap script."""


class PlatformError(ValueError, SizingError):
    """A plan the chosen platform cannot deploy."""


class PlanLockError(ValueError, SizingError):
    """The lock cannot be used for this stack (it was made for other config, or it cannot be read)."""


class StaleLockError(PlanLockError):
    """The stack's sizing config changed since its lock was written: the program refuses to deploy, and the command
    line shows the fresh plan beside what changed (exit 3)."""

    def __init__(self, message: str, fresh: Plan) -> None:
        super().__init__(message)
        self.fresh = fresh


class QuotaShortfallError(RuntimeError, SizingError):
    """The account's vCPU quota is below what the fleet needs at its ceiling."""


class MissingPrerequisiteError(LookupError, SizingError):
    """The cluster lacks something the fleet needs (or runs a Kubernetes version that is too old)."""
