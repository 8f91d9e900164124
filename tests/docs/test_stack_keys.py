"""docs/stack-keys.md is generated from the stack config models and current; every stack key the README and docs name
is one the models read."""

from __future__ import annotations

import re

import pytest
import yaml

from deploy.stack_config import NAMESPACE, SECTIONS, STACK_ONLY_KEYS, load_stack_config, namespace_config
from provider import stack_keys
from provider.codegen import NOT_EXPOSED
from tests.docs.markdown import PAGES, ROOT, fenced_blocks

SECTION_KEY = re.compile(rf"`(?:{NAMESPACE}:)?((?:{'|'.join(SECTIONS)})(?:\.[a-z_0-9]+)+)(?![A-Za-z0-9_])")
"""A dotted stack key in backticks, with or without the namespace: `llmfleet:fleet.weights.s3_uri`, `workload.kind`
(not the package's camelCase inputs, `fleet.vpcId`)."""


def test_the_page_is_current():
    assert stack_keys.main(["--check"]) == 0, "docs/stack-keys.md is stale. To fix: python -m provider.stack_keys"


def test_a_stale_page_is_caught(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "stack-keys.md"
    page = stack_keys.page()
    stale.write_text(page.replace("Requests in flight", "Peak requests in flight"))
    assert stale.read_text() != page  # the edit took
    monkeypatch.setattr(stack_keys, "TARGET", stale)
    assert stack_keys.main(["--check"]) == 1
    assert "To fix: python -m provider.stack_keys" in capsys.readouterr().err


def test_every_field_of_every_section_is_listed():
    text = stack_keys.page()
    for key, model in stack_keys.section_models():
        assert f"## `{key}`" in text
        for name in model.model_fields:
            shown = f"| `{name}` |" in text
            assert shown != (f"{model.__name__}.{name}" in NOT_EXPOSED), f"{key}.{name}"


def test_types_defaults_and_bounds_are_the_models():
    text = stack_keys.page()
    assert "| `kind` | one of: `interactive`, `batch` |  | `interactive` |" in text
    assert "| `concurrency` | int | > 0, <= 1,048,576 | not set |" in text
    assert "| `vpc_id` | str |  | not set |" in text  # a program's Output is not a stack file's type
    assert "| `cluster` | mapping ([keys](#llmfleetfleetcluster)) |" in text
    assert "| `name` | str |  | required |" in text  # cluster.name


def _named_keys() -> list[tuple[str, str]]:
    return sorted(
        {
            (page.relative_to(ROOT).as_posix(), match.group(1))
            for page in PAGES
            if page != stack_keys.TARGET
            for match in SECTION_KEY.finditer(page.read_text())
        }
    )


@pytest.mark.parametrize(("page", "key"), _named_keys())
def test_a_stack_key_named_in_the_docs_exists(page: str, key: str):
    section, *path = key.split(".")
    if path and path[0] in STACK_ONLY_KEYS.get(section, {}):
        assert f"| `{path[0]}` |" in stack_keys.page()  # read by the stack itself, and listed
        return
    model = SECTIONS[section]
    for name in path:
        assert name in model.model_fields, f"{page} names `{key}`: {model.__name__} has no field {name!r}"
        inner = stack_keys.nested_model(model.model_fields[name].annotation)
        if inner is None:
            break
        model = inner


def test_the_readme_stack_example_is_a_valid_stack():
    """The README's shortened stack file passes the validation `pulumi preview` runs."""
    (block,) = [body for info, body in fenced_blocks(ROOT / "README.md") if info == "yaml"]
    config = yaml.safe_load("\n".join(block))["config"]
    stack = load_stack_config(namespace_config(config), aws_region=config["aws:region"])
    assert stack.request.workload.tpot_ms == 60 and stack.fleet.weights.hf_token_secret_arn
