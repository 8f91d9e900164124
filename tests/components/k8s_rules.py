"""What Kubernetes, Karpenter, LeaderWorkerSet, KEDA, the AWS Load Balancer Controller and vLLM document about the
objects an EKS fleet emits, checked on a mocked run. The schemas (k8s_schemas.py) say whether the API server accepts an
object; these rules say whether the fleet then works: boots, rolls out, heals, scales and stays closed. Each rule cites
its document and takes its limits from it (or from the plan), never from the code under test."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploy.fleet_spec import longest_request_s
from preview.mock_run import MockRun
from sizing.catalog.node_hardware import node_hardware
from sizing.planner.cold_start import plan_cold_start
from tests.components.k8s_schemas import k8s_objects

HPA_MAX_WINDOW_S = 3600
"""HorizontalPodAutoscaler behavior: stabilizationWindowSeconds is at most 3600 (one hour)."""
DNS_LABEL_MAX = 63
"""A pod's hostname, and any DNS label, is at most 63 characters (RFC 1123)."""
VLLM_API_PREFIX = "/v1"
"""vLLM's API key covers paths under /v1 only (AuthenticationMiddleware, v0.19.0
vllm/entrypoints/openai/server_utils.py)."""
VLLM_LOAD_METRICS = ("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc")
"""vLLM v0.19.0's gauges of the running batch, the queue and the KV cache (vllm/v1/metrics/loggers.py)."""
SECRET_VALUE = re.compile(r"\bhf_[A-Za-z0-9]{30,}\b|\b(?:AKIA|ASIA)[0-9A-Z]{16}\b|-----BEGIN [A-Z ]*PRIVATE KEY-----")
"""A Hugging Face token, an AWS access key id, a private key."""


@dataclass(frozen=True)
class Rule:
    """One documented constraint on the emitted objects."""

    name: str
    """What is checked."""
    source: str
    """The document that states it."""
    check: Callable[[MockRun], list[str]]
    """Violations in a run (empty: it passes)."""


def of_kind(run: MockRun, kind: str) -> list[dict[str, Any]]:
    return [o for _, o in k8s_objects(run) if o["kind"] == kind]


def workload(run: MockRun) -> dict[str, Any]:
    (found,) = of_kind(run, "Deployment") + of_kind(run, "LeaderWorkerSet")
    return found


def templates(run: MockRun) -> list[tuple[str, dict[str, Any]]]:
    """(role, pod template) of the fleet's workload: server, or leader and worker."""
    w = workload(run)
    if w["kind"] == "Deployment":
        return [("server", w["spec"]["template"])]
    lwt = w["spec"]["leaderWorkerTemplate"]
    return [("leader", lwt["leaderTemplate"]), ("worker", lwt["workerTemplate"])]


def vllm(template: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in template["spec"]["containers"] if c["name"] == "vllm")


