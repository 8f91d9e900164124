"""Compute: launch template, Auto Scaling group with the plan's purchase mix (and an on-demand fallback group where it
buys spot), lifecycle hooks (ready on /health, drain on scale-in), launch-before-terminate replacement and refresh,
target tracking. Every replica fits one node (fleet_spec.verify_with_platform)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.user_data_codec import encode_user_data
from deploy.fleet_metrics import DIMENSION, IN_FLIGHT, NAMESPACE
from deploy.fleet_spec import CapacitySpec, NodeSpec
from deploy.inputs import with_input
from deploy.options import FleetOptions

SPOT_STRATEGY = "price-capacity-optimized"
"""Spot pools chosen for price and for the capacity least likely to be interrupted."""
ROOT_DEVICE = "/dev/sda1"
"""Root device name of the Ubuntu-based Deep Learning AMIs."""
IMDS_HOP_LIMIT = 1
"""IMDSv2 answers do not cross a container bridge (one more hop); host-network containers are blocked by iptables."""
LAUNCH_HOOK = "llmfleet-ready"
"""Launch lifecycle hook: the node completes it (CONTINUE) once vLLM's /health answers; ABANDON on its deadline."""
DRAIN_HOOK = "llmfleet-drain"
"""Terminating lifecycle hook: holds a leaving node while the load balancer drains its requests."""
IGNORED_GROUP_CHANGES = ["desiredCapacity"]
"""Target tracking owns the desired capacity after creation; an update must not reset it."""
CAPACITY_WAIT_MARGIN_S = 600
"""`pulumi up` waits for the on-demand nodes for their ready deadline plus this (never for spot capacity, which may not
come)."""
NO_WAIT = "0"
"""wait_for_capacity_timeout that skips the wait (a group of spot or fallback capacity only)."""
MAX_HEALTHY_PCT_LIMIT = 200
"""Instance refresh: MaxHealthyPercentage is 100..200 and at most 100 above MinHealthyPercentage
(https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_RefreshPreferences.html)."""


@dataclass(frozen=True)
class ComputeArgs:
    """Inputs of Compute."""

    node: NodeSpec
    """What each node runs."""
    capacity: CapacitySpec
    """Sizes and purchase mix."""
    options: FleetOptions
    """AMI and tags."""
    user_data: pulumi.Input[str]
    """Bootstrap script (no secrets; an Output when it names an Output-valued token secret)."""
    subnet_ids: pulumi.Input[list[str]]
    """Subnets the group spans."""
    security_group_id: pulumi.Input[str]
    """Node security group."""
    instance_profile_arn: pulumi.Input[str]
    """Node instance profile."""
    target_group_arn: pulumi.Input[str]
    """Target group the group registers its nodes with."""
    fleet_id: str
    """<project>/<stack>/<name>: the dimension of the fleet's load metrics the groups track."""
    tags: dict[str, str]
    """Tags on every resource."""


