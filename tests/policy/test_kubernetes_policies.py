"""The policy pack on Kubernetes objects: the EKS stacks' objects pass each policy, and each policy fails a broken one
(hand-written fleets included: a Deployment of Llama 3.1 70B on one L4, vLLM with no key or a literal one, a public
Ingress over HTTP, an EC2NodeClass with IMDSv1)."""

from __future__ import annotations

import copy
import json

import pytest

from components import fleet_tags as tag
from policy import kubernetes as k
from tests.policy.test_policies import violations
from tests.stack_runs import stack_run

POLICIES = (
    k.gpu_pods_hold_declared_model,
    k.gpu_pods_declare_their_model,
    k.vllm_requires_its_api_key,
    k.no_secrets_in_manifests,
    k.no_public_endpoint_without_tls,
    k.karpenter_nodes_imdsv2_and_encrypted,
    k.karpenter_pools_launch_known_types,
)


def emitted(stack: str, kind: str) -> tuple[str, dict]:
    r = next(r for r in stack_run(stack).resources if r.custom and r.inputs.get("kind") == kind)
    return r.type, copy.deepcopy(r.inputs)


@pytest.mark.parametrize(
    "stack,kind",
    [
        ("eks", "Deployment"),
        ("batch", "LeaderWorkerSet"),
        ("eks", "Ingress"),
        ("eks", "EC2NodeClass"),
        ("eks", "Service"),
        ("eks", "NodePool"),
        ("batch", "NodePool"),
    ],
)
def test_the_emitted_objects_pass_every_policy(stack, kind):
    resource_type, props = emitted(stack, kind)
    for policy in POLICIES:
        assert violations(policy, props, resource_type) == [], policy.__name__


def _server(props: dict) -> dict:
    return props["spec"]["template"]


def test_a_deployment_whose_gpus_cannot_hold_its_model_fails():
    resource_type, props = emitted("eks", "Deployment")
    annotations = _server(props)["metadata"]["annotations"]
    annotations[tag.annotation_key(tag.MODEL)] = "llama-3.1-70b"
    found = violations(k.gpu_pods_hold_declared_model, props, resource_type)
    assert found and "cannot hold llama-3.1-70b" in found[0] and "To fix" in found[0]


def test_a_layout_the_pods_do_not_hold_fails():
    resource_type, props = emitted("batch", "LeaderWorkerSet")
    for role in ("leaderTemplate", "workerTemplate"):
        props["spec"]["leaderWorkerTemplate"][role]["metadata"]["annotations"][
            tag.annotation_key(tag.PIPELINE_PARALLEL)
        ] = "4"
    found = violations(k.gpu_pods_hold_declared_model, props, resource_type)
    assert found and "TP x PP = 32 GPUs" in found[0] and "8 GPUs x 2 pods" in found[0]


def test_gpu_pods_without_a_declaration_are_reported_as_advisory():
    resource_type, props = emitted("eks", "Deployment")
    _server(props)["metadata"]["annotations"] = {}
    assert "llm-fleet.io/model" in violations(k.gpu_pods_declare_their_model, props, resource_type)[0]
    _server(props)["spec"].pop("affinity")
    assert any(
        "without an instance type" in v for v in violations(k.gpu_pods_declare_their_model, props, resource_type)
    )


@pytest.mark.parametrize(
    "change,needle",
    [
        (
            lambda c: c["env"].remove(next(e for e in c["env"] if e["name"] == k.LAUNCHER_VARIABLE)),
            "without an API key",
        ),
        (lambda c: c["env"].append({"name": "VLLM_API_KEY", "value": "sk-1234"}), "written into the manifest"),
        (lambda c: c["args"].extend(["--api-key", "sk-1234"]), "written into the manifest"),
    ],
)
def test_vllm_without_its_key_or_with_a_literal_one_fails(change, needle):
    resource_type, props = emitted("eks", "Deployment")
    change(_server(props)["spec"]["containers"][0])
    assert needle in violations(k.vllm_requires_its_api_key, props, resource_type)[0]


