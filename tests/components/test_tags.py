"""Tags: keys instance metadata accepts, and the fleet tag that scopes the node role's writes to its own stack."""

from __future__ import annotations

import json

import pulumi
import pytest

from components import ServingFleet, ServingFleetArgs
from deploy.options import FleetOptions
from preview.mock_run import PROJECT, FleetMocks, MockRun
from tests.stack_runs import stack_run


@pytest.mark.parametrize("key", ["Cost Center", "team/owner", "_index"])
def test_tag_keys_instance_metadata_refuses_are_rejected_before_launch(key):
    """The launch template enables tags in instance metadata (the node reads its group name there), and EC2 then refuses
    to launch an instance whose tag key has a space or '/' (or is '.', '..', '_index'): every launch of the group would
    fail. https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html"""
    with pytest.raises(ValueError, match="instance metadata") as raised:
        FleetOptions(tags={key: "x"})
    assert "To fix:" in str(raised.value)
    assert FleetOptions(tags={"cost-center": "x", "team:owner": "y"}).tags  # what instance metadata accepts


def _own_condition(stack: str, component: str) -> dict:
    plan = stack_run("dev").plan  # before the mocks below: a cached stack run sets its own
    run = MockRun(stack=stack)
    pulumi.runtime.set_mocks(FleetMocks(run, "us-east-1"), project=PROJECT, stack=stack, preview=False)

    @pulumi.runtime.test
    def program():
        return ServingFleet(component, ServingFleetArgs(plan=plan)).endpoint

    program()
    policy = json.loads(run.one("RolePolicy").inputs["policy"])
    group_tags = {t["key"]: t["value"] for t in run.of_type("Group")[0].inputs["tags"]}
    (own,) = [st["Condition"] for st in policy["Statement"] if st["Sid"] == "OwnLifecycle"]
    assert own["StringEquals"]["aws:ResourceTag/llmfleet:fleet"] == group_tags["llmfleet:fleet"]  # it scopes its own
    return own


def test_the_fleet_tag_scoping_node_writes_is_unique_per_stack():
    """The node role may complete lifecycle actions and set instance health only where llmfleet:fleet matches: two
    stacks whose component has the same name (a YAML program's `fleet`) must not match each other."""
    assert _own_condition("dev", "fleet") != _own_condition("prod", "fleet")