def _flag(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def group_size(run: MockRun) -> int:
    w = workload(run)
    return w["spec"]["leaderWorkerTemplate"]["size"] if w["kind"] == "LeaderWorkerSet" else 1


# --- boot ---------------------------------------------------------------------------------------------------------


def startup_covers_cold_start(run: MockRun) -> list[str]:
    """A serving container gets a startup probe on /health whose budget (period x failures) is at least the plan's
    cold start: until it succeeds the liveness probe does not run, after it the kubelet kills a container that fails
    it; the pods that serve are also ready only on /health."""
    assert run.plan
    cold = plan_cold_start(run.plan).total_s
    problems = []
    for role, t in templates(run):
        if role == "worker":
            continue
        c = vllm(t)
        probe = c.get("startupProbe") or {}
        budget = probe.get("periodSeconds", 10) * probe.get("failureThreshold", 3)
        if budget < cold or (probe.get("httpGet") or {}).get("path") != "/health":
            problems.append(f"{role}: startup budget {budget} s on {probe.get('httpGet')} vs cold start {cold:.0f} s")
        if ((c.get("readinessProbe") or {}).get("httpGet") or {}).get("path") != "/health":
            problems.append(f"{role}: not ready on /health")
    return problems


def gpu_requests_match_the_plan(run: MockRun) -> list[str]:
    """Extended resources (nvidia.com/gpu, vpc.amazonaws.com/efa) are requested in whole units with limits equal to
    requests; a pod holds its node's GPUs, and vLLM's world size (TP x PP x DP) equals the GPUs of the replica."""
    assert run.plan
    c = run.plan.choice
    problems = []
    for role, t in templates(run):
        res = vllm(t)["resources"]
        for name in ("nvidia.com/gpu", "vpc.amazonaws.com/efa"):
            if res.get("requests", {}).get(name) != res.get("limits", {}).get(name):
                problems.append(f"{role}: {name} requests {res.get('requests', {}).get(name)} != limits")
        gpus = int(res["limits"].get("nvidia.com/gpu", 0))
        if gpus != c.gpus_per_instance:
            problems.append(f"{role}: {gpus} GPUs, the node has {c.gpus_per_instance}")
        args = vllm(t)["args"]
        world = (
            int(_flag(args, "--tensor-parallel-size") or 1)
            * int(_flag(args, "--pipeline-parallel-size") or 1)
            * int(_flag(args, "--data-parallel-size") or 1)
        )
        if world != gpus * group_size(run):
            problems.append(f"{role}: vLLM world size {world} on {gpus * group_size(run)} GPUs")
    return problems


def multi_node_is_one_group(run: MockRun) -> list[str]:
    """A replica spanning nodes is one LeaderWorkerSet group: size = nodes per replica, recreated whole when any of
    its pods restarts (a dead peer leaves the leader's /health at 200)."""
    assert run.plan
    nodes = run.plan.choice.nodes_per_replica
    w = workload(run)
    if nodes == 1:
        return [] if w["kind"] == "Deployment" else [f"single-node replicas as a {w['kind']}"]
    if w["kind"] != "LeaderWorkerSet":
        return [f"a {nodes}-node replica as a {w['kind']}"]
    lwt = w["spec"]["leaderWorkerTemplate"]
    problems = [] if lwt.get("size") == nodes else [f"group size {lwt.get('size')} for {nodes} nodes"]
    if lwt.get("restartPolicy", "RecreateGroupOnPodRestart") != "RecreateGroupOnPodRestart":
        problems.append(f"restartPolicy {lwt['restartPolicy']}: a failed pod leaves its group half alive")
    return problems


def multi_node_flags(run: MockRun) -> list[str]:
    """vLLM's multiprocessing multi-node start: every node the same flags, --nnodes the group size, --node-rank 0 on
    the leader and the LWS_WORKER_INDEX elsewhere, --master-addr the leader (LWS_LEADER_ADDRESS), --headless on the
    workers only (they serve no API)."""
    if group_size(run) == 1:
        return []
    problems = []
    for role, t in templates(run):
        args = vllm(t)["args"]
        want = {
            "--nnodes": str(group_size(run)),
            "--master-addr": "$(LWS_LEADER_ADDRESS)",
            "--node-rank": "0" if role == "leader" else "$(LWS_WORKER_INDEX)",
        }
        problems += [f"{role}: {k} {_flag(args, k)!r}, want {v!r}" for k, v in want.items() if _flag(args, k) != v]
        if ("--headless" in args) != (role == "worker"):
            problems.append(f"{role}: --headless {'missing' if role == 'worker' else 'on the leader'}")
    return problems


# --- rollout and healing --------------------------------------------------------------------------------------------


def grace_outlasts_longest_request(run: MockRun) -> list[str]:
    """A stopping pod runs its preStop hook, then gets SIGTERM, within terminationGracePeriodSeconds: it must outlast
    the longest request the plan admits, and the serving container must have a preStop hook that drains."""
    assert run.plan
    longest = longest_request_s(run.plan)
    problems = []
    for role, t in templates(run):
        grace = t["spec"].get("terminationGracePeriodSeconds", 30)
        if grace < longest:
            problems.append(f"{role}: grace {grace} s < longest request {longest:.0f} s")
        if not (vllm(t).get("lifecycle") or {}).get("preStop"):
            problems.append(f"{role}: no preStop drain")
    return problems


def serving_nodes_never_consolidated(run: MockRun) -> list[str]:
    """Karpenter consolidates only empty nodes of the fleet (WhenEmpty), and never disrupts a node whose pod carries
    karpenter.sh/do-not-disrupt: "true" (serving, or still loading the model). That annotation does not stop
    expiration, so nodes do not expire; and a NodePool terminationGracePeriod would let drift evict such pods once it
    runs out, so there is none."""
    problems = []
    for pool in of_kind(run, "NodePool"):
        spec = pool["spec"]
        if spec["disruption"].get("consolidationPolicy", "WhenEmptyOrUnderutilized") != "WhenEmpty":
            problems.append(f"{pool['metadata']['name']}: consolidates nodes that hold a pod")
        node = spec["template"]["spec"]
        if node.get("expireAfter", "720h") != "Never" or "terminationGracePeriod" in node:
            problems.append(
                f"{pool['metadata']['name']}: expireAfter {node.get('expireAfter')!r}, "
                f"terminationGracePeriod {node.get('terminationGracePeriod')!r}"
            )
    problems += [
        f"{role}: pods without karpenter.sh/do-not-disrupt"
        for role, t in templates(run)
        if t["metadata"].get("annotations", {}).get("karpenter.sh/do-not-disrupt") != "true"
    ]
    return problems


def rollout_keeps_capacity(run: MockRun) -> list[str]:
    """Rolling updates add a replica before they remove one (maxSurge 1, maxUnavailable 0) on a Deployment, and group
    by group on a LeaderWorkerSet; a PodDisruptionBudget lets a drain take at most one of the fleet's pods at a time."""
    w = workload(run)
    rolling = (
        w["spec"].get("strategy", {}).get("rollingUpdate")
        if w["kind"] == "Deployment"
        else w["spec"].get("rolloutStrategy", {}).get("rollingUpdateConfiguration")
    ) or {}
    problems = (
        []
        if (rolling.get("maxUnavailable"), rolling.get("maxSurge")) == (0, 1)
        else [f"{w['kind']}: maxUnavailable {rolling.get('maxUnavailable')}, maxSurge {rolling.get('maxSurge')}"]
    )
    pdbs = of_kind(run, "PodDisruptionBudget")
    labels = templates(run)[0][1]["metadata"]["labels"]
    covering = [p for p in pdbs if all(labels.get(k) == v for k, v in p["spec"]["selector"]["matchLabels"].items())]
    if not covering or any(p["spec"].get("maxUnavailable", 2) > 1 for p in covering):
        problems.append("no PodDisruptionBudget of at most one unavailable pod covers the fleet")
    return problems


PLAN_TAGS = (
    "llmfleet:max-model-len",
    "llmfleet:weights",
    "llmfleet:kv-dtype",
    "llmfleet:tensor-parallel",
    "llmfleet:pipeline-parallel",
    "llmfleet:gpu-memory-utilization",
)
"""Tags whose value moves with the plan (components/fleet_tags.py)."""


def plan_change_keeps_the_nodes(run: MockRun) -> list[str]:
    """Karpenter replaces (drifts) every node whose EC2NodeClass or NodePool template changed: values that move with
    the plan but not with the node (the sizing declaration) stay off them; the pods carry it."""
    problems = []
    for nc in of_kind(run, "EC2NodeClass"):
        problems += [f"{nc['metadata']['name']}: tag {t}" for t in PLAN_TAGS if t in nc["spec"].get("tags", {})]
    for pool in of_kind(run, "NodePool"):
        labels = pool["spec"]["template"].get("metadata", {}).get("labels", {})
        problems += [
            f"{pool['metadata']['name']}: label {k}"
            for k in labels
            if k.startswith("llm-fleet.io/") and k != "llm-fleet.io/fleet"
        ]
    return problems


def gpu_nodes_run_the_device_plugin(run: MockRun) -> list[str]:
    """The NVIDIA device plugin's DaemonSet runs only on nodes labelled by node feature discovery or with
    nvidia.com/gpu.present=true, and tolerates the nvidia.com/gpu taint: without it no node advertises nvidia.com/gpu,
    and the fleet's pods never schedule."""
    problems = []
    for pool in of_kind(run, "NodePool"):
        labels = pool["spec"]["template"].get("metadata", {}).get("labels", {})
        if labels.get("nvidia.com/gpu.present") != "true":
            problems.append(f"{pool['metadata']['name']}: no nvidia.com/gpu.present label")
        problems += [
            f"{pool['metadata']['name']}: taint {t['key']} the device plugin does not tolerate"
            for t in pool["spec"]["template"]["spec"].get("taints", [])
            if t["key"] != "nvidia.com/gpu"
        ]
    return problems


# --- nodes -----------------------------------------------------------------------------------------------------------


def node_pools_hold_the_ceiling(run: MockRun) -> list[str]:
    """NodePool limits cap what Karpenter buys: together they must hold the autoscaler's ceiling plus one surge
    replica (nvidia.com/gpu), and an on-demand pool holds exactly the plan's on-demand floor when spot is above it."""
    assert run.plan
    c = run.plan.choice
    (so,) = of_kind(run, "ScaledObject")
    gpus_per_replica = c.gpus_per_instance * group_size(run)
    need = (so["spec"]["maxReplicaCount"] + 1) * gpus_per_replica
    pools = {p["metadata"]["name"]: p["spec"] for p in of_kind(run, "NodePool")}
    limits = {n: int(s["limits"]["nvidia.com/gpu"]) for n, s in pools.items()}
    problems = [] if sum(limits.values()) >= need else [f"GPU limits {limits} hold less than {need}"]
    types = {n: s["template"]["spec"]["requirements"] for n, s in pools.items()}
    on_demand_only = [
        n
        for n, req in types.items()
        if any(r["key"] == "karpenter.sh/capacity-type" and r["values"] == ["on-demand"] for r in req)
    ]
    if c.purchase == "mixed" and [limits[n] for n in on_demand_only] != [c.on_demand_instances * c.gpus_per_instance]:
        problems.append(
            f"on-demand pool limits {[limits[n] for n in on_demand_only]} for a floor of "
            f"{c.on_demand_instances} instances"
        )
    return problems


def purchase_is_the_plans(run: MockRun) -> list[str]:
    """karpenter.sh/capacity-type follows the plan: on-demand only for an on-demand plan; spot for batch work, which
    waits for it; spot falling back to on demand for interactive capacity above the floor (the plans are priced so);
    a Capacity Block plan launches reserved capacity named by its id."""
    assert run.plan
    c = run.plan.choice
    spot = ("spot",) if run.plan.workload.kind == "batch" else ("spot", "on-demand")
    wanted = {
        "on-demand": {("on-demand",)},
        "spot": {spot},
        "mixed": {("on-demand",), spot},
        "capacity-block": {("reserved",)},
    }[c.purchase]
    have = {
        tuple(r["values"])
        for p in of_kind(run, "NodePool")
        for r in p["spec"]["template"]["spec"]["requirements"]
        if r["key"] == "karpenter.sh/capacity-type"
    }
    problems = [] if have == wanted else [f"capacity types {sorted(have)} for a {c.purchase} plan"]
    (node_class,) = of_kind(run, "EC2NodeClass")
    if c.purchase == "capacity-block" and not node_class["spec"].get("capacityReservationSelectorTerms"):
        problems.append("reserved capacity without capacityReservationSelectorTerms")
    return problems


def pods_land_on_the_fleets_nodes(run: MockRun) -> list[str]:
    """A pod schedules only where it tolerates every taint: the fleet's pods tolerate their pools' taints, select
    their pools' node label, and ask for the pools' instance types."""
    problems = []
    for pool in of_kind(run, "NodePool"):
        node = pool["spec"]["template"]
        types = next(
            r["values"] for r in node["spec"]["requirements"] if r["key"] == "node.kubernetes.io/instance-type"
        )
        for role, t in templates(run):
            spec = t["spec"]
            tolerated = [
                x
                for x in node["spec"].get("taints", [])
                if not any(
                    tol.get("key") == x["key"]
                    and tol.get("effect") in (None, x["effect"])
                    and (tol.get("operator") == "Exists" or tol.get("value") == x.get("value"))
                    for tol in spec.get("tolerations", [])
                )
            ]
            problems += [f"{role}: does not tolerate {x}" for x in tolerated]
            if any(node["metadata"]["labels"].get(k) != v for k, v in spec.get("nodeSelector", {}).items()):
                problems.append(f"{role}: nodeSelector {spec.get('nodeSelector')} misses {pool['metadata']['name']}")
            terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
                "nodeSelectorTerms"
            ]
            asked = [
                e["values"]
                for term in terms
                for e in term["matchExpressions"]
                if e["key"] == "node.kubernetes.io/instance-type"
            ]
            if asked and not set(types) & set(asked[0]):
                problems.append(f"{role}: asks for {asked[0]}, the pool buys {types}")
    return problems


