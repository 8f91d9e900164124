"""A finished Plan translated into what the EKS platform emits: names, pods, node pools, timings and scaling thresholds.
Pure functions, no Pulumi: the manifests (components/eks/manifests.py) and the tests read the same numbers.

One pod holds one node's GPUs, as one EC2 node does: a single-node replica is a Deployment pod (with vLLM's data
parallelism when several replicas share the node, exactly as on ec2), a multi-node replica a LeaderWorkerSet group of
`nodes_per_replica` pods. So the vLLM flags are the EC2 platform's, from one renderer (fleet_spec.vllm_args)."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass

from deploy.cluster_options import EksClusterOptions
from deploy.errors import PlatformError
from deploy.fleet_spec import (
    CACHE_GIB,
    IMAGE_GIB,
    Gp3Volume,
    capacity_spec,
    compatible_types,
    efa_interfaces,
    in_flight_target,
    model_ref,
    node_spec,
)
from deploy.options import FleetOptions
from sizing.catalog.node_hardware import node_hardware
from sizing.planner.cold_start import plan_cold_start, weights_footprint_bytes
from sizing.planner.results import Plan
from sizing.units import to_gib

NAME_MAX = 40
"""Longest object name the fleet gives: a LeaderWorkerSet's pods are named <name>-<group>-<index> and its leader's
address <name>-<group>.<name>.<namespace>, and a pod's hostname is a DNS label of at most 63 characters."""
HASH_CHARS = 6
"""Hex characters of the digest that keeps a shortened name unique."""
SURGE_PODS = 1
"""Pods (Deployment) or groups (LeaderWorkerSet) a rollout adds before it removes one (maxSurge), so that capacity never
drops during an update; the NodePool limits leave room for them."""
ON_DEMAND_WEIGHT, SPOT_WEIGHT = 100, 50
"""NodePool weights (1-100, higher first; https://karpenter.sh/docs/concepts/scheduling/#weighted-nodepools): the
on-demand floor pool fills first, up to its GPU limit, then the spot pool."""
EKS_ROOT_GIB = 20
"""Root volume of Karpenter's AL2023 nodes by default (/dev/xvda, 20Gi gp3; https://karpenter.sh/docs/concepts/
nodeclasses/#specblockdevicemappings): room for the OS, kubelet and logs."""
BOTTLEROCKET_OS_GIB = 4
"""Bottlerocket's OS volume (/dev/xvda); its data volume /dev/xvdb holds images and pod storage."""
ENDPOINT_PROPAGATION_S = 30
"""Seconds a stopping pod keeps serving before it drains: the endpoints controller and the AWS Load Balancer
Controller take it out of the Service and the target group meanwhile
(https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/deploy/pod_readiness_gate/ and
https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/)."""
EXIT_MARGIN_S = 30
"""Seconds between the end of the drain and SIGKILL, for vLLM to stop its engine processes."""
PROBE_PERIOD_S = 10
"""How often the kubelet asks /health."""
HPA_MAX_STABILIZATION_S = 3600
"""Largest stabilizationWindowSeconds the HorizontalPodAutoscaler accepts
(https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/horizontal-pod-autoscaler-v2/)."""
KV_HEADROOM = 0.8
"""The KV-cache trigger fires at this share of the usage a replica can reach (its --max-num-seqs requests at full
length, or the whole cache): a guard against preemption, which starts when the cache is full, not a load signal."""
ROLLOUT_MARGIN_S = 600
"""`pulumi up` waits for a rollout this long beyond the pods' own start-up (a node to launch first)."""
MASTER_PORT = 29500
"""torch.distributed port on the leader (vLLM's --master-port)."""
QUEUED_PER_REPLICA = 1.0
"""Requests waiting per replica that trigger a scale-out: vLLM queues only when the running batch is capped by KV or by
--max-num-seqs (the plan's capacity), so any sustained queue means the replica is past its capacity."""


@dataclass(frozen=True)
class PoolSpec:
    """One Karpenter NodePool."""

    name: str
    """NodePool name (cluster-scoped)."""
    purchase: str
    """on-demand, spot or reserved: what the pool is for."""
    capacity_types: tuple[str, ...]
    """karpenter.sh/capacity-type values it may buy, preferred first by Karpenter (reserved, spot, on-demand)."""
    weight: int
    """Priority among the fleet's pools (higher first)."""
    gpu_limit: int
    """nvidia.com/gpu this pool may hold at most."""


