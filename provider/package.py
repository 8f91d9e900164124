"""The llmfleet Pulumi package: its components, name and version, and the schema Pulumi's analyzer derives from them
(the same schema the provider serves to `pulumi package add` and every language's SDK generator)."""

from __future__ import annotations

import json
from typing import Any

from components.llm_fleet import PACKAGE, LlmServingFleet

COMPONENTS = [LlmServingFleet]
"""Components the provider hosts."""
NAMESPACE = "llm-fleet"
"""Namespace of the generated SDKs (e.g. the npm scope)."""
VERSION = "0.1.0"
"""Package version; matches pyproject.toml and CHANGELOG.md."""


def package_schema(version: str = VERSION) -> dict[str, Any]:
    """The package schema, as the provider serves it."""
    from pulumi.provider.experimental.component import ComponentProvider

    provider = ComponentProvider(list(COMPONENTS), PACKAGE, NAMESPACE, version)
    assert provider.schema is not None
    return json.loads(provider.schema)