def node_storage_and_metadata(run: MockRun) -> list[str]:
    """The EC2NodeClass keeps pod storage on the instance store (RAID0) where the type has one, encrypts its EBS
    volumes, and requires IMDSv2 with one hop (a pod cannot read the node role's credentials)."""
    assert run.plan
    (nc,) = of_kind(run, "EC2NodeClass")
    spec = nc["spec"]
    local = node_hardware(run.plan.choice.instance_type).instance_store_disks > 0
    problems = (
        []
        if (spec.get("instanceStorePolicy") == "RAID0") == local
        else [
            f"instanceStorePolicy {spec.get('instanceStorePolicy')} on a type with {'' if local else 'no '}instance "
            "store"
        ]
    )
    problems += [
        f"{b['deviceName']}: unencrypted" for b in spec.get("blockDeviceMappings", []) if not b["ebs"].get("encrypted")
    ]
    meta = spec.get("metadataOptions", {})
    if meta.get("httpTokens", "required") != "required" or meta.get("httpPutResponseHopLimit", 1) != 1:
        problems.append(f"metadata options {meta}")
    return problems


def multi_node_in_one_zone_with_efa(run: MockRun) -> list[str]:
    """EFA traffic stays within an Availability Zone: a multi-node replica's pool allows one zone, and its pods ask for
    every EFA interface the type takes (Karpenter then attaches them)."""
    assert run.plan
    if group_size(run) == 1:
        return []
    problems = []
    for pool in of_kind(run, "NodePool"):
        zones = [
            r["values"]
            for r in pool["spec"]["template"]["spec"]["requirements"]
            if r["key"] == "topology.kubernetes.io/zone"
        ]
        if not zones or len(zones[0]) != 1:
            problems.append(f"{pool['metadata']['name']}: zones {zones}")
    hw = node_hardware(run.plan.choice.instance_type)
    want = min(hw.network_cards - hw.efa_first_card, hw.efa_interfaces_max) if hw.efa_interfaces_max else 0
    for role, t in templates(run):
        have = int(vllm(t)["resources"]["limits"].get("vpc.amazonaws.com/efa", 0))
        if have != want:
            problems.append(f"{role}: {have} EFA, the type takes {want}")
    return problems


