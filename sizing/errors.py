"""Errors that teach: the bad value, what would be valid, and how to fix it.

Every error inherits both ``SizingError`` and the matching builtin, so callers can catch either.
"""

from __future__ import annotations

from collections.abc import Iterable


class SizingError(Exception):
    """Base class of every error the sizing engine raises on purpose."""


class UnknownNameError(LookupError, SizingError):
    """A name (model, GPU, instance type, format, region...) that is not in the catalog."""

    def __init__(self, kind: str, value: str, valid: Iterable[str], fix: str) -> None:
        valid = sorted(valid)
        self.kind, self.value, self.valid = kind, value, valid
        import difflib  # loaded on an error only (start-up time, tests/sizing/test_startup.py)

        close = difflib.get_close_matches(str(value).lower(), [v.lower() for v in valid], n=3, cutoff=0.5)
        lower_to_real = {v.lower(): v for v in valid}
        hint = f" Did you mean {', '.join(repr(lower_to_real[c]) for c in close)}?" if close else ""
        shown = ", ".join(valid[:25]) + (", ..." if len(valid) > 25 else "")
        super().__init__(f"Unknown {kind} {value!r}.{hint} Valid: {shown}. To fix: {fix}")


class UnknownModelError(UnknownNameError):
    """A model preset name that does not exist and is not a path to a config.json."""


class UnknownGpuError(UnknownNameError):
    """A GPU or instance type that is not in the catalog."""


class InvalidInputError(ValueError, SizingError):
    """A value that is out of range or inconsistent with another value."""


class ModelConfigError(ValueError, SizingError):
    """A Hugging Face config.json that cannot be read into a ModelSpec."""


class InfeasibleError(RuntimeError, SizingError):
    """No candidate meets the request. Carries the nearest miss and what would make it fit."""

    def __init__(self, message: str, nearest: str, remedy: str) -> None:
        self.nearest, self.remedy = nearest, remedy
        super().__init__(f"{message}\nNearest miss: {nearest}\nTo fix: {remedy}")


class InputFileError(InvalidInputError):
    """A file that cannot be read as what it should be."""


class OutputFileError(InvalidInputError):
    """A file that cannot be written where it was asked for."""


class ResultFileError(InvalidInputError):
    """A result file that is not one of the formats read here, or holds an impossible value."""


class CalibrationFileError(InvalidInputError):
    """A calibration file that cannot be read as one."""


class CalibrationRefused(InfeasibleError):
    """The best fit needs values outside physical bounds: the model does not describe this case."""


class RecheckError(InvalidInputError):
    """A recorded plan that today's engine would not make for this request."""


class CorruptEntry(SizingError):
    """A cache file that exists but cannot be used; it has been deleted. The message says why."""


class MissingExtraError(ImportError, SizingError):
    """A command needs an optional dependency group (a pip extra) that is not installed; the CLI exits 2, naming it
    (sizing/extras.py)."""
