"""IAM: the node role and instance profile. Session Manager through a custom policy (no parameter or document reads,
unlike AmazonSSMManagedInstanceCore); read access to the weights prefix, the token and API-key secrets only; the
lifecycle calls of the fleet's own groups; leaving the fleet's own target group and writing to its own log group."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.boot_sources import CACHE_FILL_ACTIONS, ECR_PULL_ACTIONS
from deploy.fleet_metrics import NAMESPACE
from deploy.options import FleetOptions, WeightsSource
from sizing.names import FLEET_TAG

"""Tag on every resource of a fleet; IAM conditions scope the node's write calls to resources carrying it."""
SESSION_MANAGER_ACTIONS = [
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
]
"""What Session Manager needs on the instance (https://docs.aws.amazon.com/systems-manager/latest/userguide/getting-started-create-iam-instance-profile.html,
"Session Manager only"). AmazonSSMManagedInstanceCore also grants ssm:GetParameter(s) on every parameter, documents
and associations: the token parameter of another team would be readable."""


@dataclass(frozen=True)
class IamArgs:
    """Inputs of Iam."""

    fleet: str
    """The value of the llmfleet:fleet tag (components.fleet.fleet_tag_value: project/stack/name)."""
    options: FleetOptions
    """Weights source, API key secret and image mirror (scope the policy)."""
    api_key_secret: pulumi.Input[str]
    """ARN of the API-key secret the nodes read (an Output for the secret the fleet creates)."""
    target_group_arn: pulumi.Input[str]
    """The fleet's target group: a node that is going away deregisters itself."""
    log_group_arn: pulumi.Input[str]
    """The fleet's CloudWatch Logs group (the vLLM container's output)."""
    image_repositories: pulumi.Input[list[str]]
    """ECR repositories the nodes pull the image from (components/boot_sources.py; none for a public registry)."""
    fills_image_cache: bool
    """The repositories are a pull-through cache's: the first pull imports the image and creates its repository."""
    weights_bucket: pulumi.Input[str] | None
    """The weights cache bucket the nodes read and fill (None without one)."""
    tags: dict[str, str]
    """Tags on every resource."""


def weights_statements(weights: WeightsSource) -> list[dict[str, Any]]:
    """Read access to the weights prefix and the Hugging Face token, and nothing more (both platforms' roles)."""
    statements: list[dict[str, Any]] = []
    if weights.s3_uri:
        bucket, prefix = weights.s3_bucket, weights.s3_prefix
        objects = f"arn:aws:s3:::{bucket}/{prefix + '/' if prefix else ''}*"
        statements.append({"Sid": "ReadWeights", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [objects]})
        statements.append(
            {
                "Sid": "ListWeights",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [f"arn:aws:s3:::{bucket}"],
                "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*" if prefix else "*", prefix]}},
            }
        )
    if weights.hf_token_secret_arn:
        statements.append(
            {
                "Sid": "ReadHfToken",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [weights.hf_token_secret_arn],
            }
        )
    if isinstance(weights.hf_token_ssm_parameter, str) and weights.hf_token_ssm_parameter:
        name = weights.hf_token_ssm_parameter.lstrip("/")
        statements.append(
            {
                "Sid": "ReadHfToken",
                "Effect": "Allow",
                "Action": ["ssm:GetParameter"],
                "Resource": [f"arn:aws:ssm:*:*:parameter/{name}"],
            }
        )
    return statements


@dataclass(frozen=True)
class FleetArns:
    """The fleet's own resources the node role acts on."""

    api_key_secret: str
    """API-key secret (read)."""
    target_group: str
    """Target group (deregister targets)."""
    log_group: str
    """Log group (create streams, put events)."""
    image_repositories: tuple[str, ...] = ()
    """ECR repositories the image is pulled from (read; a pull-through cache's prefix pattern)."""
    fills_image_cache: bool = False
    """Whether a pull imports the image into the cache (BatchImportUpstreamImage, CreateRepository)."""
    weights_bucket: str | None = None
    """The weights cache bucket (read and fill)."""


