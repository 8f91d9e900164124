"""The EKS stacks meet what Kubernetes, Karpenter, LeaderWorkerSet, KEDA, the AWS Load Balancer Controller and vLLM
document (tests/components/k8s_rules.py, each rule citing its document), and each rule is shown to fail on a run that
breaks it."""

from __future__ import annotations

import copy
import json

import pytest

from preview.mock_run import MockRun
from tests.components.k8s_rules import RULES, Rule
from tests.stack_runs import EKS_STACKS, stack_run


@pytest.mark.parametrize("stack", sorted(EKS_STACKS))
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_eks_stacks_meet_the_documents(stack, rule: Rule):
    assert rule.source.startswith("https://")
    assert rule.check(stack_run(stack)) == []


def broken(stack: str, kind: str, change, index: int | None = None) -> MockRun:
    """A copy of a stack's run with the inputs of its objects of one kind (or the index-th of them) changed."""
    run = copy.deepcopy(stack_run(stack))
    found = [r for r in run.resources if r.custom and r.inputs.get("kind") == kind]
    for r in found if index is None else [found[index]]:
        change(r.inputs)
    return run


def rule(name: str) -> Rule:
    return next(r for r in RULES if r.name == name)


def container(inputs: dict, role: str = "server") -> dict:
    spec = inputs["spec"]
    template = spec["template"] if role == "server" else spec["leaderWorkerTemplate"][f"{role}Template"]
    return template["spec"]["containers"][0]


def pod(inputs: dict, role: str = "server") -> dict:
    spec = inputs["spec"]
    return (spec["template"] if role == "server" else spec["leaderWorkerTemplate"][f"{role}Template"])["spec"]


def _replace_arg(args: list, flag: str, value: str) -> None:
    args[args.index(flag) + 1] = value


