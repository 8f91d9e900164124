"""Writes docs/stack-keys.md: every `llmfleet:*` key a stack file may set, read from the pydantic models that validate
the stack config (deploy/stack_config.py's SECTIONS and the models nested in them), with each field's type, bounds,
default and docstring, so that the reference cannot say anything the models do not.

    python -m provider.stack_keys          # rewrite docs/stack-keys.md
    python -m provider.stack_keys --check  # exit 1 if the committed page is out of date (the test suite runs this)

`python -m provider.docs` (and `make package`) writes this page too, beside the package's reference."""

from __future__ import annotations

import sys
import textwrap
import types
import typing
from pathlib import Path
from typing import Any

import annotated_types
import pulumi
import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from deploy.stack_config import NAMESPACE, SECTIONS, STACK_ONLY_KEYS
from provider.codegen import NOT_EXPOSED, _plain
from provider.write_or_check import write_or_check
from sizing.field_docs import field_docs

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "docs" / "stack-keys.md"
PROJECT = ROOT / "Pulumi.yaml"
"""The project file: its `config:` block declares the top-level keys and describes `llmfleet:model`."""
COMMAND = "python -m provider.stack_keys"
WIDTH = 120
"""Prose line width (the project's limit for lines, tables aside)."""
BOUNDS = {
    annotated_types.Gt: ("gt", "> {}"),
    annotated_types.Ge: ("ge", ">= {}"),
    annotated_types.Lt: ("lt", "< {}"),
    annotated_types.Le: ("le", "<= {}"),
}
"""Numeric constraints pydantic keeps in a field's metadata, the attribute holding the limit, and how it is shown."""


