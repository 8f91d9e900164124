"""The llmfleet Pulumi package: its components, name and version, and the schema Pulumi's analyzer derives from them
(the same schema the provider serves to `pulumi package add` and every language's SDK generator)."""

from __future__ import annotations

import difflib
import json
from typing import Any

from components.llm_fleet import PACKAGE, LlmServingFleet
from sizing.names import DASHED_NAME
from sizing.redact import safe_text

COMPONENTS = [LlmServingFleet]
"""Components the provider hosts."""
NAMESPACE = DASHED_NAME
"""Namespace of the generated SDKs (e.g. the npm scope)."""
VERSION = "0.1.0"
"""Package version; matches pyproject.toml and CHANGELOG.md."""


def strict_provider(version: str = VERSION) -> Any:
    """The component provider, refusing input keys its schema does not have (Pulumi's own drops them without a word:
    a misspelt `workLoad` or a snake_case `allowed_cidrs` would deploy the defaults)."""
    from pulumi.provider.experimental.component import ComponentProvider, InputPropertyError

    class StrictComponentProvider(ComponentProvider):
        def map_input_properties(
            self,
            inputs: Any,
            properties: dict[str, Any],
            mapping: dict[str, str],
            component_name: str,
            property_path: str,
        ) -> Any:
            for key in sorted(inputs) if isinstance(inputs, dict) else ():
                if key not in properties:
                    where = f"{property_path}.{key}" if property_path else key
                    raise InputPropertyError(where, unknown_input(where, key, list(properties), component_name))
            return super().map_input_properties(inputs, properties, mapping, component_name, property_path)

    return StrictComponentProvider(list(COMPONENTS), PACKAGE, NAMESPACE, version)


def unknown_input(where: str, key: str, known: list[str], component: str) -> str:
    """The refusal of an input the schema does not have, with the nearest names."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6) or [
        k for k in known if k.lower() == key.lower() or k == _camel(key)
    ]
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return (
        f"Unknown input {safe_text(repr(where[:200]))} on {component!r}{hint}. Valid here: {', '.join(sorted(known))}. "
        "To fix: rename or remove it (inputs are camelCase, as the package schema names them)."
    )


def _camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(part.title() for part in rest)


def package_schema(version: str = VERSION) -> dict[str, Any]:
    """The package schema, as the provider serves it."""
    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider(list(COMPONENTS), PACKAGE, NAMESPACE, version)
    assert provider.schema is not None
    return json.loads(provider.schema)
