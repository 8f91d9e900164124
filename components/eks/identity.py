"""The pods' AWS role: read the API key, the Hugging Face token and the weights prefix, and nothing else; trusted by
EKS Pod Identity for the fleet's one service account, or by the cluster's OIDC provider (IRSA) for the same.

Sources: https://docs.aws.amazon.com/eks/latest/userguide/pod-id-role.html (trust, session tags),
https://docs.aws.amazon.com/eks/latest/userguide/iam-roles-for-service-accounts.html (IRSA trust conditions)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.iam import weights_statements
from deploy.cluster_options import EksClusterOptions
from deploy.inputs import with_input
from deploy.options import FleetOptions, WeightsSource

POD_IDENTITY_PRINCIPAL = "pods.eks.amazonaws.com"


def pod_identity_trust(cluster: str, namespace: str, account: str) -> dict[str, Any]:
    """EKS Pod Identity may hand the role to the fleet's service account only: the agent tags each session with the
    cluster, namespace and service account, and the trust policy requires those tags."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": POD_IDENTITY_PRINCIPAL},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:RequestTag/eks-cluster-name": cluster,
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": account,
                    }
                },
            }
        ],
    }


def irsa_trust(provider_arn: str, namespace: str, account: str) -> dict[str, Any]:
    """The cluster's OIDC provider may hand the role to the fleet's service account only (sub and aud conditions)."""
    issuer = provider_arn.split(":oidc-provider/", 1)[1]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{issuer}:sub": f"system:serviceaccount:{namespace}:{account}",
                        f"{issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ],
    }


def pod_policy(weights: WeightsSource, api_key_secret: str) -> dict[str, Any]:
    """What the pods do with their role: the weights, the token, the API key."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            *weights_statements(weights),
            {
                "Sid": "ReadApiKey",
                "Effect": "Allow",
                "Action": ["secretsmanager:GetSecretValue"],
                "Resource": [api_key_secret],
            },
        ],
    }


@dataclass(frozen=True)
class PodIdentityArgs:
    """Inputs of PodIdentity."""

    cluster: EksClusterOptions
    """The cluster and the identity mechanism."""
    options: FleetOptions
    """Weights source (scopes the policy)."""
    namespace: str
    """The fleet's namespace."""
    service_account: str
    """The fleet's service account."""
    api_key_secret: pulumi.Input[str]
    """ARN of the API-key secret."""
    tags: dict[str, str]
    """Tags on every resource."""


class PodIdentity(pulumi.ComponentResource):
    """The pods' role, its inline policy, and (Pod Identity) the association with the service account."""

    role_arn: pulumi.Output[str]
    association: aws.eks.PodIdentityAssociation | None

    def __init__(self, name: str, args: PodIdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:eks:PodIdentity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        c = args.cluster
        trust: pulumi.Input[str] = json.dumps(pod_identity_trust(c.name, args.namespace, args.service_account))
        if c.identity == "irsa":
            assert c.oidc_provider_arn is not None  # EksClusterOptions requires it with irsa
            trust = with_input(
                c.oidc_provider_arn, lambda arn: json.dumps(irsa_trust(arn, args.namespace, args.service_account))
            )
        role = aws.iam.Role(
            f"{name}-pods", assume_role_policy=trust, tags=args.tags, opts=child, description="llm-fleet vLLM pods"
        )
        policy = pulumi.Output.all(args.options.weights.resolved(), args.api_key_secret).apply(
            lambda v: json.dumps(pod_policy(v[0], v[1]))
        )
        aws.iam.RolePolicy(f"{name}-pods", role=role.id, policy=policy, opts=child)
        self.association = None
        if c.identity == "pod-identity":
            self.association = aws.eks.PodIdentityAssociation(
                f"{name}-pods",
                cluster_name=c.name,
                namespace=args.namespace,
                service_account=args.service_account,
                role_arn=role.arn,
                tags=args.tags,
                opts=child,
            )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": role.arn})