class Compute(pulumi.ComponentResource):
    """Launch template and one mixed-instances Auto Scaling group, each node a whole replica (or several), with an
    on-demand fallback group beside it when the plan buys spot."""

    group_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: ComputeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:Compute", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        template = self._launch_template(name, args, child)
        groups = [self._fleet_group(name, args, template, child)]
        if args.capacity.fallback_max:
            groups.append(self._fallback_group(name, args, template, child))
        self.group_names = pulumi.Output.all(*[g.name for g in groups]).apply(list)
        self.register_outputs({"group_names": self.group_names, "launch_template_id": template.id})

    @staticmethod
    def _launch_template(name: str, args: ComputeArgs, child: pulumi.ResourceOptions) -> aws.ec2.LaunchTemplate:
        o, node = args.options, args.node
        image = o.ami_id or f"resolve:ssm:{o.ami_ssm_parameter}"
        root = node.root_volume
        return aws.ec2.LaunchTemplate(
            f"{name}-node",
            image_id=image,
            instance_type=node.instance_type,
            user_data=with_input(args.user_data, encode_user_data),
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=args.instance_profile_arn),
            vpc_security_group_ids=[args.security_group_id],
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled",
                http_tokens="required",
                http_put_response_hop_limit=IMDS_HOP_LIMIT,
                instance_metadata_tags="enabled",
            ),
            block_device_mappings=[
                aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                    device_name=ROOT_DEVICE,
                    ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                        volume_size=root.size_gib,
                        volume_type="gp3",
                        encrypted="true",
                        delete_on_termination="true",
                        throughput=root.throughput_mibps,
                        iops=root.iops,
                    ),
                )
            ],
            tag_specifications=[
                aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=args.tags)
                for kind in ("instance", "volume")
            ],
            update_default_version=True,
            tags=args.tags,
            opts=child,
        )

    @staticmethod
    def _mixed_policy(
        args: ComputeArgs, template: aws.ec2.LaunchTemplate, on_demand: bool = False
    ) -> aws.autoscaling.GroupMixedInstancesPolicyArgs:
        """The purchase split (all on demand for the fallback group) over the launch template's pinned version and its
        instance-type overrides."""
        cap = args.capacity
        return aws.autoscaling.GroupMixedInstancesPolicyArgs(
            instances_distribution=aws.autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs(
                on_demand_base_capacity=0 if on_demand else cap.on_demand_base,
                on_demand_percentage_above_base_capacity=100 if on_demand else cap.on_demand_above_base_pct,
                spot_allocation_strategy=SPOT_STRATEGY,
            ),
            launch_template=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateArgs(
                launch_template_specification=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecificationArgs(
                    launch_template_id=template.id, version=template.latest_version.apply(str)
                ),
                overrides=[
                    aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArgs(instance_type=t)
                    for t in args.node.override_types
                ],
            ),
        )

    @staticmethod
    def _group_tags(args: ComputeArgs) -> list[aws.autoscaling.GroupTagArgs]:
        return [
            aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=True) for k, v in sorted(args.tags.items())
        ]

    @staticmethod
    def _hooks(cap: CapacitySpec) -> list[aws.autoscaling.GroupInitialLifecycleHookArgs]:
        """Launch: the node completes the hook when vLLM answers /health (ABANDON, i.e. replace, if it never does).
        Terminate: the node is held while the load balancer drains it (CONTINUE after the wait)."""
        return [
            aws.autoscaling.GroupInitialLifecycleHookArgs(
                name=LAUNCH_HOOK,
                lifecycle_transition="autoscaling:EC2_INSTANCE_LAUNCHING",
                heartbeat_timeout=cap.hook_heartbeat_s,
                default_result="ABANDON",
            ),
            aws.autoscaling.GroupInitialLifecycleHookArgs(
                name=DRAIN_HOOK,
                lifecycle_transition="autoscaling:EC2_INSTANCE_TERMINATING",
                heartbeat_timeout=cap.drain_s + cap.health_check_grace_s,
                default_result="CONTINUE",
            ),
        ]

    @staticmethod
    def _refresh(min_healthy_pct: int, cap: CapacitySpec) -> aws.autoscaling.GroupInstanceRefreshArgs:
        """A new launch template version rolls out by instance refresh, keeping min_healthy_pct serving. The group may
        grow above its desired capacity (MaxHealthyPercentage above 100), so replacements are launched, and pass their
        launch hook, before the nodes they replace are terminated: otherwise a refresh of a one-node fleet terminates
        its only node first (AWS replaces at least one instance at a time,
        https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-maintenance-policy.html)."""
        max_pct = min(MAX_HEALTHY_PCT_LIMIT, min_healthy_pct + 100)
        preferences = aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
            min_healthy_percentage=min_healthy_pct,
            max_healthy_percentage=max_pct,
            instance_warmup=str(cap.health_check_grace_s),
        )
        return aws.autoscaling.GroupInstanceRefreshArgs(strategy="Rolling", preferences=preferences)

    @staticmethod
    def _maintenance() -> aws.autoscaling.GroupInstanceMaintenancePolicyArgs:
        """Replacements (of an unhealthy node too) launch, and pass their launch hook, before the node they replace
        terminates (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-maintenance-policy.html)."""
        return aws.autoscaling.GroupInstanceMaintenancePolicyArgs(
            min_healthy_percentage=100, max_healthy_percentage=MAX_HEALTHY_PCT_LIMIT
        )

    def _group(
        self,
        name: str,
        args: ComputeArgs,
        template: aws.ec2.LaunchTemplate,
        child: pulumi.ResourceOptions,
        on_demand_fallback: bool,
    ) -> aws.autoscaling.Group:
        """An Auto Scaling group of the fleet, registering its nodes with the target group and tracking requests per
        target. EC2 health checks: a vLLM restart takes the node out of the load balancer (its /health fails) but does
        not replace it; the node hands itself back when vLLM keeps failing or stays down past its ready deadline.
        Instance warmup counts from InService, which the launch hook holds back until /health answers: the warmup is
        the short grace, not the cold start again
        (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-default-instance-warmup.html)."""
        cap = args.capacity
        size = (0, cap.fallback_max, 0) if on_demand_fallback else (cap.min_size, cap.max_size, cap.desired)
        wait = f"{cap.ready_timeout_s + CAPACITY_WAIT_MARGIN_S}s"
        waits_for = cap.on_demand_base if cap.spot else cap.desired  # on-demand nodes only: spot may never come
        suffix = "fallback" if on_demand_fallback else "replicas"
        group = aws.autoscaling.Group(
            f"{name}-{suffix}",
            vpc_zone_identifiers=args.subnet_ids,
            min_size=size[0],
            max_size=size[1],
            desired_capacity=size[2],
            capacity_rebalance=cap.spot and not on_demand_fallback,
            health_check_type="EC2",
            health_check_grace_period=cap.health_check_grace_s,
            default_instance_warmup=cap.health_check_grace_s,
            target_group_arns=[args.target_group_arn],
            mixed_instances_policy=self._mixed_policy(args, template, on_demand=on_demand_fallback),
            initial_lifecycle_hooks=self._hooks(cap),
            instance_maintenance_policy=self._maintenance(),
            instance_refresh=self._refresh(args.options.min_healthy_percentage, cap),
            wait_for_capacity_timeout=wait if waits_for and not on_demand_fallback else NO_WAIT,
            wait_for_elb_capacity=waits_for if waits_for and not on_demand_fallback else None,
            tags=self._group_tags(args),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=IGNORED_GROUP_CHANGES)),
        )
        aws.autoscaling.Policy(
            f"{name}-{'fallback-' if on_demand_fallback else ''}in-flight",
            autoscaling_group_name=group.name,
            policy_type="TargetTrackingScaling",
            estimated_instance_warmup=cap.health_check_grace_s,
            target_tracking_configuration=self._track_in_flight(args),
            opts=child,
        )
        return group

    @staticmethod
    def _track_in_flight(args: ComputeArgs) -> aws.autoscaling.PolicyTargetTrackingConfigurationArgs:
        """Target tracking on vLLM's own load: the requests running or waiting per node (the nodes' published
        fleet_metrics.IN_FLIGHT, averaged), held at the plan's per-node capacity at TARGET_UTILIZATION. It falls as
        nodes are added, as target tracking needs (https://docs.aws.amazon.com/autoscaling/ec2/userguide/
        ec2-auto-scaling-target-tracking-metric-math.html)."""
        return aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
            target_value=args.capacity.in_flight_per_node,
            customized_metric_specification=aws.autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationArgs(
                namespace=NAMESPACE,
                metric_name=IN_FLIGHT,
                statistic="Average",
                metric_dimensions=[
                    aws.autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricDimensionArgs(
                        name=DIMENSION, value=args.fleet_id
                    )
                ],
            ),
        )

    def _fleet_group(
        self, name: str, args: ComputeArgs, template: aws.ec2.LaunchTemplate, child: pulumi.ResourceOptions
    ) -> aws.autoscaling.Group:
        """The fleet's group: the plan's instances, on demand up to its base and spot above it."""
        return self._group(name, args, template, child, on_demand_fallback=False)

    def _fallback_group(
        self, name: str, args: ComputeArgs, template: aws.ec2.LaunchTemplate, child: pulumi.ResourceOptions
    ) -> aws.autoscaling.Group:
        """On demand, from zero up to the spot capacity: when spot nodes do not come (or are reclaimed), the replicas
        left carry more requests each, and this group's target tracking buys on-demand nodes for the load the missing
        ones would have served; when spot capacity is back, the load per target falls and it scales in first."""
        return self._group(name, args, template, child, on_demand_fallback=True)
