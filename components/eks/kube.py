"""Reaching the cluster and turning manifests into Pulumi resources: every Kubernetes object is a resource of its own
(the typed pulumi-kubernetes class, or a CustomResource for a CRD's kind), so previews, policies and tests see each."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from deploy.cluster_options import EksClusterOptions

TYPED: dict[tuple[str, str], Any] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("v1", "Service"): k8s.core.v1.Service,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
}
"""Built-in kinds the fleet emits, and their typed classes."""
EXEC_API = "client.authentication.k8s.io/v1beta1"
"""The exec credential API `aws eks get-token` answers (https://docs.aws.amazon.com/eks/latest/userguide/create-kubeconfig.html)."""


def kubeconfig(cluster: str, region: str, endpoint: str, certificate_authority: str) -> str:
    """A kubeconfig that reaches the cluster with a token from `aws eks get-token` under the deployer's own AWS
    credentials (no secret in it: the token is fetched at each use)."""
    user = {
        "exec": {
            "apiVersion": EXEC_API,
            "command": "aws",
            "interactiveMode": "Never",
            "args": ["eks", "get-token", "--cluster-name", cluster, "--region", region, "--output", "json"],
        }
    }
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "current-context": cluster,
            "clusters": [
                {"name": cluster, "cluster": {"server": endpoint, "certificate-authority-data": certificate_authority}}
            ],
            "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
            "users": [{"name": cluster, "user": user}],
        }
    )


def cluster_provider(name: str, cluster: EksClusterOptions, region: str, parent: pulumi.Resource) -> k8s.Provider:
    """A Kubernetes provider for the named EKS cluster, from its endpoint and certificate authority."""
    found = aws.eks.get_cluster_output(name=cluster.name, opts=pulumi.InvokeOutputOptions(parent=parent))
    config = pulumi.Output.all(found.endpoint, found.certificate_authorities).apply(
        lambda v: kubeconfig(cluster.name, region, v[0], v[1][0]["data"])
    )
    return k8s.Provider(f"{name}-k8s", kubeconfig=config, opts=pulumi.ResourceOptions(parent=parent))


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def k8s_object(name: str, manifest: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """The Pulumi resource for one manifest (logical name `name`)."""
    api_version, kind = manifest["apiVersion"], manifest["kind"]
    body = {k: v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    typed = TYPED.get((api_version, kind))
    if typed is not None:
        return typed(name, opts=opts, **{_snake(k): v for k, v in body.items()})
    return k8s.apiextensions.CustomResource(name, api_version=api_version, kind=kind, opts=opts, **body)
