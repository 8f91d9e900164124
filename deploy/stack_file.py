"""Reading a Pulumi.<stack>.yaml file as Pulumi would hand it to the program: bounded in bytes and depth, no YAML
aliases, no repeated keys, JSON-shaped values only. Used by the stack-config CLI path (`plan --stack`), the mocked
runs and the PR report alike."""

from __future__ import annotations

import math
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from deploy.errors import StackFileError
from sizing.bounded import depth, leaves, read_text
from sizing.limits import MAX_JSON_DEPTH, MAX_STACK_FILE_BYTES


class _NoAliasLoader(yaml.SafeLoader):
    """YAML without aliases: stack files come from pull requests (forks included), and an alias bomb (a few lines
    that expand to billions of nodes) would hang the report. Pulumi stack files never need them. A key given twice is
    refused as Pulumi's YAML reader refuses it (otherwise the preview would plan one value while a reviewer reads the
    other), and an unquoted date stays the text it is (Pulumi hands config values to the program as text or JSON)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            raise yaml.composer.ComposerError(None, None, "YAML aliases (*name) are not accepted in stack files", mark)
        return super().compose_node(parent, index)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # refused as an unhashable key by SafeLoader itself
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {str(key)[:100]!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep)


_NoAliasLoader.add_constructor("tag:yaml.org,2002:timestamp", yaml.SafeLoader.construct_yaml_str)


def _non_json(value: Any) -> str | None:
    """Where the parsed stack file holds something that is not JSON (a !!binary or !!set value, a non-finite number),
    which Pulumi could not hand to the program; None if nothing."""
    for where, item in leaves(value, "config"):
        if isinstance(item, float) and not math.isfinite(item):
            return f"{where} = {item} is not a finite number"
        if item is not None and not isinstance(item, (str, int, float, bool)):
            return f"{where} is a YAML {type(item).__name__}, not text, a number, a list or a mapping"
    return None


def read_stack_file(path: str | Path) -> dict[str, Any]:
    """The `config:` mapping of a Pulumi.<stack>.yaml file: at most MAX_STACK_FILE_BYTES, UTF-8, no YAML aliases,
    nested at most MAX_JSON_DEPTH deep."""
    fix = (
        "pass a Pulumi.<stack>.yaml whose top level is a mapping with a `config:` mapping (no YAML anchors or aliases)."
    )
    text = read_text(path, MAX_STACK_FILE_BYTES, "stack file", fix, StackFileError)
    try:
        data = yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise StackFileError(
            f"stack file {str(path)[:200]!r} is not valid YAML: {' '.join(str(exc).split())[:300]}. To fix: {fix}"
        ) from None
    except RecursionError:
        raise StackFileError(f"stack file {str(path)[:200]!r} nests too deep. To fix: {fix}") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise StackFileError(
            f"stack file {str(path)[:200]!r} holds a value that cannot be read ({str(exc)[:120]}). To fix: {fix}"
        ) from None
    data = data or {}
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(config or {}, dict) or depth(data) > MAX_JSON_DEPTH:
        raise StackFileError(f"stack file {str(path)[:200]!r} is not a mapping with a `config:` mapping. To fix: {fix}")
    odd = _non_json(config)
    if odd:
        raise StackFileError(
            f"stack file {str(path)[:200]!r}: {odd}. To fix: quote the value, or write it as a plain "
            "number, list or mapping."
        )
    return {str(k): v for k, v in (config or {}).items()}
