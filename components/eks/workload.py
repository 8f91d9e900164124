"""vLLM on the fleet's nodes: the namespace, the service account, the pod template, the Deployment (single-node
replicas) or LeaderWorkerSet (multi-node replicas), the Service and the PodDisruptionBudget. Pure functions returning
manifests; values that are Outputs (the API-key secret's ARN, the IRSA role) are placed as given.

Sources: https://kubernetes.io/docs/concepts/workloads/, https://lws.sigs.k8s.io/docs/ (v0.10), vLLM v0.19.0
docs/serving/parallelism_scaling.md and docs/deployment/k8s.md."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pulumi

from components.eks.nodes import FLEET_LABEL, GPU_RESOURCE, GPU_TAINT
from components.eks.scripts import source
from components.fleet_tags import sizing_annotations
from deploy.eks_spec import ENDPOINT_PROPAGATION_S, PROBE_PERIOD_S, EksSpec, vllm_command
from deploy.fleet_spec import node_spec
from deploy.image_source import mirrored_image
from deploy.options import FleetOptions
from sizing.catalog.instances import get_instance_type
from sizing.names import ANNOTATION_PREFIX, DASHED_NAME
from sizing.planner.results import Plan

EFA_RESOURCE = "vpc.amazonaws.com/efa"
"""What the EFA device plugin advertises; Karpenter launches a pod asking for it with the type's EFA interfaces
(https://karpenter.sh/docs/concepts/scheduling/#efa)."""
LWS_API = "leaderworkerset.x-k8s.io/v1"
ROLE_LABEL = f"{ANNOTATION_PREFIX}role"
"""server (Deployment pod), leader or worker (LeaderWorkerSet): the Service and the monitor pick the pods that serve."""
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
"""Karpenter never consolidates or drifts away a node whose pod carries it (https://karpenter.sh/docs/concepts/
disruption/#pod-level-controls): serving or still warming up, the pod stays."""
SECRETS_DIR = "/run/llmfleet/secrets"
DATA_DIR = "/data"
HOST_SHARE = 0.5
"""Share of the node's vCPUs and memory the pod requests. The node is the fleet's alone (its label and the GPU taint),
so requests only have to fit beside the kubelet's reservation, Karpenter's VM overhead and the DaemonSets on every
catalog type; no limits, so vLLM may use the rest."""
SHM_GIB = 16
"""/dev/shm for NCCL and vLLM's worker processes (a memory-backed emptyDir; vLLM's Kubernetes guide mounts one)."""
INIT_REQUESTS = {"cpu": "100m", "memory": "256Mi"}
"""The secrets init container: one boto3 call or two."""
READY_FAILURES, LIVE_PERIOD_S, LIVE_FAILURES, PROBE_TIMEOUT_S = 3, 30, 4, 5
"""After start-up: out of the Service after 3 failed /health (30 s); restarted after 4 failed in a row (2 min: vLLM
answers 503 once its engine died)."""
REVISIONS_KEPT = 5
"""Old ReplicaSets kept for `kubectl rollout undo`."""


@dataclass(frozen=True)
class PodInputs:
    """What the pods take from resources created alongside them."""

    api_key_secret: pulumi.Input[str]
    """ARN of the Secrets Manager secret holding the API key."""
    region: str
    """AWS region (the SDK calls of the init container and the Run:ai streamer)."""


def labels(spec: EksSpec) -> dict[str, str]:
    """Labels of every namespaced object of the fleet."""
    return {
        "app.kubernetes.io/name": "vllm",
        "app.kubernetes.io/instance": spec.name,
        "app.kubernetes.io/managed-by": DASHED_NAME,
        FLEET_LABEL: spec.name,
    }


def serving_selector(spec: EksSpec) -> dict[str, str]:
    """The pods that answer HTTP: every Deployment pod, or each group's leader (headless workers serve nothing)."""
    return {"app.kubernetes.io/instance": spec.name, ROLE_LABEL: "leader" if spec.multi_node else "server"}


def _meta(spec: EksSpec, name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"name": name or spec.name, "namespace": spec.namespace, "labels": labels(spec), **extra}


READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"
"""With it on the namespace, the AWS Load Balancer Controller gives each pod a readiness gate that holds until its ALB
target is healthy, so a rollout never removes an old pod before the new one takes traffic
(https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/)."""


def namespace(spec: EksSpec, behind_alb: bool) -> dict[str, Any]:
    """The fleet's namespace, enforcing the baseline Pod Security Standard (no host access, no privileged or added
    capabilities: https://kubernetes.io/docs/concepts/security/pod-security-standards/)."""
    labels = {
        "pod-security.kubernetes.io/enforce": "baseline",
        "app.kubernetes.io/managed-by": DASHED_NAME,
        **({READINESS_GATE_LABEL: "enabled"} if behind_alb else {}),
    }
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": spec.namespace, "labels": labels}}


def service_account(spec: EksSpec, irsa_role_arn: pulumi.Input[str] | None) -> dict[str, Any]:
    """The pods' identity: EKS Pod Identity associates a role with it, or IRSA annotates it with one."""
    annotations = {"eks.amazonaws.com/role-arn": irsa_role_arn} if irsa_role_arn is not None else {}
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(spec, annotations=annotations),
        "automountServiceAccountToken": False,
    }