@dataclass(frozen=True)
class EksSpec:
    """Everything the EKS manifests take from the plan and the options."""

    name: str
    """Name of the fleet's namespaced objects (and prefix of its cluster-scoped ones)."""
    model_ref: str
    """What `vllm serve` loads: the S3 prefix (streamed), or the Hugging Face repo."""
    namespace: str
    """The fleet's namespace."""
    fleet_id: str
    """<project>/<stack>/<component name>: the llmfleet:fleet tag on the nodes."""
    instance_types: tuple[str, ...]
    """Types Karpenter may buy: the plan's, and its same-shape alternatives if the user opted in."""
    zones: tuple[str, ...] | None
    """Zones the nodes may launch in (None: any zone of the cluster's subnets)."""
    group_size: int
    """Pods per replica group: 1 (Deployment), or nodes per replica (LeaderWorkerSet)."""
    replicas: int
    """Deployment pods or LeaderWorkerSet groups at launch and at least (headroom included)."""
    max_replicas: int
    """Autoscaling ceiling, in the same unit."""
    gpus_per_pod: int
    """nvidia.com/gpu one pod requests: all of its node's GPUs."""
    efa_per_pod: int
    """vpc.amazonaws.com/efa one pod requests (multi-node replicas on EFA types; 0 otherwise)."""
    pools: tuple[PoolSpec, ...]
    """NodePools, the on-demand floor first."""
    instance_store: bool
    """The type has local NVMe: EC2NodeClass instanceStorePolicy RAID0 puts pod storage (the weights) on it."""
    root_volume_gib: int
    """Root (AL2023) or data (Bottlerocket) volume size."""
    data_volume_gib: int
    """emptyDir size for the weights and caches."""
    startup_budget_s: int
    """Seconds a pod may take to answer /health after it starts (the plan's cold start with margin)."""
    drain_s: int
    """Longest request with margin: how long a stopping pod waits for its requests."""
    termination_grace_s: int
    """terminationGracePeriodSeconds: propagation, drain and exit."""
    in_flight_per_replica: float
    """Requests running or waiting per Deployment pod / LWS group that the autoscaler holds (the plan's capacity at
    its target utilization)."""
    kv_usage_guard: float
    """KV-cache usage (0-1) past which a replica is near preempting requests: KV_HEADROOM of what it can reach."""
    create_timeout_s: int
    """How long `pulumi up` waits for a new workload to be ready: the start-up budget and a node launch."""
    update_timeout_s: int
    """How long it waits for a rollout: one surge replica after another, each a cold start, up to the ceiling."""
    scale_down_window_s: int
    """HPA scale-down stabilization and KEDA cooldown: at least the cold start a removed replica costs to get back."""

    @property
    def multi_node(self) -> bool:
        """A replica spans nodes (LeaderWorkerSet)."""
        return self.group_size > 1

    @property
    def service_name(self) -> str:
        """The fleet's Service: not the workload's own name, which a LeaderWorkerSet gives its headless Service (pod
        DNS, LWS_LEADER_ADDRESS) and creates only if no Service of that name exists."""
        return f"{self.name}-api"


def dns_name(*parts: str) -> str:
    """A DNS-1123 label from parts (lower case, runs of other characters as '-', repeated parts once), at most
    NAME_MAX characters: longer ones keep a digest of the whole so that two fleets never share a name."""
    joined = "-".join(dict.fromkeys(p for p in parts if p))
    label = re.sub(r"[^a-z0-9]+", "-", joined.lower()).strip("-") or "fleet"
    if len(label) <= NAME_MAX:
        return label
    digest = hashlib.sha256(joined.encode()).hexdigest()[:HASH_CHARS]
    return f"{label[: NAME_MAX - HASH_CHARS - 1].rstrip('-')}-{digest}"


