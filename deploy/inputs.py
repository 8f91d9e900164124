"""Inputs that may be Pulumi Outputs: the ids and ARNs that only wire resources together (a VPC id from awsx, a
certificate ARN or an OIDC provider from another stack). Everything that sizes a fleet is a plain value."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import PlainValidator

T = TypeVar("T")
U = TypeVar("U")
V = TypeVar("V")

if TYPE_CHECKING:
    from pulumi import Input, Output
else:
    try:
        from pulumi import Input, Output
    except ModuleNotFoundError:  # the engine-only install (no pulumi extra): no value can be an Output there

        class Output(Generic[T]):
            """Stands in for Output where pulumi is not installed: never instantiated."""

        Input = T | Output[T]


def _str_input(value: Any) -> Any:
    if isinstance(value, (str, Output)):
        return value
    raise ValueError(f"{value!r} must be a string or a pulumi Output of one")


def _str_inputs(value: Any) -> Any:
    if isinstance(value, Output):
        return value
    if isinstance(value, (list, tuple)):
        return tuple(_str_input(v) for v in value)
    raise ValueError(f"{value!r} must be a list of strings (or Outputs), or an Output of a list")


StrInput = Annotated[str | Output[str], PlainValidator(_str_input)]
"""A string, or an Output of one (an id or ARN from another resource or stack)."""
StrInputs = Annotated[tuple[StrInput, ...] | Output[list[str]], PlainValidator(_str_inputs)]
"""Strings (each may be an Output), or an Output of the whole list."""


def plain(value: str | Output[str]) -> str:
    """A value that must be resolved by now (inside WeightsSource.resolved()'s apply)."""
    if isinstance(value, Output):
        raise TypeError("an Output where its value is needed: resolve it first (WeightsSource.resolved())")
    return value


def with_input(value: Input[T], fn: Callable[[T], U]) -> Input[U]:
    """fn applied now to a plain value, or inside apply to an Output (text that embeds an ARN: user data, policies)."""
    return value.apply(fn) if isinstance(value, Output) else fn(value)  # type: ignore[arg-type]


def with_inputs(first: Input[T], second: Input[V], fn: Callable[[T, V], U]) -> Input[U]:
    """with_input for two values, either of which may be an Output."""
    if isinstance(first, Output) or isinstance(second, Output):
        return Output.all(first, second).apply(lambda v: fn(v[0], v[1]))
    return fn(first, second)  # type: ignore[arg-type]