def test_vllm_with_a_secret_reference_passes_and_headless_workers_need_no_key():
    resource_type, props = emitted("eks", "Deployment")
    c = _server(props)["spec"]["containers"][0]
    c["env"] = [{"name": "VLLM_API_KEY", "valueFrom": {"secretKeyRef": {"name": "vllm", "key": "api-key"}}}]
    assert violations(k.vllm_requires_its_api_key, props, resource_type) == []
    resource_type, props = emitted("batch", "LeaderWorkerSet")
    props["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]["containers"][0]["env"] = []
    assert violations(k.vllm_requires_its_api_key, props, resource_type) == []


def test_a_token_in_a_manifest_is_named_by_kind_never_shown():
    resource_type, props = emitted("eks", "Deployment")
    token = "hf_" + "Q" * 34
    _server(props)["spec"]["initContainers"][0]["env"].append({"name": "HF_TOKEN", "value": token})
    found = violations(k.no_secrets_in_manifests, props, resource_type)
    assert "a Hugging Face token" in found[0] and token not in found[0]


@pytest.mark.parametrize(
    "annotations",
    [
        {"alb.ingress.kubernetes.io/scheme": "internet-facing"},
        {
            "alb.ingress.kubernetes.io/scheme": "internet-facing",
            "alb.ingress.kubernetes.io/certificate-arn": "arn:aws:acm:x",
            "alb.ingress.kubernetes.io/listen-ports": json.dumps([{"HTTP": 80}, {"HTTPS": 443}]),
        },
    ],
)
def test_a_public_ingress_without_tls_everywhere_fails(annotations):
    resource_type, props = emitted("eks", "Ingress")
    props["metadata"]["annotations"] = annotations
    assert "internet-facing ALB" in violations(k.no_public_endpoint_without_tls, props, resource_type)[0]


def test_a_public_load_balancer_service_without_tls_fails():
    props = {
        "metadata": {"annotations": {"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"}},
        "spec": {"type": "LoadBalancer"},
    }
    assert violations(k.no_public_endpoint_without_tls, props, k.SERVICE)


@pytest.mark.parametrize(
    "change,needle",
    [
        (lambda s: s["metadataOptions"].update(httpTokens="optional"), "IMDSv1 stays open"),
        (lambda s: s["blockDeviceMappings"][0]["ebs"].update(encrypted=False), "not encrypted"),
    ],
)
def test_karpenter_nodes_with_imdsv1_or_plain_volumes_fail(change, needle):
    resource_type, props = emitted("eks", "EC2NodeClass")
    change(props["spec"])
    assert needle in violations(k.karpenter_nodes_imdsv2_and_encrypted, props, resource_type)[0]


def _pool_requirements(props: dict) -> list[dict]:
    return props["spec"]["template"]["spec"]["requirements"]


def test_a_node_pool_naming_an_accelerated_type_outside_the_catalog_fails():
    """Issue 22: types outside the catalog (p3, g5g) are reported as unknown, never passed."""
    resource_type, props = emitted("eks", "NodePool")
    types = next(r for r in _pool_requirements(props) if r["key"] == k.INSTANCE_TYPE_LABEL)
    types["values"] = [*types["values"], "p3.2xlarge", "g5g.xlarge", "m7i.large"]
    found = violations(k.karpenter_pools_launch_known_types, props, resource_type)
    assert len(found) == 2 and "p3.2xlarge" in found[0] and "g5g.xlarge" in found[1] and "To fix" in found[0]


@pytest.mark.parametrize(
    "requirement,judged",
    [
        ({"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["g", "p"]}, False),
        ({"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["p3"]}, False),
        ({"key": "karpenter.k8s.aws/instance-gpu-count", "operator": "Gt", "values": ["0"]}, False),
        ({"key": "karpenter.k8s.aws/instance-category", "operator": "In", "values": ["c", "m", "r"]}, True),
        ({"key": "karpenter.k8s.aws/instance-family", "operator": "In", "values": ["m7i"]}, True),
    ],
)
def test_a_node_pool_selecting_gpus_by_attributes_must_name_its_types(requirement, judged):
    resource_type, props = emitted("eks", "NodePool")
    kept = [r for r in _pool_requirements(props) if r["key"] != k.INSTANCE_TYPE_LABEL]
    props["spec"]["template"]["spec"]["requirements"] = [*kept, requirement]
    found = violations(k.karpenter_pools_launch_known_types, props, resource_type)
    assert (found == []) == judged, found
    if found:
        assert requirement["key"] in found[0] and "To fix" in found[0]