def _zones(plan: Plan, cluster: EksClusterOptions, offered: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """Single-node replicas: the zones offering the type (pre-flight), spread across by the pods. Multi-node: one zone,
    since EFA and the NCCL ring of one replica stay inside an Availability Zone."""
    if plan.choice.nodes_per_replica == 1:
        return offered
    if cluster.zone:
        if offered and cluster.zone not in offered:
            raise PlatformError(
                f"cluster.zone {cluster.zone!r} does not offer {plan.choice.instance_type} (pre-flight "
                f"found it in {', '.join(offered)}). To fix: set llmfleet:fleet.cluster.zone to one of them."
            )
        return (cluster.zone,)
    if offered:
        return (offered[0],)
    raise PlatformError(
        f"a replica spans {plan.choice.nodes_per_replica} nodes, which must share one Availability Zone, "
        "and pre-flight did not say which zones offer the type. To fix: set llmfleet:fleet.cluster.zone "
        "(e.g. us-east-1a)."
    )


def _pools(plan: Plan, name: str, max_nodes: int, cluster: EksClusterOptions) -> tuple[PoolSpec, ...]:
    """The purchase as NodePools: on demand for the floor; above it spot, falling back to on demand where spot has no
    capacity (the plans are priced that way: sizing/data/assumptions.toml); Capacity Blocks as reserved capacity."""
    c = plan.choice
    gpus = c.gpus_per_instance
    if c.purchase == "capacity-block":
        if not cluster.capacity_reservation_ids:
            raise PlatformError(
                "the plan buys EC2 Capacity Blocks, and no reservation is named. To fix: set "
                "llmfleet:fleet.cluster.capacity_reservation_ids to the block's id (cr-...)."
            )
        return (PoolSpec(f"{name}-reserved", "reserved", ("reserved",), ON_DEMAND_WEIGHT, c.instances * gpus),)
    if c.purchase == "on-demand":
        return (PoolSpec(f"{name}-on-demand", "on-demand", ("on-demand",), ON_DEMAND_WEIGHT, max_nodes * gpus),)
    floor = c.on_demand_instances
    # Batch work waits for spot; interactive capacity above the floor falls back to on demand (and stays there until
    # its node empties: the pods block any consolidation that would move it back).
    spot_types = ("spot",) if plan.workload.kind == "batch" else ("spot", "on-demand")
    spot = PoolSpec(f"{name}-spot", "spot", spot_types, SPOT_WEIGHT, (max_nodes - floor) * gpus)
    on_demand = PoolSpec(f"{name}-on-demand", "on-demand", ("on-demand",), ON_DEMAND_WEIGHT, floor * gpus)
    return ((on_demand,) if floor else ()) + (spot,)


def node_storage(plan: Plan, options: FleetOptions) -> tuple[bool, int, int]:
    """(instance store, root or data volume GiB, emptyDir GiB for the weights and caches)."""
    hw = node_hardware(plan.choice.instance_type)
    on_disk = 0.0 if options.weights.s3_uri else to_gib(weights_footprint_bytes(plan.checkpoint.download_bytes))
    data = math.ceil(on_disk + CACHE_GIB)  # S3 weights are streamed into GPU memory by Run:ai, not written to disk
    local = hw.instance_store_disks > 0
    root = EKS_ROOT_GIB + IMAGE_GIB + (0 if local else data)
    return local, math.ceil(root), data


def _kv_guard(plan: Plan) -> float:
    """KV_HEADROOM of the KV-cache usage one engine can reach: --max-num-seqs requests of --max-model-len tokens, or the
    whole cache when that is less."""
    c, m = plan.choice, plan.memory_per_gpu
    seqs = -(-c.batch_per_replica // c.data_parallel)  # --max-num-seqs, per data-parallel rank
    reachable = min(1.0, seqs * plan.max_model_len / m.kv_cache_tokens) if m.kv_cache_tokens else 1.0
    return KV_HEADROOM * reachable


def eks_spec(
    plan: Plan, options: FleetOptions, fleet_id: str, name: str, offered_zones: tuple[str, ...] | None = None
) -> EksSpec:
    """The EKS platform's numbers for a plan."""
    cluster = options.cluster
    if cluster is None:
        raise PlatformError("platform 'eks' needs llmfleet:fleet.cluster. To fix: set at least cluster.name.")
    c = plan.choice
    capacity = capacity_spec(plan, options)
    multi = c.nodes_per_replica > 1
    replicas = c.replicas if multi else c.instances
    max_replicas = replicas if c.purchase == "capacity-block" else math.ceil(replicas * options.max_scale_factor)
    max_nodes = (max_replicas + SURGE_PODS) * c.nodes_per_replica
    local, root, data = node_storage(plan, options)
    types = compatible_types(plan) if cluster.alternative_instance_types else (c.instance_type,)
    drain = capacity.drain_s
    cold = math.ceil(plan_cold_start(plan).total_s)
    return EksSpec(
        name=name,
        model_ref=model_ref(plan, options),
        namespace=cluster.namespace,
        fleet_id=fleet_id,
        instance_types=types,
        zones=_zones(plan, cluster, offered_zones),
        group_size=c.nodes_per_replica,
        replicas=replicas,
        max_replicas=max_replicas,
        gpus_per_pod=c.gpus_per_instance,
        efa_per_pod=efa_interfaces(plan),
        pools=_pools(plan, name, max_nodes, cluster),
        instance_store=local,
        root_volume_gib=root,
        data_volume_gib=data,
        startup_budget_s=capacity.ready_timeout_s,
        drain_s=drain,
        termination_grace_s=ENDPOINT_PROPAGATION_S + drain + EXIT_MARGIN_S,
        in_flight_per_replica=in_flight_target(plan),
        kv_usage_guard=round(_kv_guard(plan), 3),
        scale_down_window_s=min(HPA_MAX_STABILIZATION_S, cold),
        create_timeout_s=capacity.ready_timeout_s + ROLLOUT_MARGIN_S,
        update_timeout_s=capacity.ready_timeout_s + (max_replicas - 1) * cold + ROLLOUT_MARGIN_S,
    )


def vllm_command(plan: Plan, options: FleetOptions, spec: EksSpec, leader: bool) -> tuple[str, ...]:
    """`vllm serve <model> <flags>` for one pod: the EC2 platform's flags (fleet_spec.vllm_args), the weights source,
    and for a multi-node replica vLLM's multiprocessing flags with the rank and leader address LeaderWorkerSet gives
    every pod (docs/serving/parallelism_scaling.md, "Running vLLM with MultiProcessing"; Kubernetes expands $(VAR) from
    the container's environment, https://kubernetes.io/docs/tasks/inject-data-application/define-interdependent-environment-variables/)."""
    args = ["vllm", "serve", spec.model_ref, *node_spec(plan, options).vllm_args]
    if (
        options.weights.s3_uri
    ):  # Run:ai Model Streamer (docker/Dockerfile of v0.19.0 installs runai-model-streamer[s3]); the pod's role
        args += ["--load-format", "runai_streamer"]
        if plan.choice.tensor_parallel * plan.choice.pipeline_parallel > 1:
            # Each rank reads its part and the ranks share it, instead of every rank reading the whole checkpoint
            # (vllm/model_executor/model_loader/runai_streamer_loader.py: model_loader_extra_config["distributed"]).
            args += ["--model-loader-extra-config", json.dumps({"distributed": True})]
    if spec.multi_node:
        args += [
            "--nnodes",
            str(spec.group_size),
            "--node-rank",
            "0" if leader else "$(LWS_WORKER_INDEX)",
            "--master-addr",
            "$(LWS_LEADER_ADDRESS)",
            "--master-port",
            str(MASTER_PORT),
        ]
        if not leader:
            args.append("--headless")
    return tuple(args)


def eks_ceiling(spec: EksSpec, gpus_per_instance: int) -> tuple[int, int]:
    """(on-demand, spot) instances Karpenter may buy at the NodePools' limits (the autoscaling ceiling and a surge
    replica); the quota pre-flight checks these. Reserved capacity (a Capacity Block) draws on neither."""
    on_demand = sum(p.gpu_limit for p in spec.pools if p.purchase == "on-demand") // gpus_per_instance
    spot = sum(p.gpu_limit for p in spec.pools if p.purchase == "spot") // gpus_per_instance
    return on_demand, spot


def node_volumes(plan: Plan, options: FleetOptions) -> tuple[Gp3Volume, ...]:
    """The encrypted gp3 volumes of every node, in device order: the root volume on AL2023; Bottlerocket's small OS
    volume and its data volume. Where the weights land on EBS (no instance store), the volume that holds them gets the
    throughput the cold start was priced with."""
    cluster = options.cluster
    assert cluster is not None
    local, size_gib, _ = node_storage(plan, options)
    disk = plan_cold_start(plan).disk
    data = (
        Gp3Volume(size_gib, disk.gp3_throughput_mibps, disk.gp3_iops)
        if not local and disk.gp3_throughput_mibps
        else Gp3Volume(size_gib)
    )
    return (Gp3Volume(BOTTLEROCKET_OS_GIB), data) if cluster.ami_alias.startswith("bottlerocket") else (data,)
