"""ServingFleet: a finished Plan turned into the AWS resources that serve the model with vLLM."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.api_key import api_key_secret
from components.boot_sources import BootSources, BootSourcesArgs
from components.compute import Compute, ComputeArgs
from components.fleet_tags import sizing_tags
from components.iam import FLEET_TAG, Iam, IamArgs
from components.loadbalancing import LoadBalancing, LoadBalancingArgs
from components.monitoring import Monitoring
from components.network import Network, NetworkArgs
from components.summary import PlanSummary, plan_summary
from components.userdata import BootContext, render_user_data
from deploy.fleet_spec import LOG_RETENTION_DAYS, capacity_spec, longest_request_s, node_spec, verify_with_platform
from deploy.monitoring_spec import MonitoringArgs
from deploy.options import FleetOptions
from sizing.names import MANAGED_BY, MODEL_TAG
from sizing.planner.results import Plan

BASE_TAGS = MANAGED_BY


@dataclass(frozen=True)
class ServingFleetArgs:
    """Inputs of ServingFleet."""

    plan: Plan
    """The finished plan from sizing.plan()."""
    options: FleetOptions = field(default_factory=FleetOptions)
    """Network, access, image, weights source and tags."""


def fleet_tag_value(name: str) -> str:
    """The llmfleet:fleet tag of every resource, which scopes the node role's writes (lifecycle actions, instance
    health): <project>/<stack>/<component name>, unique in an account, where the component name alone is not (every
    YAML program that names its resource `fleet`, every stack of one program)."""
    return f"{pulumi.get_project()}/{pulumi.get_stack()}/{name}"


class ServingFleet(pulumi.ComponentResource):
    """Network and security, IAM, load balancing and compute for one planned vLLM fleet."""

    endpoint: pulumi.Output[str]
    api_key_secret: pulumi.Output[str]
    group_names: pulumi.Output[list[str]]
    summary: PlanSummary

    def __init__(self, name: str, args: ServingFleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        plan, options = args.plan, args.options
        verify_with_platform(
            plan, options
        )  # a plan given to this layer directly: refused before anything is registered
        super().__init__("llmfleet:aws:ServingFleet", name, None, opts)
        fleet_id = fleet_tag_value(name)
        tags = {**BASE_TAGS, FLEET_TAG: fleet_id, MODEL_TAG: plan.model, **options.tags}
        child = pulumi.ResourceOptions(parent=self)
        node, capacity = node_spec(plan, options), capacity_spec(plan, options)
        api_key = api_key_secret(name, options, tags, child)
        logs = aws.cloudwatch.LogGroup(
            f"{name}-logs", name=f"/llmfleet/{fleet_id}", retention_in_days=LOG_RETENTION_DAYS, tags=tags, opts=child
        )
        network = Network(f"{name}-net", NetworkArgs(options=options, tags=tags), opts=child)
        lb = LoadBalancing(
            f"{name}-lb",
            LoadBalancingArgs(
                options=options,
                fleet_id=fleet_id,
                vpc_id=network.vpc_id,
                subnet_ids=network.lb_subnet_ids,
                security_group_id=network.lb_security_group_id,
                drain_s=capacity.drain_s,
                tags=tags,
            ),
            opts=child,
        )
        sources = BootSources(
            f"{name}-sources",
            BootSourcesArgs(image=node.image, fleet_id=fleet_id, options=options, tags=tags),
            opts=child,
        )
        iam = Iam(
            f"{name}-iam",
            IamArgs(
                fleet=fleet_id,
                options=options,
                api_key_secret=api_key,
                target_group_arn=lb.target_group_arn,
                log_group_arn=logs.arn,
                image_repositories=sources.pull_repositories,
                fills_image_cache=sources.fills_cache,
                weights_bucket=sources.weights_bucket,
                tags=tags,
            ),
            opts=child,
        )
        user_data = pulumi.Output.all(
            options.weights.resolved(),
            api_key,
            lb.target_group_arn,
            logs.name,
            sources.image,
            sources.registry,
            sources.weights_bucket,
        ).apply(
            lambda v: render_user_data(
                node,
                capacity,
                options.model_copy(update={"weights": v[0]}),
                BootContext(
                    fleet=name,
                    fleet_id=fleet_id,
                    hf_repo=plan.checkpoint.repo,
                    api_key_secret=v[1],
                    target_group_arn=v[2],
                    log_group=v[3],
                    image=v[4],
                    registry=v[5],
                    weights_bucket=v[6],
                ),
            )
        )
        compute = Compute(
            f"{name}-compute",
            ComputeArgs(
                node=node,
                capacity=capacity,
                options=options,
                user_data=user_data,
                subnet_ids=network.subnet_ids,
                security_group_id=network.node_security_group_id,
                instance_profile_arn=iam.instance_profile_arn,
                target_group_arn=lb.target_group_arn,
                fleet_id=fleet_id,
                tags={**tags, **sizing_tags(plan)},
            ),
            opts=child,
        )  # what the GPUs must hold
        Monitoring(
            f"{name}-monitoring",
            MonitoringArgs(
                fleet_id=fleet_id,
                load_balancer_label=lb.lb_label,
                target_group_label=lb.tg_label,
                group_names=compute.group_names,
                longest_request_s=longest_request_s(plan),
                alarm_topic_arn=options.alarm_topic_arn,
                region=plan.region,
                tags=tags,
            ),
            opts=child,
        )
        self.endpoint = lb.url
        self.api_key_secret = pulumi.Output.from_input(api_key)
        self.group_names = compute.group_names
        self.summary = plan_summary(plan)
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "api_key_secret": self.api_key_secret,
                "group_names": self.group_names,
                "plan": self.summary,
            }
        )