def single_node_replicas_spread(run: MockRun) -> list[str]:
    """Single-node replicas spread across zones (topologySpreadConstraints on topology.kubernetes.io/zone)."""
    if group_size(run) > 1:
        return []
    spread = templates(run)[0][1]["spec"].get("topologySpreadConstraints", [])
    return [] if any(s["topologyKey"] == "topology.kubernetes.io/zone" for s in spread) else ["no zone spread"]


# --- traffic and scaling ---------------------------------------------------------------------------------------------


def service_reaches_serving_pods_only(run: MockRun) -> list[str]:
    """Only the pods that serve HTTP are behind the Service: headless vLLM workers have no API server, so they would
    be endpoints that refuse every connection. And no Service takes a LeaderWorkerSet's name: LWS creates its headless
    Service (the pods' DNS names, LWS_LEADER_ADDRESS) under that name only if none exists."""
    w = workload(run)
    problems = [
        f"Service {s['metadata']['name']!r} takes the LeaderWorkerSet's name"
        for s in of_kind(run, "Service")
        if w["kind"] == "LeaderWorkerSet" and s["metadata"]["name"] == w["metadata"]["name"]
    ]
    for svc in of_kind(run, "Service"):
        selector = svc["spec"]["selector"]
        for role, t in templates(run):
            picked = all(t["metadata"]["labels"].get(k) == v for k, v in selector.items())
            serves = any(p.get("name") == "http" for p in vllm(t).get("ports", []))
            if picked != serves:
                problems.append(f"{svc['metadata']['name']}: {'selects' if picked else 'misses'} the {role} pods")
    return problems


