"""IAM: the node role and instance profile. Session Manager instead of SSH; read access to the weights prefix and the
token secret only; multi-node replicas may also list their own group's instances to find the Ray head."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.options import WeightsSource, with_input

SSM_CORE_POLICY = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
"""AWS managed policy for Session Manager access (no SSH keys, no open port 22)."""


@dataclass(frozen=True)
class IamArgs:
    """Inputs of Iam."""

    weights: WeightsSource
    """Where weights and token come from (scopes the policy)."""
    multi_node: bool
    """Grant the read-only discovery calls the Ray head election uses."""
    tags: dict[str, str]
    """Tags on every resource."""


def node_policy(weights: WeightsSource, multi_node: bool) -> dict[str, Any]:
    """The node role's inline policy: least privilege for what the bootstrap script does."""
    statements: list[dict[str, Any]] = []
    if weights.s3_uri:
        bucket, prefix = weights.s3_bucket, weights.s3_prefix
        objects = f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}*"
        statements.append({"Sid": "ReadWeights", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [objects]})
        statements.append({"Sid": "ListWeights", "Effect": "Allow", "Action": ["s3:ListBucket"],
                           "Resource": [f"arn:aws:s3:::{bucket}"],
                           "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*" if prefix else "*", prefix]}}})
    if weights.hf_token_secret_arn:
        statements.append({"Sid": "ReadHfToken", "Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                           "Resource": [weights.hf_token_secret_arn]})
    if isinstance(weights.hf_token_ssm_parameter, str) and weights.hf_token_ssm_parameter:
        name = weights.hf_token_ssm_parameter.lstrip("/")
        statements.append({"Sid": "ReadHfToken", "Effect": "Allow", "Action": ["ssm:GetParameter"],
                           "Resource": [f"arn:aws:ssm:*:*:parameter/{name}"]})
    if multi_node:
        statements.append({"Sid": "FindReplicaPeers", "Effect": "Allow", "Action": ["ec2:DescribeInstances"], "Resource": ["*"]})
    return {"Version": "2012-10-17", "Statement": statements}


ASSUME_EC2 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


class Iam(pulumi.ComponentResource):
    """The node role, its policies, and the instance profile."""

    instance_profile_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(self, name: str, args: IamArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:Iam", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(f"{name}-node", assume_role_policy=ASSUME_EC2, tags=args.tags, opts=child,
                            description="llm-fleet vLLM node")
        aws.iam.RolePolicyAttachment(f"{name}-ssm", role=role.name, policy_arn=SSM_CORE_POLICY, opts=child)
        policy = with_input(args.weights.resolved(), lambda w: json.dumps(node_policy(w, args.multi_node)))
        if not isinstance(policy, str) or json.loads(policy)["Statement"]:  # an Output-valued ARN is a statement
            aws.iam.RolePolicy(f"{name}-node", role=role.id, policy=policy, opts=child)
        profile = aws.iam.InstanceProfile(f"{name}-node", role=role.name, tags=args.tags, opts=child)
        self.instance_profile_arn = profile.arn
        self.role_name = role.name
        self.register_outputs({"instance_profile_arn": profile.arn, "role_name": role.name})