@pytest.mark.parametrize(
    "name,stack,kind,change",
    [
        (
            "start-up probe covers the cold start",
            "eks",
            "Deployment",
            lambda i: container(i)["startupProbe"].update(failureThreshold=3),
        ),
        (
            "start-up probe covers the cold start",
            "batch",
            "LeaderWorkerSet",
            lambda i: container(i, "leader").pop("readinessProbe"),
        ),
        (
            "GPU requests and vLLM's world size match the plan",
            "eks",
            "Deployment",
            lambda i: container(i)["resources"]["requests"].update({"nvidia.com/gpu": "2"}),
        ),
        (
            "GPU requests and vLLM's world size match the plan",
            "batch",
            "LeaderWorkerSet",
            lambda i: _replace_arg(container(i, "worker")["args"], "--pipeline-parallel-size", "1"),
        ),
        (
            "a multi-node replica is one LeaderWorkerSet group",
            "batch",
            "LeaderWorkerSet",
            lambda i: i["spec"]["leaderWorkerTemplate"].update(restartPolicy="None"),
        ),
        (
            "a multi-node replica is one LeaderWorkerSet group",
            "batch",
            "LeaderWorkerSet",
            lambda i: i["spec"]["leaderWorkerTemplate"].update(size=3),
        ),
        (
            "vLLM multi-node flags follow the group",
            "batch",
            "LeaderWorkerSet",
            lambda i: container(i, "worker")["args"].remove("--headless"),
        ),
        (
            "vLLM multi-node flags follow the group",
            "batch",
            "LeaderWorkerSet",
            lambda i: _replace_arg(container(i, "leader")["args"], "--node-rank", "$(LWS_WORKER_INDEX)"),
        ),
        (
            "grace period outlasts the longest request",
            "eks",
            "Deployment",
            lambda i: pod(i).update(terminationGracePeriodSeconds=30),
        ),
        (
            "grace period outlasts the longest request",
            "batch",
            "LeaderWorkerSet",
            lambda i: container(i, "leader").pop("lifecycle"),
        ),
        (
            "serving nodes are never consolidated",
            "eks",
            "NodePool",
            lambda i: i["spec"]["disruption"].update(consolidationPolicy="WhenEmptyOrUnderutilized"),
        ),
        (
            "serving nodes are never consolidated",
            "batch",
            "LeaderWorkerSet",
            lambda i: i["spec"]["leaderWorkerTemplate"]["workerTemplate"]["metadata"]["annotations"].pop(
                "karpenter.sh/do-not-disrupt"
            ),
        ),
        (
            "serving nodes are never consolidated",
            "eks",
            "NodePool",
            lambda i: i["spec"]["template"]["spec"].pop("expireAfter"),
        ),
        (
            "serving nodes are never consolidated",
            "batch",
            "NodePool",
            lambda i: i["spec"]["template"]["spec"].update(terminationGracePeriod="600s"),
        ),
        (
            "a plan change does not drift the nodes",
            "eks",
            "EC2NodeClass",
            lambda i: i["spec"]["tags"].update({"llmfleet:max-model-len": "2560"}),
        ),
        (
            "GPU nodes run the NVIDIA device plugin",
            "eks",
            "NodePool",
            lambda i: i["spec"]["template"]["metadata"]["labels"].pop("nvidia.com/gpu.present"),
        ),
        (
            "GPU nodes run the NVIDIA device plugin",
            "batch",
            "NodePool",
            lambda i: i["spec"]["template"]["spec"]["taints"].append(
                {"key": "team", "value": "a", "effect": "NoSchedule"}
            ),
        ),
        (
            "rollouts and drains keep capacity",
            "eks",
            "Deployment",
            lambda i: i["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable=1),
        ),
        (
            "rollouts and drains keep capacity",
            "batch",
            "PodDisruptionBudget",
            lambda i: i["spec"].update(maxUnavailable=3),
        ),
        (
            "NodePool limits hold the autoscaling ceiling",
            "batch",
            "NodePool",
            lambda i: i["spec"]["limits"].update({"nvidia.com/gpu": "16"}),
        ),
        (
            "NodePool limits hold the autoscaling ceiling",
            "eks",
            "NodePool",
            lambda i: i["spec"]["limits"].update({"nvidia.com/gpu": "2"}),
        ),
        (
            "capacity type follows the plan's purchase",
            "eks",
            "NodePool",
            lambda i: i["spec"]["template"]["spec"]["requirements"][1].update(values=["spot"]),
        ),
        ("pods tolerate and select their nodes", "eks", "Deployment", lambda i: pod(i).update(tolerations=[])),
        (
            "pods tolerate and select their nodes",
            "batch",
            "LeaderWorkerSet",
            lambda i: pod(i, "worker").update(nodeSelector={"llm-fleet.io/fleet": "another"}),
        ),
        ("node storage, encryption and IMDSv2", "eks", "EC2NodeClass", lambda i: i["spec"].pop("instanceStorePolicy")),
        (
            "node storage, encryption and IMDSv2",
            "batch",
            "EC2NodeClass",
            lambda i: i["spec"]["metadataOptions"].update(httpPutResponseHopLimit=2),
        ),
        (
            "node storage, encryption and IMDSv2",
            "eks",
            "EC2NodeClass",
            lambda i: i["spec"]["blockDeviceMappings"][0]["ebs"].update(encrypted=False),
        ),
        (
            "multi-node replicas in one zone with every EFA",
            "batch",
            "NodePool",
            lambda i: i["spec"]["template"]["spec"]["requirements"][2].update(values=["us-east-1a", "us-east-1b"]),
        ),
        (
            "multi-node replicas in one zone with every EFA",
            "batch",
            "LeaderWorkerSet",
            lambda i: [
                container(i, r)["resources"][k].update({"vpc.amazonaws.com/efa": "1"})
                for r in ("leader", "worker")
                for k in ("requests", "limits")
            ],
        ),
        (
            "single-node replicas spread across zones",
            "eks",
            "Deployment",
            lambda i: pod(i).pop("topologySpreadConstraints"),
        ),
        (
            "the Service reaches serving pods only",
            "batch",
            "Service",
            lambda i: i["spec"]["selector"].pop("llm-fleet.io/role"),
        ),
        (
            "the Service reaches serving pods only",
            "batch",
            "Service",
            lambda i: i["metadata"].update(name="llmfleet-batch"),
        ),
        (
            "the Ingress routes /v1 only",
            "eks",
            "Ingress",
            lambda i: i["spec"]["rules"][0]["http"]["paths"][0].update(path="/"),
        ),
        (
            "no public Ingress without TLS",
            "eks",
            "Ingress",
            lambda i: i["metadata"]["annotations"].update(
                {
                    "alb.ingress.kubernetes.io/scheme": "internet-facing",
                    "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
                }
            ),
        ),
        (
            "the autoscaler keeps the plan's floor on vLLM's metrics",
            "eks",
            "ScaledObject",
            lambda i: i["spec"].update(minReplicaCount=1),
        ),
        (
            "the autoscaler keeps the plan's floor on vLLM's metrics",
            "batch",
            "ScaledObject",
            lambda i: i["spec"]["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"].update(
                stabilizationWindowSeconds=60
            ),
        ),
        (
            "the autoscaler keeps the plan's floor on vLLM's metrics",
            "eks",
            "ScaledObject",
            lambda i: i["spec"]["triggers"].pop(),
        ),
        (
            "the autoscaler keeps the plan's floor on vLLM's metrics",
            "eks",
            "ScaledObject",
            lambda i: i["spec"]["triggers"][0]["metadata"].pop("ignoreNullValues"),
        ),
        (
            "autoscaling thresholds come from the plan's capacity",
            "eks",
            "ScaledObject",
            lambda i: i["spec"]["triggers"][0]["metadata"].update(threshold="500"),
        ),
        (
            "no secret values in manifests",
            "eks",
            "Deployment",
            lambda i: container(i)["env"].append({"name": "HF_TOKEN", "value": "hf_" + "a" * 34}),
        ),
        (
            "no secret values in manifests",
            "batch",
            "LeaderWorkerSet",
            lambda i: container(i, "leader")["args"].extend(["--api-key", "${KEY}"]),
        ),
        ("names are DNS labels", "batch", "LeaderWorkerSet", lambda i: i["metadata"].update(name="x" * 60)),
    ],
)
def test_each_rule_catches_what_it_checks(name, stack, kind, change):
    assert rule(name).check(broken(stack, kind, change))


def test_every_rule_has_a_broken_case():
    names = {p[0] for p in test_each_rule_catches_what_it_checks.pytestmark[0].args[1]}
    assert names == {r.name for r in RULES}