def ingress_routes_v1_only(run: MockRun) -> list[str]:
    """vLLM's API key covers /v1 routes only (/invocations and /metrics answer without it): an Ingress routes /v1 and
    nothing else."""
    return [
        f"{i['metadata']['name']}: routes {p['path']!r}"
        for i in of_kind(run, "Ingress")
        for rule in i["spec"]["rules"]
        for p in rule["http"]["paths"]
        if not (p["path"] == VLLM_API_PREFIX or p["path"].startswith(VLLM_API_PREFIX + "/"))
    ]


def no_public_ingress_without_tls(run: MockRun) -> list[str]:
    """An internet-facing ALB listens on HTTPS only, with a certificate (the bearer key would cross the internet in
    clear text otherwise)."""
    problems = []
    for i in of_kind(run, "Ingress"):
        notes = i["metadata"].get("annotations", {})
        if notes.get("alb.ingress.kubernetes.io/scheme") != "internet-facing":
            continue
        ports = json.loads(notes.get("alb.ingress.kubernetes.io/listen-ports", '[{"HTTP": 80}]'))
        if not notes.get("alb.ingress.kubernetes.io/certificate-arn") or any("HTTP" in p for p in ports):
            problems.append(f"{i['metadata']['name']}: public on {ports} without TLS everywhere")
    return problems


