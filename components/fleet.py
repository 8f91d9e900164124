"""ServingFleet: a finished Plan turned into the AWS resources that serve the model with vLLM."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.compute import Compute, ComputeArgs
from components.fleet_spec import capacity_spec, node_spec
from components.iam import Iam, IamArgs
from components.loadbalancing import LoadBalancing, LoadBalancingArgs
from components.network import Network, NetworkArgs
from components.options import FleetOptions
from components.userdata import render_user_data
from sizing.catalog.instances import get_instance_type
from sizing.planner.results import Plan

BASE_TAGS = {"managed-by": "llm-fleet"}


@dataclass(frozen=True)
class ServingFleetArgs:
    """Inputs of ServingFleet."""

    plan: Plan
    """The finished plan from sizing.plan()."""
    options: FleetOptions = field(default_factory=FleetOptions)
    """Network, access, image, weights source and tags."""


def plan_summary(plan: Plan) -> dict:
    """The plan figures worth exporting (no secrets, no rejected list)."""
    c, m = plan.choice, plan.memory_per_gpu
    return {
        "model": plan.model, "weights": plan.weights, "kv_dtype": plan.kv_dtype, "region": plan.region,
        "instance_type": c.instance_type, "instances": c.instances, "on_demand_instances": c.on_demand_instances,
        "spot_instances": c.spot_instances, "tensor_parallel": c.tensor_parallel, "pipeline_parallel": c.pipeline_parallel,
        "nodes_per_replica": c.nodes_per_replica, "replicas": c.replicas, "purchase": c.purchase,
        "hourly_cost_usd": round(c.hourly_cost_usd, 2), "monthly_cost_usd": round(c.monthly_cost_usd, 0),
        "cost_per_million_output_tokens_usd": round(c.cost_per_million_output_tokens_usd, 3),
        "memory_per_gpu_gib": {"weights": round(m.weights_gib, 2), "kv_cache": round(m.kv_cache_gib, 2),
                               "activations": round(m.activation_gib, 2), "non_torch": round(m.non_torch_gib, 2),
                               "cuda_graphs": round(m.cuda_graph_gib, 2), "unused": round(m.unused_gib, 2)},
        "prices_as_of": plan.prices_as_of,
    }


class ServingFleet(pulumi.ComponentResource):
    """Network and security, IAM, load balancing and compute for one planned vLLM fleet."""

    endpoint: pulumi.Output[str]
    group_names: pulumi.Output[list[str]]
    summary: dict

    def __init__(self, name: str, args: ServingFleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:ServingFleet", name, None, opts)
        plan, options = args.plan, args.options
        tags = {**BASE_TAGS, "llmfleet:fleet": name, "llmfleet:model": plan.model, **options.tags}
        multi_node = plan.choice.nodes_per_replica > 1
        child = pulumi.ResourceOptions(parent=self)
        node = node_spec(plan, options, efa_capable=get_instance_type(plan.choice.instance_type).efa)
        user_data = render_user_data(node, options, name, plan.checkpoint.repo)
        network = Network(f"{name}-net", NetworkArgs(options=options, multi_node=multi_node, tags=tags), opts=child)
        iam = Iam(f"{name}-iam", IamArgs(weights=options.weights, multi_node=multi_node, tags=tags), opts=child)
        lb = LoadBalancing(f"{name}-lb", LoadBalancingArgs(
            options=options, vpc_id=network.vpc_id, subnet_ids=network.subnet_ids,
            security_group_id=network.lb_security_group_id, tags=tags), opts=child)
        compute = Compute(f"{name}-compute", ComputeArgs(
            node=node, capacity=capacity_spec(plan, options), options=options, user_data=user_data,
            subnet_ids=network.subnet_ids, security_group_id=network.node_security_group_id,
            instance_profile_arn=iam.instance_profile_arn, target_group_arn=lb.target_group_arn,
            resource_label=lb.resource_label, tags=tags), opts=child)
        self.endpoint = lb.dns_name
        self.group_names = compute.group_names
        self.summary = plan_summary(plan)
        self.register_outputs({"endpoint": self.endpoint, "group_names": self.group_names, "plan": self.summary})