def _stack_types(annotation: Any) -> list[Any]:
    """The alternatives a stack file can give: None and Pulumi Outputs (a program's values, never a file's) dropped."""
    annotation = _plain(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [kind for option in typing.get_args(annotation) for kind in _stack_types(option)]
    return [] if annotation is type(None) or typing.get_origin(annotation) is pulumi.Output else [annotation]


def nested_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model a field holds (a mapping of its own keys), if any."""
    found = [a for a in _stack_types(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    return found[0] if found else None


def type_text(annotation: Any, anchor: dict[type[BaseModel], str]) -> str:
    """A field's type as a stack file writes it: `str`, `list of str`, `one of: 'a', 'b'`, a link to a nested table."""
    options = _stack_types(annotation)
    if len(options) != 1:
        return " or ".join(type_text(a, anchor) for a in options)
    kind = options[0]
    origin, args = typing.get_origin(kind), [_plain(a) for a in typing.get_args(kind)]
    if origin is typing.Literal:
        return "one of: " + ", ".join(f"`{a}`" for a in args)
    if origin is tuple:
        return f"list of {type_text(args[0], anchor)}"
    if origin is dict:
        return f"map of {type_text(args[0], anchor)} to {type_text(args[1], anchor)}"
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return f"mapping ([keys](#{anchor[kind]}))"
    return getattr(kind, "__name__", str(kind))


def _number(value: float) -> str:
    """1048576 as 1,048,576; 1e9 as 1,000,000,000; 0.001 as it is."""
    return f"{int(value):,}" if float(value).is_integer() else f"{value:g}"


def bounds_text(field: FieldInfo) -> str:
    """The field's limits (`> 0, <= 1048576`; `at most 60 entries`), as pydantic enforces them."""
    shown = []
    for item in field.metadata:
        if type(item) in BOUNDS:
            attribute, form = BOUNDS[type(item)]
            shown.append(form.format(_number(getattr(item, attribute))))
        elif isinstance(item, annotated_types.MaxLen):
            shown.append(
                f"at most {item.max_length} {'characters' if _stack_types(field.annotation) == [str] else 'entries'}"
            )
    return ", ".join(shown)


def default_text(field: FieldInfo) -> str:
    """The value a stack that leaves the key out gets, as YAML."""
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "not set"
    if isinstance(value, BaseModel):
        return "every key at its default"
    if isinstance(value, tuple):
        value = list(value)
    return "`" + yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("\n...") + "`"


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _prose(text: str) -> str:
    """A paragraph wrapped at the project's 120 columns."""
    return textwrap.fill(" ".join(text.split()), WIDTH, break_long_words=False, break_on_hyphens=False)


def section_models() -> list[tuple[str, type[BaseModel]]]:
    """(the dotted key, its model) for each section and every model nested in one, in reading order."""
    found: list[tuple[str, type[BaseModel]]] = []

    def walk(key: str, model: type[BaseModel]) -> None:
        found.append((key, model))
        for name, field in model.model_fields.items():
            inner = nested_model(field.annotation)
            if inner is not None and f"{model.__name__}.{name}" not in NOT_EXPOSED:
                walk(f"{key}.{name}", inner)

    for key, model in SECTIONS.items():
        walk(f"{NAMESPACE}:{key}", model)
    return found


def anchor_of(key: str) -> str:
    """GitHub's anchor for a heading that is the key in backticks (lower case, punctuation but - and _ dropped)."""
    return "".join(c for c in key.lower() if c.isalnum() or c in "-_")


def table(key: str, model: type[BaseModel], anchor: dict[type[BaseModel], str]) -> list[str]:
    """One section: the model's docstring, then a row per key."""
    docs = field_docs(model)
    hidden = {
        name: NOT_EXPOSED[f"{model.__name__}.{name}"]
        for name in model.model_fields
        if f"{model.__name__}.{name}" in NOT_EXPOSED
    }
    lines = [
        f"## `{key}`",
        "",
        _prose(model.__doc__ or ""),
        "",
        _prose(
            f"Validated by `{model.__module__}.{model.__name__}`."
            + "".join(f" Not listed: `{name}` ({why})." for name, why in hidden.items())
        ),
        "",
        "| key | type | bounds | default | description |",
        "|---|---|---|---|---|",
    ]
    for name, field in model.model_fields.items():
        if name in hidden:
            continue
        lines.append(
            f"| `{name}` | {_cell(type_text(field.annotation, anchor))} | {_cell(bounds_text(field))} | "
            f"{_cell(default_text(field))} | {_cell(docs.get(name, ''))} |"
        )
    section = key.removeprefix(f"{NAMESPACE}:")
    lines += [
        f"| `{name}` | str (a file path) |  | not set | {_cell(doc)} |"
        for name, doc in STACK_ONLY_KEYS.get(section, {}).items()
    ]
    return lines + [""]


def page() -> str:
    """The whole reference page."""
    sections = section_models()
    anchor = {model: anchor_of(key) for key, model in sections}
    declared = yaml.safe_load(PROJECT.read_text())["config"]
    model_key = f"{NAMESPACE}:model"
    lines = [
        "# Stack keys",
        "",
        f"<!-- GENERATED by `{COMMAND}` from the stack config models: do not edit. -->",
        "",
        _prose(
            f"Every `{NAMESPACE}:*` key a stack file (`stacks/Pulumi.<stack>.yaml`) may set, with its type, bounds, "
            "default and meaning, read from the models that validate it. Any other key, or a value out of bounds, "
            "fails `pulumi preview` and `python -m sizing plan --stack` before any resource exists, naming the key "
            'and the fix. A description\'s "None" means the key is not set. The same settings are the '
            "`LlmServingFleet` component's inputs in camelCase ([LlmServingFleet.md](LlmServingFleet.md)). Back to "
            "the [README](../README.md#writing-a-stack)."
        ),
        "",
        "| key | type | what it holds |",
        "|---|---|---|",
        f"| `{model_key}` | str, required | {_cell(declared[model_key]['description'])} |",
        *(
            f"| [`{NAMESPACE}:{key}`](#{anchor[model]}) | mapping | {_cell(model.__doc__ or '')} |"
            for key, model in SECTIONS.items()
        ),
        "",
        _prose(
            "Nested keys are written as YAML mappings under their section (`weights:` under `llmfleet:fleet`); "
            "this page names them with dots (`llmfleet:fleet.weights.s3_uri`)."
        ),
        "",
    ]
    for key, model in sections:
        lines += table(key, model, anchor)
    return "\n".join(lines).rstrip("\n") + "\n"


def pages() -> dict[Path, str]:
    return {TARGET: page()}


def main(argv: list[str]) -> int:
    return write_or_check(pages(), argv, COMMAND)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