def _http_probe(period_s: int, failures: int) -> dict[str, Any]:
    return {
        "httpGet": {"path": "/health", "port": "http"},
        "periodSeconds": period_s,
        "timeoutSeconds": PROBE_TIMEOUT_S,
        "failureThreshold": failures,
    }


def _resources(plan: Plan, spec: EksSpec) -> dict[str, Any]:
    types = [get_instance_type(t) for t in spec.instance_types]  # the smallest of the types Karpenter may buy
    vcpus, memory_gib = min(t.vcpus for t in types), min(t.memory_gib for t in types)
    devices = {
        GPU_RESOURCE: str(spec.gpus_per_pod),
        **({EFA_RESOURCE: str(spec.efa_per_pod)} if spec.efa_per_pod else {}),
    }
    requests = {
        "cpu": str(max(1, math.floor(vcpus * HOST_SHARE))),
        "memory": f"{max(1, math.floor(memory_gib * HOST_SHARE))}Gi",
        "ephemeral-storage": f"{spec.data_volume_gib}Gi",
        **devices,
    }
    return {"requests": requests, "limits": dict(devices)}  # extended resources: limits equal requests


def _env(plan: Plan, options: FleetOptions, spec: EksSpec, leader: bool) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [
        {"name": "LLMFLEET_SECRETS_DIR", "value": SECRETS_DIR},
        {"name": "HF_HOME", "value": f"{DATA_DIR}/hf"},
        {"name": "VLLM_CACHE_ROOT", "value": f"{DATA_DIR}/vllm"},  # compile caches survive a container restart
        {"name": "AWS_REGION", "value": plan.region},
        {"name": "LLMFLEET_PORT", "value": str(options.api_port)},
        {"name": "LLMFLEET_PROPAGATION_S", "value": str(ENDPOINT_PROPAGATION_S)},
        {"name": "LLMFLEET_DRAIN_S", "value": str(spec.drain_s)},
    ]
    if spec.multi_node:
        env.append({"name": "VLLM_HOST_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}})
    if spec.multi_node and not leader:  # the engine spans the group: a worker outlives the leader's last request
        env.append({"name": "LLMFLEET_DRAIN_ON", "value": "leader"})
    if spec.efa_per_pod:
        env.append({"name": "FI_PROVIDER", "value": "efa"})
    return env


def _init_container(options: FleetOptions, image: str, inputs: PodInputs) -> dict[str, Any]:
    w = options.weights
    env = [
        {"name": "LLMFLEET_SECRETS_DIR", "value": SECRETS_DIR},
        {"name": "AWS_REGION", "value": inputs.region},
        {"name": "LLMFLEET_API_KEY_SECRET", "value": inputs.api_key_secret},
    ]
    if w.hf_token_secret_arn:
        env.append({"name": "LLMFLEET_HF_TOKEN_SECRET", "value": w.hf_token_secret_arn})
    if w.hf_token_ssm_parameter:
        env.append({"name": "LLMFLEET_HF_TOKEN_PARAMETER", "value": w.hf_token_ssm_parameter})
    return {
        "name": "secrets",
        "image": image,
        "command": ["python3", "-c", source("fetch_secrets")],
        "env": env,
        "resources": {"requests": dict(INIT_REQUESTS), "limits": {"memory": INIT_REQUESTS["memory"]}},
        "securityContext": _container_security(),
        "volumeMounts": [{"name": "secrets", "mountPath": SECRETS_DIR}],
    }


def _container_security() -> dict[str, Any]:
    return {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}


def pod_template(plan: Plan, options: FleetOptions, spec: EksSpec, inputs: PodInputs, role: str) -> dict[str, Any]:
    """The pod of a Deployment (role server) or of a LeaderWorkerSet group (leader, worker): one node's GPUs, the
    secrets fetched by an init container with the pod's role, /health probes on the pods that serve (start-up budget:
    the plan's cold start with margin), a drain before SIGTERM, and a grace period that outlasts the longest request."""
    image = mirrored_image(node_spec(plan, options).image, options.image_mirror)
    serves = role in ("server", "leader")
    vllm: dict[str, Any] = {
        "name": "vllm",
        "image": image,
        "command": ["python3", "-c", source("launch")],
        "args": list(vllm_command(plan, options, spec, leader=role != "worker")),
        "env": _env(plan, options, spec, leader=role != "worker"),
        "resources": _resources(plan, spec),
        "securityContext": _container_security(),
        "volumeMounts": [
            {"name": "dshm", "mountPath": "/dev/shm"},
            {"name": "data", "mountPath": DATA_DIR},
            {"name": "secrets", "mountPath": SECRETS_DIR, "readOnly": True},
        ],
        "lifecycle": {"preStop": {"exec": {"command": ["python3", "-c", source("drain")]}}},
    }
    if serves:
        vllm["ports"] = [{"name": "http", "containerPort": options.api_port, "protocol": "TCP"}]
        vllm["startupProbe"] = _http_probe(PROBE_PERIOD_S, math.ceil(spec.startup_budget_s / PROBE_PERIOD_S))
        vllm["readinessProbe"] = _http_probe(PROBE_PERIOD_S, READY_FAILURES)
        vllm["livenessProbe"] = _http_probe(LIVE_PERIOD_S, LIVE_FAILURES)
    annotations = {DO_NOT_DISRUPT: "true", **sizing_annotations(plan)}
    if serves:
        annotations.update(
            {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(options.api_port),
                "prometheus.io/path": "/metrics",
            }
        )
    pod: dict[str, Any] = {
        "serviceAccountName": spec.name,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "terminationGracePeriodSeconds": spec.termination_grace_s,
        "nodeSelector": {FLEET_LABEL: spec.name},
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "node.kubernetes.io/instance-type",
                                    "operator": "In",
                                    "values": list(spec.instance_types),
                                }
                            ]
                        }
                    ]
                }
            }
        },
        "tolerations": [{"key": GPU_TAINT["key"], "operator": "Exists", "effect": GPU_TAINT["effect"]}],
        "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
        "initContainers": [_init_container(options, image, inputs)],
        "containers": [vllm],
        "volumes": [
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{SHM_GIB}Gi"}},
            {"name": "data", "emptyDir": {"sizeLimit": f"{spec.data_volume_gib}Gi"}},
            {"name": "secrets", "emptyDir": {"medium": "Memory", "sizeLimit": "1Mi"}},
        ],
    }
    if not spec.multi_node:  # replicas in different zones; a multi-node replica stays in its one zone (NodePool)
        pod["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": serving_selector(spec)},
            }
        ]
    return {"metadata": {"labels": {**labels(spec), ROLE_LABEL: role}, "annotations": annotations}, "spec": pod}