def autoscaler_keeps_the_plan(run: MockRun) -> list[str]:
    """KEDA scales the fleet's workload between the plan's replicas (headroom included) and its ceiling, on vLLM's own
    load gauges, and never below capacity it just bought: scale-down waits at least a cold start (or the HPA's one-hour
    maximum)."""
    assert run.plan
    c = run.plan.choice
    (so,) = of_kind(run, "ScaledObject")
    spec, w = so["spec"], workload(run)
    floor = c.replicas if group_size(run) > 1 else c.instances
    problems = (
        []
        if spec["minReplicaCount"] == floor <= spec["maxReplicaCount"]
        else [f"replicas {spec['minReplicaCount']}..{spec['maxReplicaCount']} for a plan of {floor}"]
    )
    if (spec["scaleTargetRef"].get("kind"), spec["scaleTargetRef"]["name"]) != (w["kind"], w["metadata"]["name"]):
        problems.append(f"scales {spec['scaleTargetRef']}")
    window = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"]
    if not min(HPA_MAX_WINDOW_S, plan_cold_start(run.plan).total_s) <= window <= HPA_MAX_WINDOW_S:
        problems.append(f"scale-down window {window} s")
    queries = " ".join(t["metadata"]["query"] for t in spec["triggers"])
    problems += [f"no trigger on {m}" for m in VLLM_LOAD_METRICS if m not in queries]
    problems += [
        f"trigger {t.get('name')}: no series counts as 0"
        for t in spec["triggers"]
        if t["metadata"].get("ignoreNullValues", "true") != "false"
    ]
    return problems


def thresholds_from_the_plan(run: MockRun) -> list[str]:
    """The in-flight threshold per replica is the plan's per-replica capacity or less (the number that sized the fleet:
    above it the targets are missed), and more than half of it (below, the fleet scales out long before it needs to)."""
    assert run.plan
    c = run.plan.choice
    (so,) = of_kind(run, "ScaledObject")
    capacity = c.concurrency_per_replica * (c.replicas_per_instance if group_size(run) == 1 else 1)
    found = [
        float(t["metadata"]["threshold"])
        for t in so["spec"]["triggers"]
        if "num_requests_running" in t["metadata"]["query"] and t.get("metricType") == "AverageValue"
    ]
    return (
        []
        if found and capacity / 2 < found[0] <= capacity
        else [f"in-flight threshold {found} vs capacity {capacity:.1f}"]
    )


# --- secrets and names -----------------------------------------------------------------------------------------------


