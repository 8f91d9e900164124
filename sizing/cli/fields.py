"""Command-line options generated from the pydantic models the engine reads: one field gives one flag, its type,
choices and bounds from the field, its help from the field's docstring, its default from the model (as vLLM's engine
arguments feed its CLI help). `plan`'s flags come from Workload and Deployment, the other commands' from their models in
sizing/cli/inputs.py. A new field is a new flag of every command whose model has it; docs/command-line.md lists them.
"""

from __future__ import annotations

import argparse
import types
import typing
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from sizing.field_docs import field_docs

FLAG_NAMES: dict[str, str] = {"kind": "--workload", "headroom_replicas": "--headroom"}
"""Fields whose flag is not the field's name in kebab case (the names the command line has always had)."""
NOT_FLAGS = frozenset({"spot_usd_per_hour", "facts"})
"""Fields with no flag: a mapping of prices by hand and pre-flight facts are given by a stack or by code."""
COMMAND_LINE_DEFAULTS: dict[str, tuple[str, str]] = {
    "Deployment.weights": (
        "auto",
        (
            "the checkpoint's own format, and FP8 where the GPU has FP8 kernels and the checkpoint is "
            "16-bit (a stack file keeps the checkpoint's own unless it says `weights: auto`)"
        ),
    )
}
"""Fields (model.field) whose command-line default differs from the model's (the stack file's), with what it means: a
person asking for a plan wants the cheapest sound one, a deployed fleet's numerics change only when its owner asks."""
BOUNDS = (
    (annotated_types.Gt, "gt", "> {}"),
    (annotated_types.Ge, "ge", ">= {}"),
    (annotated_types.Lt, "lt", "< {}"),
    (annotated_types.Le, "le", "<= {}"),
)
"""Numeric constraints pydantic keeps in a field's metadata, the attribute holding the limit, and how help shows it."""


def flag(field: str) -> str:
    """The command-line flag of a field name (--seq-len for seq_len; the historic names of FLAG_NAMES)."""
    return FLAG_NAMES.get(field, "--" + field.replace("_", "-"))


def _options(annotation: Any) -> list[Any]:
    """The alternatives of a field's type, None dropped and Annotated unwrapped."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [a for option in typing.get_args(annotation) for a in _options(option)]
    if typing.get_origin(annotation) is typing.Annotated:
        return _options(typing.get_args(annotation)[0])
    return [] if annotation is type(None) else [annotation]


def _comma_list(text: str) -> tuple[str, ...]:
    """'a, b,c' -> ('a', 'b', 'c')."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def _kind(annotation: Any) -> dict[str, Any]:
    """argparse's type=, choices= or action= for a field's type (a choice of types stays text: the model reads it)."""
    options = _options(annotation)
    if len(options) > 1:
        return {}
    (kind,) = options
    if kind is bool:
        return {"action": "store_true"}
    if typing.get_origin(kind) is typing.Literal:
        return {"choices": list(typing.get_args(kind))}
    if typing.get_origin(kind) is tuple:
        return {"type": _comma_list, "metavar": "A,B,..."}
    return {"type": kind}


def bounds_text(info: FieldInfo) -> str:
    """'> 0, <= 1048576' from a field's numeric constraints ('' when it has none)."""
    shown = [text.format(getattr(m, attr)) for m in info.metadata for kind, attr, text in BOUNDS if isinstance(m, kind)]
    return ", ".join(shown)


def help_text(model: type[BaseModel], name: str, docs: bool) -> str | None:
    """A flag's help: the field's docstring, its bounds and its default (None when help is not being shown)."""
    if not docs:
        return None
    info = model.model_fields[name]
    parts = [field_docs(model).get(name, "")]
    if bounds := bounds_text(info):
        parts.append(f"({bounds})")
    if f"{model.__name__}.{name}" in COMMAND_LINE_DEFAULTS:
        value, meaning = COMMAND_LINE_DEFAULTS[f"{model.__name__}.{name}"]
        parts.append(f"Default here: {value}: {meaning}.")
    elif not (info.is_required() or info.default is None or info.default is False):
        parts.append(f"Default: {info.default}.")
    return " ".join(p for p in parts if p).replace("%", "%%")


def model_fields(model: type[BaseModel]) -> list[str]:
    """The fields of a model that are command-line flags."""
    return [name for name in model.model_fields if name not in NOT_FLAGS]


def _default(info: FieldInfo, given_only: bool) -> dict[str, Any]:
    """argparse's default= or required= for a field: None when only the options given are passed to the model."""
    if given_only:
        return {"default": None}
    return {"required": True} if info.is_required() else {"default": info.default}


def add_model_flags(
    parser: argparse.ArgumentParser, model: type[BaseModel], docs: bool, given_only: bool = True
) -> None:
    """One flag per field of the model. `given_only`: an option not given is None, and the model's default applies
    when the model is built from the options given (plan); else the parsed value holds the model's default."""
    summary = (model.__doc__ or "").strip().rstrip(".")
    title = model.__name__.removesuffix("Options").lower()
    lead = summary[:1] if summary[1:2].isupper() else summary[:1].lower()  # "TTFT ..." keeps its capitals
    group = parser.add_argument_group(f"{title}: {lead}{summary[1:]}")
    for name in model_fields(model):
        info = model.model_fields[name]
        kind = {"metavar": flag(name)[2:].upper().replace("-", "_"), **_kind(info.annotation)}
        if "choices" in kind or "action" in kind:
            del kind["metavar"]
        group.add_argument(
            flag(name), dest=name, help=help_text(model, name, docs), **_default(info, given_only), **kind
        )


def given_fields(args: argparse.Namespace, model: type[BaseModel]) -> dict[str, Any]:
    """The model's fields given on the command line (and the command-line defaults of COMMAND_LINE_DEFAULTS)."""
    values = {name: getattr(args, name, None) for name in model_fields(model)}
    for key, (value, _) in COMMAND_LINE_DEFAULTS.items():
        owner, _, name = key.partition(".")
        if owner == model.__name__ and values.get(name, "") is None:
            values[name] = value
    return {k: v for k, v in values.items() if v is not None}
