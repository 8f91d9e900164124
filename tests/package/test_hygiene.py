"""Package hygiene: license, the Pulumi.yaml config schema against the models that read the config, generated docs up
to date, one version everywhere."""

import tomllib
from pathlib import Path

import pytest
import yaml

from deploy.stack_config import NAMESPACE, SECTIONS
from provider import docs
from provider.package import VERSION

ROOT = Path(__file__).resolve().parents[2]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
CONFIG_TYPES = {"string", "integer", "boolean", "array", "object"}
"""Types Pulumi's project schema accepts for a config declaration."""


def test_license_is_apache_2():
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["license"] == "Apache-2.0"  # SPDX


def test_config_block_declares_every_key_the_program_reads():
    """Pulumi types project config only under the project's own namespace, so the project is named after it."""
    assert PROJECT["name"] == NAMESPACE
    declared = PROJECT["config"]
    assert set(declared) == {f"{NAMESPACE}:model", *(f"{NAMESPACE}:{key}" for key in SECTIONS)}
    for key, spec in declared.items():
        assert spec["type"] in CONFIG_TYPES and spec["description"], key
    assert declared[f"{NAMESPACE}:model"]["type"] == "string"
    for key, model in SECTIONS.items():
        spec = declared[f"{NAMESPACE}:{key}"]
        assert spec["type"] == "object" and spec["default"] == {}  # optional in every stack
        assert f"{model.__module__}.{model.__name__}" in spec["description"]  # names the model that validates it


@pytest.mark.parametrize("stack", sorted((ROOT / "stacks").glob("Pulumi.*.yaml")), ids=lambda p: p.name)
def test_example_stacks_use_declared_keys_only(stack):
    keys = {k for k in (yaml.safe_load(stack.read_text())["config"]) if k.startswith(f"{NAMESPACE}:")}
    assert keys <= set(PROJECT["config"])


def test_docs_are_generated_from_the_current_schema():
    assert docs.main(["--check"]) == 0, "To fix: python -m provider.docs"
    assert (ROOT / "docs/LlmServingFleet.md").exists()


def test_one_version_everywhere():
    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == VERSION
    assert f"## [{VERSION}]" in (ROOT / "CHANGELOG.md").read_text()