def deployment(plan: Plan, options: FleetOptions, spec: EksSpec, inputs: PodInputs) -> dict[str, Any]:
    """Single-node replicas: one pod per node, a new pod ready before an old one goes (surge 1, unavailable 0)."""
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(spec),
        "spec": {
            "replicas": spec.replicas,
            "revisionHistoryLimit": REVISIONS_KEPT,
            "progressDeadlineSeconds": spec.startup_budget_s,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "selector": {"matchLabels": serving_selector(spec)},
            "template": pod_template(plan, options, spec, inputs, "server"),
        },
    }


def leader_worker_set(plan: Plan, options: FleetOptions, spec: EksSpec, inputs: PodInputs) -> dict[str, Any]:
    """Multi-node replicas: a group of `nodes per replica` pods with fixed ranks, recreated whole when any pod of it
    restarts (vLLM's /health stays 200 with a dead peer), rolled out group by group with a surge group."""
    # Pulumi waits for a custom resource only when told what "ready" is: LWS reports the Available condition.
    return {
        "apiVersion": LWS_API,
        "kind": "LeaderWorkerSet",
        "metadata": _meta(spec, annotations={"pulumi.com/waitFor": "condition=Available"}),
        "spec": {
            "replicas": spec.replicas,
            "startupPolicy": "LeaderCreated",
            "rolloutStrategy": {
                "type": "RollingUpdate",
                "rollingUpdateConfiguration": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "leaderWorkerTemplate": {
                "size": spec.group_size,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": pod_template(plan, options, spec, inputs, "leader"),
                "workerTemplate": pod_template(plan, options, spec, inputs, "worker"),
            },
        },
    }


def service(options: FleetOptions, spec: EksSpec) -> dict[str, Any]:
    """ClusterIP Service on the serving pods' API port (named apart from the LeaderWorkerSet's headless Service)."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(spec, spec.service_name),
        "spec": {
            "type": "ClusterIP",
            "selector": serving_selector(spec),
            "ports": [{"name": "http", "port": options.api_port, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def disruption_budget(spec: EksSpec) -> dict[str, Any]:
    """At most one of the fleet's pods (so one replica) evicted at a time by a drain; a pod that is not ready (still
    loading, or crash-looping) may always go, so that it never blocks a node upgrade."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _meta(spec),
        "spec": {
            "maxUnavailable": 1,
            "unhealthyPodEvictionPolicy": "AlwaysAllow",
            "selector": {"matchLabels": {"app.kubernetes.io/instance": spec.name}},
        },
    }


def workload_manifest(plan: Plan, options: FleetOptions, spec: EksSpec, inputs: PodInputs) -> dict[str, Any]:
    """The Deployment or the LeaderWorkerSet."""
    return (leader_worker_set if spec.multi_node else deployment)(plan, options, spec, inputs)