def no_secret_values_in_manifests(run: MockRun) -> list[str]:
    """No secret value in any object (Kubernetes stores them in etcd and hands them to anyone who may read the
    object): tokens and keys come from Secrets Manager at start; VLLM_API_KEY and HF_TOKEN are never literal env."""
    problems = []
    for r, obj in k8s_objects(run):
        text = json.dumps(obj)
        if SECRET_VALUE.search(text):
            problems.append(f"{r.name}: holds a secret-looking value")
    for role, t in templates(run):
        for c in t["spec"]["containers"] + t["spec"].get("initContainers", []):
            problems += [
                f"{role}/{c['name']}: {e['name']} as a literal"
                for e in c.get("env", [])
                if e["name"] in ("VLLM_API_KEY", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN") and "value" in e
            ]
            if "--api-key" in c.get("args", []):
                problems.append(f"{role}/{c['name']}: --api-key on the command line")
    return problems


def names_fit(run: MockRun) -> list[str]:
    """Object names are DNS labels; a LeaderWorkerSet's pods take <name>-<group>-<index> as their hostname (63 at most,
    with room for the indexes of a large fleet)."""
    problems = [
        f"{o['kind']} {o['metadata']['name']!r}"
        for _, o in k8s_objects(run)
        if not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", o["metadata"]["name"])
        or len(o["metadata"]["name"]) > DNS_LABEL_MAX
    ]
    w = workload(run)
    if w["kind"] == "LeaderWorkerSet" and len(f"{w['metadata']['name']}-9999-99") > DNS_LABEL_MAX:
        problems.append(f"pod hostnames of {w['metadata']['name']!r} exceed {DNS_LABEL_MAX}")
    return problems


K8S = "https://kubernetes.io/docs/"
RULES = (
    Rule(
        "start-up probe covers the cold start",
        K8S + "concepts/configuration/liveness-readiness-startup-probes/",
        startup_covers_cold_start,
    ),
    Rule(
        "GPU requests and vLLM's world size match the plan",
        K8S + "concepts/extend-kubernetes/compute-storage-net/device-plugins/",
        gpu_requests_match_the_plan,
    ),
    Rule(
        "a multi-node replica is one LeaderWorkerSet group",
        "https://lws.sigs.k8s.io/docs/concepts/",
        multi_node_is_one_group,
    ),
    Rule(
        "vLLM multi-node flags follow the group",
        "https://docs.vllm.ai/en/v0.19.0/serving/parallelism_scaling/",
        multi_node_flags,
    ),
    Rule(
        "grace period outlasts the longest request",
        K8S + "concepts/workloads/pods/pod-lifecycle/#pod-termination",
        grace_outlasts_longest_request,
    ),
    Rule(
        "serving nodes are never consolidated",
        "https://karpenter.sh/docs/concepts/disruption/",
        serving_nodes_never_consolidated,
    ),
    Rule(
        "a plan change does not drift the nodes",
        "https://karpenter.sh/docs/concepts/disruption/#drift",
        plan_change_keeps_the_nodes,
    ),
    Rule(
        "GPU nodes run the NVIDIA device plugin",
        "https://github.com/NVIDIA/k8s-device-plugin/blob/v0.20.0/deployments/helm/nvidia-device-plugin/values.yaml",
        gpu_nodes_run_the_device_plugin,
    ),
    Rule(
        "rollouts and drains keep capacity",
        K8S + "concepts/workloads/controllers/deployment/#rolling-update-deployment",
        rollout_keeps_capacity,
    ),
    Rule(
        "NodePool limits hold the autoscaling ceiling",
        "https://karpenter.sh/docs/concepts/nodepools/#speclimits",
        node_pools_hold_the_ceiling,
    ),
    Rule(
        "capacity type follows the plan's purchase",
        "https://karpenter.sh/docs/concepts/scheduling/#capacity-type",
        purchase_is_the_plans,
    ),
    Rule(
        "pods tolerate and select their nodes",
        K8S + "concepts/scheduling-eviction/taint-and-toleration/",
        pods_land_on_the_fleets_nodes,
    ),
    Rule(
        "node storage, encryption and IMDSv2",
        "https://karpenter.sh/docs/concepts/nodeclasses/",
        node_storage_and_metadata,
    ),
    Rule(
        "multi-node replicas in one zone with every EFA",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa.html",
        multi_node_in_one_zone_with_efa,
    ),
    Rule(
        "single-node replicas spread across zones",
        K8S + "concepts/scheduling-eviction/topology-spread-constraints/",
        single_node_replicas_spread,
    ),
    Rule(
        "the Service reaches serving pods only",
        "https://github.com/kubernetes-sigs/lws/blob/v0.10.0/pkg/utils/controller/controller_utils.go",
        service_reaches_serving_pods_only,
    ),
    Rule(
        "the Ingress routes /v1 only",
        "https://docs.vllm.ai/en/v0.19.0/serving/openai_compatible_server/",
        ingress_routes_v1_only,
    ),
    Rule(
        "no public Ingress without TLS",
        "https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/ingress/annotations/",
        no_public_ingress_without_tls,
    ),
    Rule(
        "the autoscaler keeps the plan's floor on vLLM's metrics",
        "https://keda.sh/docs/2.20/reference/scaledobject-spec/",
        autoscaler_keeps_the_plan,
    ),
    Rule(
        "autoscaling thresholds come from the plan's capacity",
        "https://keda.sh/docs/2.20/scalers/prometheus/",
        thresholds_from_the_plan,
    ),
    Rule(
        "no secret values in manifests",
        K8S + "concepts/security/secrets-good-practices/",
        no_secret_values_in_manifests,
    ),
    Rule("names are DNS labels", K8S + "concepts/overview/working-with-objects/names/", names_fit),
)
