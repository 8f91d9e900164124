"""The plan figures a fleet exports (no secrets, no rejected list), typed so that the package schema describes them."""

# No `from __future__ import annotations`: Pulumi's schema analyzer reads these annotations at run time.
from typing import TypedDict

from sizing.planner.results import Plan


class MemoryPerGpuGib(TypedDict):
    """Per-GPU memory budget of the chosen layout, GiB (2^30 bytes)."""

    weights: float
    """Weights shard."""
    kv_cache: float
    """KV cache."""
    activations: float
    """Activation peak at the profiled batch."""
    non_torch: float
    """CUDA context and NCCL buffers."""
    cuda_graphs: float
    """CUDA graph pool (outside the engine's budget)."""
    unused: float
    """Left over."""


class PlanSummary(TypedDict):
    """What the sizing engine chose for the fleet."""

    model: str
    """Model name."""
    weights: str
    """Weight format served."""
    kv_dtype: str
    """KV cache dtype."""
    region: str
    """AWS region priced and deployed."""
    instance_type: str
    """Chosen EC2 instance type."""
    instances: int
    """Instances at launch."""
    on_demand_instances: int
    """Instances bought on demand."""
    spot_instances: int
    """Instances bought as spot."""
    tensor_parallel: int
    """Tensor-parallel degree."""
    pipeline_parallel: int
    """Pipeline-parallel degree."""
    nodes_per_replica: int
    """Instances per model replica (more than 1: vLLM multiprocessing across nodes)."""
    replicas: int
    """Model replicas."""
    purchase: str
    """on-demand, spot or mixed."""
    hourly_cost_usd: float
    """Fleet cost per hour, USD."""
    monthly_cost_usd: float
    """Fleet cost per month, USD."""
    cost_per_million_output_tokens_usd: float
    """USD per million generated tokens at the planned load."""
    memory_per_gpu_gib: MemoryPerGpuGib
    """Per-GPU memory budget."""
    prices_as_of: str
    """Date of the price catalog."""


def plan_summary(plan: Plan) -> PlanSummary:
    """The plan figures worth exporting."""
    c, m = plan.choice, plan.memory_per_gpu
    return {
        "model": plan.model,
        "weights": plan.weights,
        "kv_dtype": plan.kv_dtype,
        "region": plan.region,
        "instance_type": c.instance_type,
        "instances": c.instances,
        "on_demand_instances": c.on_demand_instances,
        "spot_instances": c.spot_instances,
        "tensor_parallel": c.tensor_parallel,
        "pipeline_parallel": c.pipeline_parallel,
        "nodes_per_replica": c.nodes_per_replica,
        "replicas": c.replicas,
        "purchase": c.purchase,
        "hourly_cost_usd": round(c.hourly_cost_usd, 2),
        "monthly_cost_usd": round(c.monthly_cost_usd, 0),
        "cost_per_million_output_tokens_usd": round(c.cost_per_million_output_tokens_usd, 3),
        "memory_per_gpu_gib": {
            "weights": round(m.weights_gib, 2),
            "kv_cache": round(m.kv_cache_gib, 2),
            "activations": round(m.activation_gib, 2),
            "non_torch": round(m.non_torch_gib, 2),
            "cuda_graphs": round(m.cuda_graph_gib, 2),
            "unused": round(m.unused_gib, 2),
        },
        "prices_as_of": plan.prices_as_of,
    }
