"""The policy pack on Kubernetes objects: GPU workloads (Deployment, StatefulSet, LeaderWorkerSet) that can hold the
model their pod annotations declare, vLLM servers that require their API key without carrying it, no secret values in
manifests, no public endpoint without TLS, and Karpenter nodes with IMDSv2 and encrypted volumes. Same rules as for
EC2 launch templates, for fleets from the component or written by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import ReportViolation, ResourceValidationArgs

from components import fleet_tags as tag
from policy.errors import InvalidDeclarationError, UndeclaredError, UnknownTypeError
from policy.memory_fit import ACCELERATED_FAMILY, known_gpus, shortfall
from policy.secrets import secrets_in

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
LEADER_WORKER_SET = "kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet"
INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"
SERVICE = "kubernetes:core/v1:Service"
EC2_NODE_CLASS = "kubernetes:karpenter.k8s.aws/v1:EC2NodeClass"
NODE_POOL = "kubernetes:karpenter.sh/v1:NodePool"
ACCELERATED_CATEGORIES = ("g", "p", "gr", "dl", "trn", "inf", "f", "vt")
KARPENTER_ACCELERATED = (
    "karpenter.k8s.aws/instance-category",
    "karpenter.k8s.aws/instance-family",
    "karpenter.k8s.aws/instance-gpu-count",
    "karpenter.k8s.aws/instance-gpu-name",
    "karpenter.k8s.aws/instance-gpu-manufacturer",
    "karpenter.k8s.aws/instance-accelerator-count",
)
"""Karpenter's well-known labels that select accelerated instances without naming them
(https://karpenter.sh/docs/concepts/scheduling/#well-known-labels): the categories of EC2's accelerated families
(https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html), a family (accelerated when it matches
ACCELERATED_FAMILY), or any GPU or accelerator count, name or maker."""
GPU = "nvidia.com/gpu"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
API_KEY_VARIABLE = "VLLM_API_KEY"
LAUNCHER_VARIABLE = "LLMFLEET_SECRETS_DIR"
"""Set on containers started by the component's launcher, which reads VLLM_API_KEY from a file fetched at start."""


def pod_templates(resource_type: str, props: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any], int]]:
    """(role, pod template, pods of its kind per replica) of a workload."""
    spec = props.get("spec") or {}
    if resource_type in (DEPLOYMENT, STATEFUL_SET) and spec.get("template"):
        yield "pod", spec["template"], 1
    elif resource_type == LEADER_WORKER_SET:
        lwt = spec.get("leaderWorkerTemplate") or {}
        size = int(lwt.get("size") or 1)
        if lwt.get("leaderTemplate"):
            yield "leader", lwt["leaderTemplate"], size
        if lwt.get("workerTemplate"):
            yield "worker", lwt["workerTemplate"], size


def _containers(template: Mapping[str, Any]) -> list[dict[str, Any]]:
    spec = template.get("spec") or {}
    return [*(spec.get("containers") or []), *(spec.get("initContainers") or [])]


def _gpus(template: Mapping[str, Any]) -> int:
    total = 0
    for c in (template.get("spec") or {}).get("containers") or []:
        res = c.get("resources") or {}
        value = (res.get("limits") or {}).get(GPU) or (res.get("requests") or {}).get(GPU) or 0
        try:
            total += int(float(value))
        except (TypeError, ValueError):
            continue
    return total


def instance_types(template: Mapping[str, Any]) -> list[str]:
    """The instance types a pod template may run on: its nodeSelector or required node affinity."""
    spec = template.get("spec") or {}
    chosen = (spec.get("nodeSelector") or {}).get(INSTANCE_TYPE_LABEL)
    if chosen:
        return [str(chosen)]
    terms = (
        ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        or {}
    ).get("nodeSelectorTerms") or []
    return [
        str(v)
        for t in terms
        for e in t.get("matchExpressions") or []
        if e.get("key") == INSTANCE_TYPE_LABEL and e.get("operator") == "In"
        for v in e.get("values") or []
    ]


def _declaration(template: Mapping[str, Any]) -> dict[str, str]:
    annotations = (template.get("metadata") or {}).get("annotations") or {}
    return tag.tags_from_annotations({str(k): str(v) for k, v in annotations.items()})


def _layout_gpus(declared: Mapping[str, str]) -> int | None:
    try:
        return int(declared[tag.TENSOR_PARALLEL]) * int(declared.get(tag.PIPELINE_PARALLEL, "1"))
    except (KeyError, ValueError):
        return None


