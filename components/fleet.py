"""ServingFleet: a finished Plan turned into the AWS resources that serve the model with vLLM."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

from components.compute import Compute, ComputeArgs
from components.fleet_spec import capacity_spec, node_spec
from components.fleet_tags import sizing_tags
from components.iam import Iam, IamArgs
from components.loadbalancing import LoadBalancing, LoadBalancingArgs
from components.network import Network, NetworkArgs
from components.options import FleetOptions, with_input
from components.summary import PlanSummary, plan_summary
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


class ServingFleet(pulumi.ComponentResource):
    """Network and security, IAM, load balancing and compute for one planned vLLM fleet."""

    endpoint: pulumi.Output[str]
    group_names: pulumi.Output[list[str]]
    summary: PlanSummary

    def __init__(self, name: str, args: ServingFleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:ServingFleet", name, None, opts)
        plan, options = args.plan, args.options
        tags = {**BASE_TAGS, "llmfleet:fleet": name, "llmfleet:model": plan.model, **options.tags}
        multi_node = plan.choice.nodes_per_replica > 1
        child = pulumi.ResourceOptions(parent=self)
        node = node_spec(plan, options, efa_capable=get_instance_type(plan.choice.instance_type).efa)
        user_data = with_input(options.weights.resolved(), lambda weights: render_user_data(
            node, options.model_copy(update={"weights": weights}), name, plan.checkpoint.repo))
        network = Network(f"{name}-net", NetworkArgs(options=options, multi_node=multi_node, tags=tags), opts=child)
        iam = Iam(f"{name}-iam", IamArgs(weights=options.weights, multi_node=multi_node, tags=tags), opts=child)
        lb = LoadBalancing(f"{name}-lb", LoadBalancingArgs(
            options=options, vpc_id=network.vpc_id, subnet_ids=network.subnet_ids,
            security_group_id=network.lb_security_group_id, tags=tags), opts=child)
        compute = Compute(f"{name}-compute", ComputeArgs(
            node=node, capacity=capacity_spec(plan, options), options=options, user_data=user_data,
            subnet_ids=network.subnet_ids, security_group_id=network.node_security_group_id,
            instance_profile_arn=iam.instance_profile_arn, target_group_arn=lb.target_group_arn,
            resource_label=lb.resource_label, tags={**tags, **sizing_tags(plan)}), opts=child)  # what the GPUs must hold
        self.endpoint = lb.dns_name
        self.group_names = compute.group_names
        self.summary = plan_summary(plan)
        self.register_outputs({"endpoint": self.endpoint, "group_names": self.group_names, "plan": self.summary})
