"""Per-resource changes between the base and head runs of a stack, as `pulumi preview` would classify them: create,
update, replace or delete, with the names of the inputs that changed (values are compared by digest, never shown)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from components.compute import IGNORED_GROUP_CHANGES

Action = Literal["create", "update", "replace", "delete"]
REPLACE_ON: dict[str, frozenset[str]] = {
    "aws:ec2/vpc:Vpc": frozenset({"cidrBlock", "instanceTenancy"}),
    "aws:ec2/subnet:Subnet": frozenset({"vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId"}),
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"name", "namePrefix", "vpcId", "description"}),
    "aws:ec2/securityGroupRule:SecurityGroupRule": frozenset(
        {
            "type",
            "protocol",
            "fromPort",
            "toPort",
            "cidrBlocks",
            "ipv6CidrBlocks",
            "prefixListIds",
            "securityGroupId",
            "sourceSecurityGroupId",
            "self",
        }
    ),
    "aws:ec2/internetGateway:InternetGateway": frozenset(),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": frozenset({"subnetId", "gatewayId"}),
    "aws:ec2/placementGroup:PlacementGroup": frozenset({"name", "strategy", "partitionCount", "spreadLevel"}),
    "aws:ec2/launchTemplate:LaunchTemplate": frozenset({"name", "namePrefix"}),
    "aws:autoscaling/group:Group": frozenset({"name", "namePrefix", "placementGroup"}),
    "aws:autoscaling/policy:Policy": frozenset({"name", "autoscalingGroupName"}),
    "aws:lb/loadBalancer:LoadBalancer": frozenset({"name", "namePrefix", "internal", "loadBalancerType"}),
    "aws:lb/targetGroup:TargetGroup": frozenset({"name", "namePrefix", "port", "protocol", "vpcId", "targetType"}),
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),
    "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "namePrefix", "role"}),
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": frozenset({"role", "policyArn"}),
    "aws:iam/instanceProfile:InstanceProfile": frozenset({"name", "namePrefix", "path"}),
}
"""Inputs whose change makes the AWS provider replace the resource (ForceNew in the Terraform AWS provider that
pulumi-aws bridges, e.g. every argument of aws_security_group_rule, a subnet's cidr_block, a target group's port);
any other changed input is an in-place update (a launch template gets a new version)."""

IGNORED: dict[str, frozenset[str]] = {
    "aws:autoscaling/group:Group": frozenset(IGNORED_GROUP_CHANGES),
    "aws:secretsmanager/secretVersion:SecretVersion": frozenset({"secretString"}),
}
"""Inputs the program registers with ignore_changes (components/compute.py IGNORED_GROUP_CHANGES: target tracking owns
the desired capacity; the generated API key): `pulumi up` leaves them as they are, so they are no change."""

Inputs = dict[str, dict[str, str]]
"""'type::name' -> {input name: digest of its value}."""


@dataclass(frozen=True)
class ResourceChange:
    """One resource that the change creates, updates, replaces or deletes."""

    action: Action
    """What `pulumi up` would do."""
    type: str
    """Pulumi type token."""
    name: str
    """Logical name."""
    inputs: tuple[str, ...]
    """Changed inputs (sorted); empty for create and delete."""


def resource_changes(base: Inputs, head: Inputs) -> list[ResourceChange]:
    """Every resource that differs, sorted by type then name."""
    changes = []
    for key in sorted(set(base) | set(head)):
        kind, name = key.split("::", 1)
        if key not in base or key not in head:
            changes.append(ResourceChange("create" if key in head else "delete", kind, name, ()))
            continue
        before, after = base[key], head[key]
        ignored = IGNORED.get(kind, frozenset())
        changed = tuple(
            sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k) and k not in ignored)
        )
        if changed:
            replace = bool(set(changed) & REPLACE_ON.get(kind, frozenset()))
            changes.append(ResourceChange("replace" if replace else "update", kind, name, changed))
    return changes
