"""Run the pack over resources recorded without the Pulumi CLI (a program under mocks): every resource policy on every
resource, every stack policy on the whole stack, as `pulumi preview --policy-pack policy` would."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.policies import POLICIES
from sizing.names import PACKAGE


class Recorded(Protocol):
    """A resource as a mocked run records it (preview.mock_run.MockedResource)."""

    type: str
    name: str
    custom: bool
    inputs: dict[str, Any]


@dataclass(frozen=True)
class Violation:
    """One reported violation."""

    policy: str
    """Policy name."""
    level: str
    """mandatory or advisory."""
    resource: str
    """'type: name' of the resource (or the stack)."""
    message: str
    """What the policy said."""
    description: str
    """The policy's description."""


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


def policy_resources(recorded: Iterable[Recorded], stack: str, project: str) -> list[PolicyResource]:
    """Cloud resources with the ids a mocked run gives them (name + '-id'), so that references by id resolve."""
    return [
        PolicyResource(
            r.type,
            {**r.inputs, "id": f"{r.name}-id"},
            f"urn:pulumi:{stack}::{project}::{r.type}::{r.name}",
            r.name,
            _options(),
            None,
            None,
            [],
            {},
        )
        for r in recorded
        if r.custom
    ]


def check(recorded: Iterable[Recorded], stack: str = "dev", project: str = PACKAGE) -> list[Violation]:
    """Every violation the pack reports for the resources."""
    resources = policy_resources(recorded, stack, project)
    found: list[Violation] = []
    for policy in POLICIES:
        level = policy.enforcement_level.value if policy.enforcement_level else "advisory"

        def report(
            message: str, urn: str | None = None, where: str = "stack", p: Any = policy, lv: str = level
        ) -> None:
            found.append(Violation(p.name, lv, where, message, p.description or ""))

        if isinstance(policy, ResourceValidationPolicy):
            for r in resources:
                args = ResourceValidationArgs(r.resource_type, r.props, r.urn, r.name, r.opts, None)
                where = f"{r.resource_type}: {r.name}"
                policy.validate(args, lambda m, u=None, w=where: report(m, u, w))  # type: ignore[misc]
        elif isinstance(policy, StackValidationPolicy):
            policy.validate(StackValidationArgs(resources), report)
    return found


def render(violation: Violation) -> str:
    """A violation the way `pulumi preview --policy-pack` prints it."""
    return "\n".join(
        [
            f"    - [{violation.level}]  {violation.policy}  ({violation.resource})",
            f"      {violation.description}",
            f"      {violation.message}",
        ]
    )
