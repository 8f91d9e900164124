"""Translating a finished Plan into resource settings: pure functions, no Pulumi, no sizing.

Each constant below is a named, documented default; FleetOptions overrides the ones a user may want to change."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import PurePath

from deploy.errors import PlatformError
from deploy.names import check_served_name
from deploy.options import DEFAULT_EFA_IMAGE, DEFAULT_VLLM_IMAGE, FleetOptions
from sizing.catalog.engines import get_engine
from sizing.catalog.instances import get_instance_type
from sizing.catalog.node_hardware import node_hardware
from sizing.planner.cold_start import WeightsDisk, plan_cold_start, weights_footprint_bytes
from sizing.planner.results import Candidate, Plan
from sizing.units import to_gib

AMI_ROOT_GIB = 100
"""Room for the Deep Learning Base GPU AMI's own root snapshot (75-100 GiB across 2025-26 releases; a launch template
cannot shrink below the snapshot)."""
IMAGE_GIB = 30
"""The vLLM image unpacked (~10 GB compressed, ~25 GB on disk for v0.1x) plus a layer being replaced during upgrades."""
CACHE_GIB = 10
"""torch.compile / Triton / CUDA graph caches and logs."""
GRACE_MARGIN = 1.5
"""Ready deadline = predicted cold start x this margin (image pull and weight download times vary) + READY_SLACK_S."""
READY_SLACK_S = 900
"""Seconds added to every ready deadline. The pull and download rates behind the prediction are estimates
(sizing/data/assumptions.toml), and a deadline that is too short ABANDONs every node, each replacement as slow as the
last, so the fleet never serves; one that is too long only keeps a stuck node 15 minutes more."""
HEALTH_GRACE_AFTER_READY_S = 120
"""Health-check grace once a node is InService. With a launch lifecycle hook the grace starts only after the hook
completes (https://docs.aws.amazon.com/autoscaling/ec2/userguide/health-check-grace-period.html), and the node completes
it only when vLLM's /health answers, so the grace only covers the first ALB health checks (3 x 15 s + margin)."""
LIFECYCLE_HEARTBEAT_MAX_S = 7200
"""Longest heartbeat timeout of a lifecycle hook; a longer wait needs heartbeats from the node
(https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html)."""
DEREGISTRATION_DELAY_MAX_S = 3600
"""Longest ALB target-group deregistration delay (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay)."""
DRAIN_MARGIN = 1.2
"""Drain = the longest request (a full context of output at the plan's TPOT after its TTFT) x this margin."""
TARGET_UTILIZATION = 0.7
"""Autoscaling tracks this share of a replica's sustainable request rate, leaving room for a cold start."""
LOG_RETENTION_DAYS = 30
"""Days CloudWatch Logs keeps the nodes' logs (a value PutRetentionPolicy accepts:
https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html); encrypted at rest
by CloudWatch Logs in every case."""


def verify_with_platform(plan: Plan, options: FleetOptions) -> None:
    """Refuse, before any resource, a plan the platform cannot run. On ec2 a replica fits one node: a replica spanning
    nodes needs its ranks started together, restarted together when one fails and rolled out group by group, which
    LeaderWorkerSet does on eks (the EC2 platform's tag-and-systemd rendezvous could not, and its user data was over
    EC2's 16 KB limit)."""
    c = plan.choice
    if options.platform == "ec2" and c.purchase == "capacity-block":  # an ASG would launch on demand at the list price
        raise PlatformError(
            "the plan buys EC2 Capacity Blocks, which platform 'ec2' does not reserve or target yet. "
            "To fix: plan with purchase 'on-demand' or 'mixed', or serve on platform 'eks' with the "
            "block in llmfleet:fleet.cluster.capacity_reservation_ids."
        )
    model_ref(plan, options)  # a config.json model needs a weights source, checked before the first resource
    check_served_name(served_name(plan))
    if options.platform == "ec2" and c.nodes_per_replica > 1:
        raise PlatformError(
            f"the plan's replica spans {c.nodes_per_replica} x {c.instance_type} ({c.parallel_label}), "
            "and platform 'ec2' serves single-node replicas only. To fix: set "
            "llmfleet:fleet.platform: eks with llmfleet:fleet.cluster (a LeaderWorkerSet holds the nodes of a replica "
            "together), or allow instance types whose one node holds a replica (llmfleet:deployment.instance_types)."
        )


def model_ref(plan: Plan, options: FleetOptions) -> str:
    """Where the weights come from: the S3 prefix, the given Hugging Face repo, or the plan's checkpoint repo."""
    w = options.weights
    ref = w.s3_uri or w.hf_model_id or plan.checkpoint.repo
    if not ref:
        raise PlatformError(
            f"no weights source for {plan.model!r}: it is not a preset with a Hugging Face repo. To fix: "
            "set llmfleet:fleet.weights.hf_model_id (a Hugging Face repo) or .s3_uri (s3://bucket/prefix)."
        )
    return ref


def creates_api_key_secret(options: FleetOptions) -> bool:
    """The fleet creates its API-key secret (components/api_key.py), unless the stack names its own."""
    return not options.api_key_secret_arn


@dataclass(frozen=True)
class Gp3Volume:
    """One encrypted gp3 EBS volume of a node."""

    size_gib: int
    """Size, GiB."""
    throughput_mibps: int | None = None
    """Provisioned throughput, MiB/s (None: the gp3 baseline)."""
    iops: int | None = None
    """Provisioned IOPS (None: the gp3 baseline)."""


@dataclass(frozen=True)
class NodeSpec:
    """What every node of the fleet runs."""

    instance_type: str
    """Instance type from the plan."""
    override_types: tuple[str, ...]
    """The plan's instance type and its compatible alternatives (same GPU, GPU count and layout)."""
    root_volume_gib: int
    """Encrypted gp3 root volume size."""
    weights_disk: WeightsDisk
    """Where the weights are kept: local NVMe instance store, or the root gp3 volume with provisioned throughput."""
    image: str
    """Serving image (the EFA image for the pods of a multi-node replica, which only platform eks serves)."""
    served_model_name: str
    """Model name clients use."""
    vllm_args: tuple[str, ...]
    """Arguments to `vllm serve` after the model reference."""

    @property
    def root_volume(self) -> Gp3Volume:
        """The root volume the launch template gives every node: provisioned for the weights when they land on it."""
        disk = self.weights_disk
        return Gp3Volume(self.root_volume_gib, disk.gp3_throughput_mibps, disk.gp3_iops)


@dataclass(frozen=True)
class CapacitySpec:
    """Auto Scaling sizes and purchase split."""

    desired: int
    """Instances at launch (the plan's count)."""
    min_size: int
    """Floor: the plan's instances."""
    max_size: int
    """Ceiling for target tracking."""
    on_demand_base: int
    """Instances always bought on demand."""
    on_demand_above_base_pct: int
    """Share of capacity above the base bought on demand (0: spot above the base)."""
    health_check_grace_s: int
    """Seconds after InService before health checks count."""
    ready_timeout_s: int
    """Launch lifecycle hook deadline: the predicted cold start x GRACE_MARGIN."""
    hook_heartbeat_s: int
    """Heartbeat timeout of the launch hook (at most LIFECYCLE_HEARTBEAT_MAX_S; the node sends heartbeats)."""
    drain_s: int
    """Deregistration delay and terminating-hook wait: the longest request x DRAIN_MARGIN."""
    in_flight_per_node: float
    """Target-tracking value: requests running or waiting per node (fleet_metrics.IN_FLIGHT), in_flight_target."""

    @property
    def spot(self) -> bool:
        """The group buys spot above its on-demand base."""
        return self.on_demand_above_base_pct < 100 and self.max_size > self.on_demand_base

    @property
    def fallback_max(self) -> int:
        """Instances of the on-demand fallback group at most: all the spot capacity the main group may hold (the plans
        price an unfilled spot node as running on demand; an Auto Scaling group never falls back by itself)."""
        return self.max_size - self.on_demand_base if self.spot else 0

    @property
    def max_nodes(self) -> int:
        """The most instances the fleet's groups may hold together (the main group's ceiling and the fallback's)."""
        return self.max_size + self.fallback_max

    @property
    def ceiling(self) -> tuple[int, int]:
        """(on-demand, spot) instances at the ceiling: the main group at its maximum, and the fallback group at its."""
        on_demand = self.max_size if not self.spot else self.on_demand_base
        return on_demand + self.fallback_max, self.max_size - on_demand


def root_volume_gib(plan: Plan, options: FleetOptions) -> int:
    """Root volume: the AMI, the image, the caches, and one copy of the checkpoint the plan downloads (not the served
    format) unless it goes to the instance store."""
    if options.root_volume_gib:
        return options.root_volume_gib
    on_root = plan_cold_start(plan).disk.kind == "gp3"
    weights = to_gib(weights_footprint_bytes(plan.checkpoint.download_bytes)) if on_root else 0
    return math.ceil(AMI_ROOT_GIB + IMAGE_GIB + weights + CACHE_GIB)


def longest_request_s(plan: Plan) -> float:
    """Upper bound of one request's duration: first token, then a whole context of output tokens."""
    c = plan.choice
    return (c.ttft_ms + plan.max_model_len * c.tpot_ms) / 1000


def compatible_types(plan: Plan) -> tuple[str, ...]:
    """The chosen type first, then alternatives that can run the same node setup (same GPU, count and layout).
    Multi-node replicas keep to the chosen type."""
    c = plan.choice
    if c.nodes_per_replica > 1:
        return (c.instance_type,)  # every node of a multi-node replica must be the same type

    def same(x: Candidate) -> bool:
        return (
            x.gpu,
            x.gpus_per_instance,
            x.tensor_parallel,
            x.pipeline_parallel,
            x.nodes_per_replica,
            x.expert_parallel,
            x.data_parallel,
        ) == (
            c.gpu,
            c.gpus_per_instance,
            c.tensor_parallel,
            c.pipeline_parallel,
            c.nodes_per_replica,
            c.expert_parallel,
            c.data_parallel,
        )

    others = [a.candidate.instance_type for a in plan.alternatives if same(a.candidate)]
    return tuple(dict.fromkeys([c.instance_type, *others]))


def vllm_args(plan: Plan, options: FleetOptions, served_name: str) -> tuple[str, ...]:
    """`vllm serve` flags that reproduce the plan's memory and speed assumptions."""
    c, m = plan.choice, plan.memory_per_gpu
    args = [
        "--served-model-name",
        served_name,
        "--host",
        "0.0.0.0",
        "--port",
        str(options.api_port),
        "--tensor-parallel-size",
        str(c.tensor_parallel),
        "--pipeline-parallel-size",
        str(c.pipeline_parallel),
        "--max-model-len",
        str(plan.max_model_len),
        "--max-num-seqs",
        str(-(-c.batch_per_replica // c.data_parallel)),  # per data-parallel rank
        "--gpu-memory-utilization",
        f"{m.gpu_memory_utilization:g}",
    ]
    if c.data_parallel > 1:  # data-parallel attention inside one replica (the plan's layout)
        args += ["--data-parallel-size", str(c.data_parallel)]
    elif c.nodes_per_replica == 1 and c.replicas_per_instance > 1:
        args += ["--data-parallel-size", str(c.replicas_per_instance)]
    if c.expert_parallel:
        args += ["--enable-expert-parallel"]
    if plan.vllm_quantization:
        args += ["--quantization", plan.vllm_quantization]
    if plan.kv_dtype != "auto":
        args += ["--kv-cache-dtype", plan.kv_dtype]
    if plan.speculative is not None:  # the draft the plan's TPOT, capacity and memory assumed
        args += list(plan.speculative.vllm_args)
    if c.nodes_per_replica > 1:
        # Multi-node without Ray, as vLLM documents it: docs/serving/parallelism_scaling.md, "Running vLLM with
        # MultiProcessing" (vllm serve ... --nnodes N --node-rank R --master-addr HEAD_IP [--headless]). Platform eks
        # adds --nnodes/--node-rank/--master-addr/--master-port from LeaderWorkerSet's rank and leader address.
        args += ["--distributed-executor-backend", "mp"]
    return tuple(args)


def efa_interfaces(plan: Plan) -> int:
    """One EFA per network card for multi-node replicas on an EFA type (AWS: attach an EFA to every network card to
    get the type's full bandwidth, https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-acc-inst-types.html)."""
    c = plan.choice
    if c.nodes_per_replica == 1 or not get_instance_type(c.instance_type).efa:
        return 0
    hw = node_hardware(c.instance_type)
    return max(1, min(hw.network_cards - hw.efa_first_card, hw.efa_interfaces_max))


def served_name(plan: Plan) -> str:
    """The model name clients use: the preset name, or the folder of a config.json the model was read from."""
    if plan.model.endswith(".json") or "/" in plan.model:
        path = PurePath(plan.model)
        return (path.parent if path.suffix == ".json" else path).name
    return plan.model


IMAGE_TAG_RELEASE = re.compile(r"^v?(\d+)\.(\d+)(?:[.\-].*)?$")
"""A tag that names a release (v0.34.0, 0.19-gpu-py312-ec2): its major and minor version."""


def _tag_release(image: str) -> tuple[str, str] | None:
    """(major, minor) of the release an image's tag names; None for a digest or a tag that names none ('prod', '1')."""
    if "@sha256:" in image or ":" not in image.rsplit("/", 1)[-1]:
        return None
    found = IMAGE_TAG_RELEASE.match(image.rsplit(":", 1)[-1])
    return (found.group(1), found.group(2)) if found else None


def serving_image(plan: Plan, options: FleetOptions) -> str:
    """The image the nodes run: the plan's engine profile's (engines.toml `image`, `efa_image` for multi-node replicas)
    unless the options name one. A named image whose tag names another release than the profile's is refused: the plan's
    memory and scheduler figures would describe an engine the fleet does not run (a digest, or a tag naming no release,
    is taken as the user's word)."""
    multi = plan.choice.nodes_per_replica > 1
    profile = get_engine(plan.engine)
    chosen, default = (options.efa_image, DEFAULT_EFA_IMAGE) if multi else (options.vllm_image, DEFAULT_VLLM_IMAGE)
    wanted = profile.efa_image if multi else profile.image
    if chosen == default:
        if wanted:
            return wanted
        raise PlatformError(
            f"the plan uses engine profile {profile.name!r}, which names no {'EFA ' if multi else ''}image of vLLM "
            f"{profile.version or profile.name} for {'multi-node replicas' if multi else 'the fleet'}. To fix: set "
            f"{'efa_image' if multi else 'vllm_image'} to an image of that release (pinned by tag or digest"
            + (", carrying libfabric and aws-ofi-nccl" if multi else "")
            + "), or plan with another engine profile."
        )
    release = _tag_release(chosen)
    if release and profile.version and release != tuple(profile.version.split(".")[:2]):
        raise PlatformError(
            f"{'efa_image' if multi else 'vllm_image'}={chosen!r} is not vLLM {profile.version}, the engine profile "
            f"{profile.name!r} the plan's memory and speed follow. To fix: use an image of {profile.version} (or pin "
            f"it by digest), or plan with the profile of the image's release (--engine)."
        )
    return chosen


def node_spec(plan: Plan, options: FleetOptions) -> NodeSpec:
    """The node settings for this plan."""
    c = plan.choice
    return NodeSpec(
        instance_type=c.instance_type,
        override_types=compatible_types(plan),
        root_volume_gib=root_volume_gib(plan, options),
        weights_disk=plan_cold_start(plan).disk,
        image=serving_image(plan, options),
        served_model_name=served_name(plan),
        vllm_args=vllm_args(plan, options, served_name(plan)),
    )


def in_flight_target(plan: Plan) -> float:
    """Requests in flight (running or waiting in vLLM) that the autoscaling holds per node serving single-node replicas
    (all the replicas it hosts), or per replica spanning nodes: the plan's capacity within the targets, the number that
    sized the fleet, at TARGET_UTILIZATION."""
    c = plan.choice
    per = c.concurrency_per_replica * (c.replicas_per_instance if c.nodes_per_replica == 1 else 1)
    return round(per * TARGET_UTILIZATION, 1)


def capacity_spec(plan: Plan, options: FleetOptions) -> CapacitySpec:
    """Sizes, purchase split, grace period and scaling target for the plan."""
    c = plan.choice
    ready = math.ceil(plan_cold_start(plan).total_s * GRACE_MARGIN + READY_SLACK_S)
    return CapacitySpec(
        desired=c.instances,
        min_size=c.instances,
        max_size=math.ceil(c.instances * options.max_scale_factor),
        on_demand_base=c.on_demand_instances,
        on_demand_above_base_pct=100 if c.purchase == "on-demand" else 0,
        health_check_grace_s=HEALTH_GRACE_AFTER_READY_S,
        ready_timeout_s=ready,
        hook_heartbeat_s=min(ready, LIFECYCLE_HEARTBEAT_MAX_S),
        drain_s=min(DEREGISTRATION_DELAY_MAX_S, math.ceil(longest_request_s(plan) * DRAIN_MARGIN)),
        in_flight_per_node=in_flight_target(plan),
    )