def node_policy(fleet: str, options: FleetOptions, arns: FleetArns) -> dict[str, Any]:
    """The node role's inline policy: least privilege for what the bootstrap script does."""
    own = {"StringEquals": {f"aws:ResourceTag/{FLEET_TAG}": fleet}}
    api_key_secret = arns.api_key_secret
    statements = weights_statements(options.weights)
    statements += [
        # ELB's target-level actions take the target group ARN as their resource
        # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html).
        {"Sid": "OwnTargets", "Effect": "Allow", "Action": list(TARGET_ACTIONS), "Resource": [arns.target_group]},
        # What docker's awslogs driver calls (https://docs.docker.com/engine/logging/drivers/awslogs/), on the
        # fleet's log group and its streams (log-stream ARNs are the group's ARN without ':*' plus ':log-stream:...').
        {
            "Sid": "ShipLogs",
            "Effect": "Allow",
            "Action": list(LOG_ACTIONS),
            "Resource": [arns.log_group, f"{arns.log_group.removesuffix(':*')}:log-stream:*"],
        },
        {
            "Sid": "ReadApiKey",
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [api_key_secret],
        },
        {"Sid": "SessionManager", "Effect": "Allow", "Action": SESSION_MANAGER_ACTIONS, "Resource": ["*"]},
        # PutMetricData takes no resource; the condition keeps the node to the fleet's namespace
        # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
        {
            "Sid": "FleetMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": ["*"],
            "Condition": {"StringEquals": {"cloudwatch:namespace": NAMESPACE}},
        },
        {
            "Sid": "OwnLifecycle",
            "Effect": "Allow",
            "Resource": ["*"],
            "Condition": own,
            "Action": [
                "autoscaling:CompleteLifecycleAction",
                "autoscaling:RecordLifecycleActionHeartbeat",
                "autoscaling:SetInstanceHealth",
            ],
        },
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [*statements, *image_statements(arns), *weights_cache_statements(arns)],
    }


def image_statements(arns: FleetArns) -> list[dict[str, Any]]:
    """Pulling the image from ECR: the registry login (GetAuthorizationToken takes no resource), the pull on the
    repositories, and for a pull-through cache the import and repository creation of the first pull."""
    if not arns.image_repositories:
        return []
    actions = [*ECR_PULL_ACTIONS, *(CACHE_FILL_ACTIONS if arns.fills_image_cache else ())]
    return [
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]},
        {"Sid": "PullImage", "Effect": "Allow", "Action": actions, "Resource": list(arns.image_repositories)},
    ]


def weights_cache_statements(arns: FleetArns) -> list[dict[str, Any]]:
    """The weights cache bucket: read its objects and list it (a missing marker is then a 404, not a 403), and write
    the objects the first node that serves uploads."""
    if not arns.weights_bucket:
        return []
    bucket = f"arn:aws:s3:::{arns.weights_bucket}"
    return [
        {
            "Sid": "WeightsCache",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": [f"{bucket}/*"],
        },
        {"Sid": "ListWeightsCache", "Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket]},
    ]


TARGET_ACTIONS = ("elasticloadbalancing:DeregisterTargets",)
"""What the node calls on its fleet's target group (its Auto Scaling group registers it)."""
LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
"""What the node calls on its fleet's log group."""

ASSUME_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)


class Iam(pulumi.ComponentResource):
    """The node role, its inline policy, and the instance profile."""

    instance_profile_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]

    def __init__(self, name: str, args: IamArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:Iam", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-node", assume_role_policy=ASSUME_EC2, tags=args.tags, opts=child, description="llm-fleet vLLM node"
        )
        policy = pulumi.Output.all(
            args.options.weights.resolved(),
            args.api_key_secret,
            args.target_group_arn,
            args.log_group_arn,
            args.image_repositories,
            args.weights_bucket,
        ).apply(
            lambda v: json.dumps(
                node_policy(
                    args.fleet,
                    args.options.model_copy(update={"weights": v[0]}),
                    FleetArns(v[1], v[2], v[3], tuple(v[4]), args.fills_image_cache, v[5]),
                )
            )
        )
        aws.iam.RolePolicy(f"{name}-node", role=role.id, policy=policy, opts=child)
        profile = aws.iam.InstanceProfile(f"{name}-node", role=role.name, tags=args.tags, opts=child)
        self.instance_profile_arn = profile.arn
        self.role_name = role.name
        self.register_outputs({"instance_profile_arn": profile.arn, "role_name": role.name})
