"""Every Kubernetes object the EKS stacks emit validates against its real schema: the Kubernetes OpenAPI of the pinned
version for built-in kinds, the CRD's published schema at its pinned release for Karpenter, LeaderWorkerSet, KEDA and
the Prometheus Operator; and each schema is shown to refuse a broken object."""

from __future__ import annotations

import copy
import json

import pytest

from deploy.eks_prerequisites import CRDS, KUBERNETES_SCHEMA
from tests.components.k8s_schemas import CRD_DIR, crd_release, crd_schemas, k8s_objects, schema_errors
from tests.stack_runs import EKS_STACKS, stack_run


def _objects() -> list[tuple[str, str, str]]:
    # sorted: the mocked run registers resources from several threads, so their order varies between runs
    return sorted((stack, r.type, r.name) for stack in sorted(EKS_STACKS) for r, _ in k8s_objects(stack_run(stack)))


@pytest.mark.parametrize("stack,kind,name", _objects())
def test_every_object_validates_against_its_schema(stack, kind, name):
    obj = next(o for r, o in k8s_objects(stack_run(stack)) if r.name == name and r.type == kind)
    assert schema_errors(obj) == []


def test_each_stack_emits_the_objects_of_its_shape():
    kinds = {s: sorted({o["kind"] for _, o in k8s_objects(stack_run(s))}) for s in EKS_STACKS}
    assert kinds["eks"] == [
        "Deployment",
        "EC2NodeClass",
        "Ingress",
        "Namespace",
        "NodePool",
        "PodDisruptionBudget",
        "PodMonitor",
        "ScaledObject",
        "Service",
        "ServiceAccount",
    ]
    assert kinds["batch"] == [
        "EC2NodeClass",
        "LeaderWorkerSet",
        "Namespace",
        "NodePool",
        "PodDisruptionBudget",
        "PodMonitor",
        "ScaledObject",
        "Service",
        "ServiceAccount",
    ]


def test_crd_schemas_are_the_pinned_releases_with_provenance():
    """The schema files are the releases deploy/eks_prerequisites.py pins (one place), with their source."""
    for crd in CRDS:
        assert (crd.api_version, crd.kind) in crd_schemas()
        assert crd_release(crd.api_version, crd.kind) == f"v{crd.product.version}"
    for path in CRD_DIR.glob("*.json"):
        doc = json.loads(path.read_text())
        assert doc["source"].startswith("https://raw.githubusercontent.com/") and doc["licence"] == "Apache-2.0"
        assert len(doc["sha256_of_source"]) == 64
    assert KUBERNETES_SCHEMA.count(".") == 2


def _broken(stack: str, kind: str, change) -> dict:
    obj = copy.deepcopy(next(o for _, o in k8s_objects(stack_run(stack)) if o["kind"] == kind))
    change(obj)
    return obj


@pytest.mark.parametrize(
    "stack,kind,change,expected",
    [
        ("eks", "NodePool", lambda o: o["spec"].update(weigth=5), "'weigth' was unexpected"),
        ("eks", "NodePool", lambda o: o["spec"]["disruption"].update(consolidateAfter="5 minutes"), "does not match"),
        ("eks", "EC2NodeClass", lambda o: o["spec"].update(instanceStorePolicy="RAID1"), "is not one of"),
        ("eks", "EC2NodeClass", lambda o: o["spec"].pop("subnetSelectorTerms"), "is a required property"),
        (
            "batch",
            "LeaderWorkerSet",
            lambda o: o["spec"]["leaderWorkerTemplate"].update(restartPolicy="Always"),
            "is not one of",
        ),
        (
            "batch",
            "LeaderWorkerSet",
            lambda o: o["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]["containers"][0].update(resoures={}),
            "'resoures' was unexpected",
        ),
        (
            "eks",
            "ScaledObject",
            lambda o: o["spec"]["triggers"][0]["metadata"].update(threshold=5),
            "is not of type 'string'",
        ),
        (
            "eks",
            "PodMonitor",
            lambda o: o["spec"]["podMetricsEndpoints"][0].update(interval="15 seconds"),
            "does not match",
        ),
        (
            "eks",
            "Deployment",
            lambda o: o["spec"]["template"]["spec"]["containers"][0]["startupProbe"].update(failureThreshold="many"),
            "is not of type",
        ),
        ("eks", "Deployment", lambda o: o["spec"].update(replica=3), "replica"),
        (
            "eks",
            "Ingress",
            lambda o: o["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"].update(port={"number": "http"}),
            "is not of type",
        ),
        ("eks", "PodDisruptionBudget", lambda o: o["spec"].update(maxUnavailabe=1), "maxUnavailabe"),
    ],
)
def test_each_schema_refuses_a_broken_object(stack, kind, change, expected):
    errors = schema_errors(_broken(stack, kind, change))
    assert errors and any(expected in e for e in errors), errors
