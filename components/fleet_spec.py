"""Translating a finished Plan into resource settings: pure functions, no Pulumi, no sizing.

Each constant below is a named, documented default; FleetOptions overrides the ones a user may want to change."""

from __future__ import annotations

import math
from dataclasses import dataclass

from components.options import FleetOptions
from sizing.planner.results import Candidate, Plan
from sizing.units import to_gib

AMI_ROOT_GIB = 100
"""Room for the Deep Learning Base GPU AMI's own root snapshot (75-100 GiB across 2025-26 releases; a launch template
cannot shrink below the snapshot)."""
IMAGE_GIB = 30
"""The vLLM image unpacked (~10 GB compressed, ~25 GB on disk for v0.1x) plus a layer being replaced during upgrades."""
CACHE_GIB = 10
"""torch.compile / Triton / CUDA graph caches and logs."""
WEIGHTS_DISK_FACTOR = 1.1
"""Weights on disk: one copy of the checkpoint (hub cache or S3 sync) plus 10% for tokenizer and config files."""
GRACE_MARGIN = 1.5
"""Health-check grace = predicted cold start x this margin (image pull and weight download times vary)."""
TARGET_UTILIZATION = 0.7
"""Autoscaling tracks this share of a replica's sustainable request rate, leaving room for a cold start."""
SECONDS_PER_MINUTE = 60


@dataclass(frozen=True)
class NodeSpec:
    """What every node of the fleet runs."""

    instance_type: str
    """Instance type from the plan."""
    override_types: tuple[str, ...]
    """The plan's instance type and its compatible alternatives (same GPU, GPU count and layout)."""
    root_volume_gib: int
    """Encrypted gp3 root volume size."""
    served_model_name: str
    """Model name clients use."""
    vllm_args: tuple[str, ...]
    """Arguments to `vllm serve` after the model reference."""
    nodes_per_replica: int
    """> 1: multi-node replica (Ray head plus workers)."""
    efa: bool
    """Attach an EFA interface (multi-node on an EFA-capable type)."""


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
    """Seconds before health checks count, from the predicted cold start."""
    requests_per_target_per_minute: float
    """Target-tracking value for ALBRequestCountPerTarget."""
    replica_groups: tuple[bool, ...]
    """Multi-node only: one Auto Scaling group per replica; True where the replica is on demand."""

    @property
    def ceiling(self) -> tuple[int, int]:
        """(on-demand, spot) instances at the ceiling: every group at its maximum."""
        if self.replica_groups:  # multi-node groups have a fixed size
            return self.on_demand_base, self.desired - self.on_demand_base
        on_demand = self.max_size if self.on_demand_above_base_pct == 100 else self.on_demand_base
        return on_demand, self.max_size - on_demand


def root_volume_gib(plan: Plan, options: FleetOptions) -> int:
    """Root volume: the AMI, the image, one copy of the checkpoint the plan downloads (not the served format) and the caches."""
    if options.root_volume_gib:
        return options.root_volume_gib
    return math.ceil(AMI_ROOT_GIB + IMAGE_GIB + to_gib(plan.checkpoint.download_bytes) * WEIGHTS_DISK_FACTOR + CACHE_GIB)


def compatible_types(plan: Plan) -> tuple[str, ...]:
    """The chosen type first, then alternatives that can run the same node setup (same GPU, count and layout).
    Multi-node replicas keep to the chosen type."""
    c = plan.choice
    if c.nodes_per_replica > 1:
        return (c.instance_type,)  # every node of a Ray cluster must be the same type

    def same(x: Candidate) -> bool:
        return (x.gpu, x.gpus_per_instance, x.tensor_parallel, x.pipeline_parallel, x.nodes_per_replica,
                x.expert_parallel, x.data_parallel) == (c.gpu, c.gpus_per_instance, c.tensor_parallel,
                                                        c.pipeline_parallel, c.nodes_per_replica, c.expert_parallel,
                                                        c.data_parallel)

    others = [a.candidate.instance_type for a in plan.alternatives if same(a.candidate)]
    return tuple(dict.fromkeys([c.instance_type, *others]))


def vllm_args(plan: Plan, options: FleetOptions, served_name: str) -> tuple[str, ...]:
    """`vllm serve` flags that reproduce the plan's memory and speed assumptions."""
    c, m = plan.choice, plan.memory_per_gpu
    args = ["--served-model-name", served_name, "--host", "0.0.0.0", "--port", str(options.api_port),
            "--tensor-parallel-size", str(c.tensor_parallel), "--pipeline-parallel-size", str(c.pipeline_parallel),
            "--max-model-len", str(plan.max_model_len),
            "--max-num-seqs", str(-(-c.batch_per_replica // c.data_parallel)),  # per data-parallel rank
            "--gpu-memory-utilization", f"{m.gpu_memory_utilization:g}"]
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
    if c.nodes_per_replica > 1:
        args += ["--distributed-executor-backend", "ray"]
    return tuple(args)


def node_spec(plan: Plan, options: FleetOptions, efa_capable: bool) -> NodeSpec:
    """The node settings for this plan."""
    c = plan.choice
    return NodeSpec(
        instance_type=c.instance_type, override_types=compatible_types(plan), root_volume_gib=root_volume_gib(plan, options),
        served_model_name=plan.model, vllm_args=vllm_args(plan, options, plan.model),
        nodes_per_replica=c.nodes_per_replica, efa=c.nodes_per_replica > 1 and efa_capable,
    )


def capacity_spec(plan: Plan, options: FleetOptions) -> CapacitySpec:
    """Sizes, purchase split, grace period and scaling target for the plan."""
    c = plan.choice
    if c.purchase == "capacity-block":  # an Auto Scaling group would launch these on demand at the list price
        raise ValueError("the plan buys EC2 Capacity Blocks, which this component does not reserve or target yet. "
                         "To fix: plan with purchase 'on-demand' or 'mixed', or launch into a reserved block by hand.")
    per_target = c.requests_per_second_per_replica * c.replicas_per_instance
    groups: tuple[bool, ...] = ()
    if c.nodes_per_replica > 1:
        on_demand_replicas = c.on_demand_instances // c.nodes_per_replica
        groups = tuple(i < on_demand_replicas for i in range(c.replicas))
    return CapacitySpec(
        desired=c.instances, min_size=c.instances, max_size=math.ceil(c.instances * options.max_scale_factor),
        on_demand_base=c.on_demand_instances, on_demand_above_base_pct=100 if c.purchase == "on-demand" else 0,
        health_check_grace_s=math.ceil(c.cold_start_s * GRACE_MARGIN),
        requests_per_target_per_minute=round(per_target * SECONDS_PER_MINUTE * TARGET_UTILIZATION, 1),
        replica_groups=groups,
    )
