"""Names that leave the process in resource names, tags, Kubernetes objects, vLLM flags and URLs: checked against a
closed pattern before the first resource, so that a stack or a model folder named with a space, a shell substitution,
a leading '-' or a right-to-left mark is refused up front instead of failing some forty resources in."""

from __future__ import annotations

import re

from deploy.errors import FleetNameError
from sizing.redact import safe_text

STACK_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
"""Pulumi stack names: letters, digits, '-', '_' and '.', at most 100 characters
(https://www.pulumi.com/docs/iac/concepts/stacks/#create-stack); a letter or digit first, so that no tool reads one as
an option."""
SERVED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
"""The model name clients send (vLLM --served-model-name, a tag and an annotation value): letters, digits, '.', '_' and
'-', at most 128 characters, a letter or digit first."""


def check_stack_name(name: str) -> str:
    """The stack name, or FleetNameError saying what it may hold."""
    if not STACK_NAME.fullmatch(name):
        raise FleetNameError(
            f"stack name {safe_text(repr(name[:120]))} is not one the fleet can name resources after. To fix: "
            "rename the stack (and its Pulumi.<stack>.yaml) with letters, digits, '-', '_' and '.' only, "
            "starting with a letter or digit, at most 100 characters."
        )
    return name


def check_served_name(name: str) -> str:
    """The served model name, or FleetNameError saying what it may hold."""
    if not SERVED_NAME.fullmatch(name):
        raise FleetNameError(
            f"served model name {safe_text(repr(name[:120]))} (from the model's preset name or its config.json "
            "folder) is not one vLLM's flag, a tag and a URL all carry safely. To fix: name the model "
            "(or the folder of its config.json) with letters, digits, '.', '_' and '-' only, at most 128 "
            "characters."
        )
    return name
