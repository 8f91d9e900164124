"""The policy pack's errors: what a resource's tags declare that the memory check cannot judge.

Each derives from the engine's `SizingError` (sizing/errors.py) and `ValueError`."""

from __future__ import annotations

from sizing.errors import SizingError


class UndeclaredError(ValueError, SizingError):
    """The tags do not declare a model the engine can size (absent, or not a preset)."""


class InvalidDeclarationError(ValueError, SizingError):
    """A declared setting that cannot be true or that vLLM refuses: not a number, non-finite, out of vLLM's range, or
    more GPUs than the instance has. A mandatory violation: such a value would otherwise turn the memory check off."""


class UnknownTypeError(ValueError, SizingError):
    """An accelerated instance type the catalog does not know: its GPUs cannot be judged, so it is never passed."""