def gpu_pods_hold_declared_model(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A GPU workload's pods can hold the model their llm-fleet.io/model annotation declares, at its
    llm-fleet.io/max-model-len, on every instance type they may run on; and their GPUs are the declared layout's
    (TP x PP over the pods of a replica)."""
    for role, template, size in pod_templates(args.resource_type, args.props):
        gpus, declared = _gpus(template), _declaration(template)
        if not gpus or tag.MODEL not in declared:
            continue
        layout = _layout_gpus(declared)
        if layout is not None and layout != gpus * size:
            report_violation(
                f"{args.name} ({role}): the declared layout (TP x PP = {layout} GPUs) is not what a replica "
                f"holds ({gpus} GPUs x {size} pods). To fix: request the layout's GPUs, or declare the "
                "layout the pods run.",
                None,
            )
        for instance_type in instance_types(template):
            try:
                why = shortfall(instance_type, declared, replica_gpus=gpus * size)
            except UndeclaredError:
                continue  # the advisory policy reports it
            except (InvalidDeclarationError, UnknownTypeError) as exc:
                why = str(exc)
            if why:
                report_violation(f"{args.name} ({role}): {why}", None)


def gpu_pods_declare_their_model(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """GPU workloads declare the model and context they serve (pod annotations llm-fleet.io/model and
    llm-fleet.io/max-model-len) and the instance types they run on, so that the memory policy can check them."""
    for role, template, size in pod_templates(args.resource_type, args.props):
        if not _gpus(template):
            continue
        declared, types = _declaration(template), instance_types(template)
        if not types:
            report_violation(
                f"{args.name} ({role}): GPU pods without an instance type ({INSTANCE_TYPE_LABEL} in a "
                "nodeSelector or required node affinity), so what they can hold cannot be checked.",
                None,
            )
        for instance_type in types:
            try:
                shortfall(instance_type, declared, replica_gpus=_gpus(template) * size)
            except (InvalidDeclarationError, UnknownTypeError):
                continue  # the mandatory policy reports it
            except UndeclaredError as exc:
                report_violation(
                    f"{args.name} ({role}): {str(exc).replace('tags', 'annotations')} (annotations "
                    f"{tag.annotation_key(tag.MODEL)}, {tag.annotation_key(tag.MAX_MODEL_LEN)})",
                    None,
                )
                break


def _serves_vllm(container: Mapping[str, Any]) -> bool:
    words = [str(w) for w in [*(container.get("command") or []), *(container.get("args") or [])]]
    joined = " ".join(words)
    return ("vllm" in words and "serve" in words) or "vllm.entrypoints.openai.api_server" in joined


def vllm_requires_its_api_key(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A container serving vLLM's OpenAI API requires a key (VLLM_API_KEY from a Secret reference, or the component's
    launcher that reads it at start), and never carries it as a literal value or a command-line argument. Headless
    multi-node workers serve no API."""
    for role, template, _ in pod_templates(args.resource_type, args.props):
        for c in (template.get("spec") or {}).get("containers") or []:
            if not _serves_vllm(c) or "--headless" in (c.get("args") or []):
                continue
            env = {e.get("name"): e for e in c.get("env") or []}
            key = env.get(API_KEY_VARIABLE) or {}
            from_secret = bool((key.get("valueFrom") or {}).get("secretKeyRef"))
            if "value" in key or "--api-key" in [str(a) for a in c.get("args") or []]:
                report_violation(
                    f"{args.name} ({role}/{c.get('name')}): the API key is written into the manifest (a "
                    "literal VLLM_API_KEY or --api-key). To fix: reference a Secret (valueFrom."
                    "secretKeyRef) or fetch it at start from Secrets Manager, as LlmServingFleet does.",
                    None,
                )
            elif not from_secret and LAUNCHER_VARIABLE not in env:
                report_violation(
                    f"{args.name} ({role}/{c.get('name')}): vLLM serves without an API key: anyone who "
                    "reaches the pod can use /v1. To fix: set VLLM_API_KEY from a Secret reference.",
                    None,
                )


def no_secrets_in_manifests(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """No token, access key or private key in a workload's manifest or a ConfigMap (anyone who may read the object,
    and every backup of etcd, holds it): they come from Secrets Manager or a Secret reference."""
    texts = [
        json.dumps(c.get("env") or [])
        + " "
        + json.dumps(c.get("args") or [])
        + " "
        + json.dumps(c.get("command") or [])
        for _, t, _ in pod_templates(args.resource_type, args.props)
        for c in _containers(t)
    ]
    if args.resource_type == "kubernetes:core/v1:ConfigMap":
        texts.append(json.dumps(args.props.get("data") or {}))
    found = [kind.split(" (line")[0] for text in texts for kind in secrets_in(text.replace("\\n", "\n"))]
    if found:
        report_violation(
            f"{args.name}: the manifest holds {', '.join(sorted(set(found)))} (not shown). To fix: keep it "
            "in Secrets Manager and fetch it at start, or reference a Kubernetes Secret.",
            None,
        )


def no_public_endpoint_without_tls(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """An internet-facing ALB Ingress or NLB Service terminates TLS with a certificate and has no plain-HTTP listener:
    the bearer key would otherwise cross the internet in clear text."""
    notes = (args.props.get("metadata") or {}).get("annotations") or {}
    if args.resource_type == INGRESS and notes.get("alb.ingress.kubernetes.io/scheme") == "internet-facing":
        ports = notes.get("alb.ingress.kubernetes.io/listen-ports") or '[{"HTTP": 80}]'
        try:
            plain = any("HTTP" in p for p in json.loads(ports))
        except (ValueError, TypeError, AttributeError):
            plain = True
        if plain or not notes.get("alb.ingress.kubernetes.io/certificate-arn"):
            report_violation(
                f"{args.name}: an internet-facing ALB with {ports} and "
                f"{'a' if notes.get('alb.ingress.kubernetes.io/certificate-arn') else 'no'} certificate. To "
                "fix: listen on HTTPS only (listen-ports '[{\"HTTPS\": 443}]') with certificate-arn, or make "
                "it internal.",
                None,
            )
    if (
        args.resource_type == SERVICE
        and (args.props.get("spec") or {}).get("type") == "LoadBalancer"
        and notes.get("service.beta.kubernetes.io/aws-load-balancer-scheme") == "internet-facing"
        and not notes.get("service.beta.kubernetes.io/aws-load-balancer-ssl-cert")
    ):
        report_violation(
            f"{args.name}: an internet-facing load balancer Service without TLS "
            "(service.beta.kubernetes.io/aws-load-balancer-ssl-cert). To fix: add a certificate or make it "
            "internal.",
            None,
        )


def _pool_requirements(props: Mapping[str, Any]) -> list[dict[str, Any]]:
    template = ((props.get("spec") or {}).get("template") or {}).get("spec") or {}
    return [r for r in template.get("requirements") or [] if isinstance(r, dict)]


def _selects_accelerated(requirement: Mapping[str, Any]) -> bool:
    """Whether a requirement other than an instance-type list lets Karpenter pick accelerated types."""
    key, operator = requirement.get("key"), requirement.get("operator")
    values = [str(v) for v in requirement.get("values") or []]
    if key not in KARPENTER_ACCELERATED or operator in ("NotIn", "DoesNotExist"):
        return False
    if key == "karpenter.k8s.aws/instance-category":
        return operator != "In" or any(v in ACCELERATED_CATEGORIES for v in values)
    if key == "karpenter.k8s.aws/instance-family":
        return operator != "In" or any(ACCELERATED_FAMILY.fullmatch(v) for v in values)
    return not (operator == "In" and values and all(v in ("0", "") for v in values))


def karpenter_pools_launch_known_types(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """A Karpenter NodePool launches only instance types the memory policy can judge: the accelerated types it names
    are in the catalog, and a pool that selects accelerated instances by category, family or GPU attributes names
    its types (node.kubernetes.io/instance-type In [...]), since Karpenter would otherwise pick any type with GPUs."""
    if args.resource_type != NODE_POOL:
        return
    requirements = _pool_requirements(args.props)
    named = [r for r in requirements if r.get("key") == INSTANCE_TYPE_LABEL and r.get("operator") == "In"]
    for instance_type in [str(v) for r in named for v in r.get("values") or []]:
        try:
            known_gpus(instance_type)
        except UnknownTypeError as exc:
            report_violation(f"{args.name}: {exc}", None)
    broad = sorted({str(r.get("key")) for r in requirements if _selects_accelerated(r)})
    if broad and not named:
        report_violation(
            f"{args.name}: the NodePool selects accelerated instances by {', '.join(broad)} without "
            "naming them, so Karpenter may launch a GPU type whose memory no policy judged. To fix: "
            f"add a requirement {INSTANCE_TYPE_LABEL} In [the planned types].",
            None,
        )


def karpenter_nodes_imdsv2_and_encrypted(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    """Karpenter's EC2NodeClass keeps IMDSv2 required (its default) and encrypts every EBS volume it declares."""
    if args.resource_type != EC2_NODE_CLASS:
        return
    spec = args.props.get("spec") or {}
    tokens = (spec.get("metadataOptions") or {}).get("httpTokens", "required")
    if tokens != "required":
        report_violation(
            f"{args.name}: metadataOptions.httpTokens is {tokens!r}, IMDSv1 stays open. To fix: httpTokens: required.",
            None,
        )
    plain = [
        str(m.get("deviceName", "?"))
        for m in spec.get("blockDeviceMappings") or []
        if m.get("ebs") is not None and not m["ebs"].get("encrypted")
    ]
    if plain:
        report_violation(
            f"{args.name}: EBS volume(s) {', '.join(plain)} not encrypted. To fix: ebs.encrypted: true.", None
        )
