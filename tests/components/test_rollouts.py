"""Safe rollouts: a pinned launch template version rolled by instance refresh, and a desired capacity the autoscaling
owns (issue 10's review against the AWS documentation)."""

from __future__ import annotations

import pulumi_aws as aws

from components.compute import IGNORED_GROUP_CHANGES
from tests.fleet_run import fleet_run


# Safe rollouts.
def test_launch_template_version_pinned_and_rolled_by_instance_refresh(ec2_stack):
    group = next(g for g in ec2_stack.of_type("Group") if g.name.endswith("-replicas"))
    spec = group.inputs["mixedInstancesPolicy"]["launchTemplate"]["launchTemplateSpecification"]
    assert spec["version"] == "1"  # the template's latest_version at deploy time, not "$Latest"
    assert group.inputs["instanceRefresh"]["strategy"] == "Rolling"
    prefs = group.inputs["instanceRefresh"]["preferences"]
    assert (prefs["minHealthyPercentage"], prefs["maxHealthyPercentage"]) == (100, 200)


def test_desired_capacity_ignored_after_creation(monkeypatch):
    seen = []
    original = aws.autoscaling.Group.__init__

    def spy(self, resource_name, *args, **kwargs):
        seen.append(kwargs.get("opts").ignore_changes)
        original(self, resource_name, *args, **kwargs)

    monkeypatch.setattr(aws.autoscaling.Group, "__init__", spy)
    fleet_run("spy", allowed_cidrs=("10.0.0.0/8",))
    assert seen == [IGNORED_GROUP_CHANGES] and "desiredCapacity" in IGNORED_GROUP_CHANGES
