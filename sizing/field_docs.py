"""The docstring under each field of a model class (the project's convention: a field, then its string), read once from
the class's source file. One reader serves the command line's help (sizing/cli/fields.py) and the generated package
types and stack-key reference (provider/codegen.py, provider/stack_keys.py). Nothing is read at import (pydantic has
loaded `ast` already): the command line reads the source on --help alone."""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

FOREIGN_MODULES = frozenset({"builtins", "pydantic", "typing"})
"""Packages whose classes sit in a model's bases without fields of the project's (never read)."""


def _class_node(tree: ast.Module, name: str) -> ast.ClassDef | None:
    """The class of that name defined at the top of a module (None when there is none: a class made at run time)."""
    return next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name), None)


@cache
def _module_tree(path: str) -> ast.Module:
    """A source file's syntax tree (cached: one parse per file however many of its classes are read)."""
    return ast.parse(Path(path).read_text(encoding="utf-8"))


def own_field_docs(model: type) -> dict[str, str]:
    """The docstrings of the fields a class itself declares (not its bases'), whitespace collapsed: the string
    statement right after each annotated name. Empty for a class without a source file."""
    path = getattr(sys.modules.get(model.__module__), "__file__", None)
    node = _class_node(_module_tree(path), model.__name__) if path else None
    if node is None:
        return {}
    docs: dict[str, str] = {}
    for field, after in zip(node.body, node.body[1:], strict=False):
        if (
            isinstance(field, ast.AnnAssign)
            and isinstance(field.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
        ):
            docs[field.target.id] = " ".join(after.value.value.split())
    return docs


@cache
def field_docs(model: type) -> dict[str, str]:
    """The docstring of every field of a class, its bases' included (a subclass's own string wins)."""
    docs: dict[str, str] = {}
    for cls in reversed(model.__mro__):
        if cls.__module__.partition(".")[0] not in FOREIGN_MODULES:
            docs.update(own_field_docs(cls))
    return docs
