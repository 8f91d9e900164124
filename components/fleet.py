"""ServingFleet: a finished Plan turned into the AWS resources that serve the model with vLLM."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.compute import Compute, ComputeArgs
from components.fleet_spec import capacity_spec, fleet_cold_start, node_spec
from components.iam import FLEET_TAG, Iam, IamArgs
from components.loadbalancing import LoadBalancing, LoadBalancingArgs
from components.network import Network, NetworkArgs
from components.options import FleetOptions
from components.userdata import BootContext, render_user_data
from sizing.planner.results import Plan

API_KEY_BYTES = 32
"""Entropy of a generated API key (secrets.token_urlsafe)."""

BASE_TAGS = {"managed-by": "llm-fleet"}


@dataclass(frozen=True)
class ServingFleetArgs:
    """Inputs of ServingFleet."""

    plan: Plan
    """The finished plan from sizing.plan()."""
    options: FleetOptions = field(default_factory=FleetOptions)
    """Network, access, image, weights source and tags."""
    offered_zones: tuple[str, ...] | None = None
    """Zones of the fleet's region that offer the planned type (pre-flight; None: unknown). Multi-node replicas launch
    in one of them."""


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
        "cold_start": fleet_cold_start(plan).explain(),
    }


class ServingFleet(pulumi.ComponentResource):
    """Network and security, IAM, load balancing and compute for one planned vLLM fleet."""

    endpoint: pulumi.Output[str]
    api_key_secret: pulumi.Output[str]
    group_names: pulumi.Output[list[str]]
    summary: dict

    def __init__(self, name: str, args: ServingFleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:ServingFleet", name, None, opts)
        plan, options = args.plan, args.options
        tags = {**BASE_TAGS, FLEET_TAG: name, "llmfleet:model": plan.model, **options.tags}
        multi_node = plan.choice.nodes_per_replica > 1
        child = pulumi.ResourceOptions(parent=self)
        node, capacity = node_spec(plan, options), capacity_spec(plan, options)
        api_key_name, api_key_policy = self._api_key(name, options, tags, child)
        user_data = render_user_data(node, capacity, options, BootContext(name, plan.hf_repo, api_key_name))
        network = Network(f"{name}-net", NetworkArgs(options=options, multi_node=multi_node, tags=tags,
                                                      offered_zones=args.offered_zones), opts=child)
        iam = Iam(f"{name}-iam", IamArgs(fleet=name, options=options, api_key_secret=api_key_policy,
                                         multi_node=multi_node, tags=tags), opts=child)
        lb = LoadBalancing(f"{name}-lb", LoadBalancingArgs(
            options=options, vpc_id=network.vpc_id, subnet_ids=network.lb_subnet_ids,
            security_group_id=network.lb_security_group_id, drain_s=capacity.drain_s, tags=tags), opts=child)
        compute = Compute(f"{name}-compute", ComputeArgs(
            node=node, capacity=capacity, options=options, user_data=user_data,
            subnet_ids=network.subnet_ids, replica_subnet_id=network.replica_subnet_id,
            security_group_id=network.node_security_group_id,
            instance_profile_arn=iam.instance_profile_arn, target_group_arn=lb.target_group_arn,
            resource_label=lb.resource_label, tags=tags), opts=child)
        self.endpoint = lb.url
        self.api_key_secret = pulumi.Output.from_input(api_key_name)
        self.group_names = compute.group_names
        self.summary = plan_summary(plan)
        self.register_outputs({"endpoint": self.endpoint, "api_key_secret": self.api_key_secret,
                               "group_names": self.group_names, "plan": self.summary})

    @staticmethod
    def _api_key(name: str, options: FleetOptions, tags: dict[str, str], child: pulumi.ResourceOptions) -> tuple[str, str]:
        """(what the node passes as --secret-id, what the node policy allows): the given secret, or one created with a
        random key. Its value stays out of user data and outputs; clients read it from Secrets Manager."""
        if options.api_key_secret_arn:
            return options.api_key_secret_arn, options.api_key_secret_arn
        secret_name = f"llmfleet/{pulumi.get_project()}/{name}/api-key"
        secret = aws.secretsmanager.Secret(f"{name}-api-key", name=secret_name, tags=tags, opts=child,
                                           description=f"API key clients send to the llm-fleet endpoint of {name}")
        aws.secretsmanager.SecretVersion(
            f"{name}-api-key", secret_id=secret.id, secret_string=pulumi.Output.secret(secrets.token_urlsafe(API_KEY_BYTES)),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=["secretString"])))
        return secret_name, f"arn:aws:secretsmanager:*:*:secret:{secret_name}-*"
