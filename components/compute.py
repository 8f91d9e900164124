"""Compute: launch template, Auto Scaling group(s) with the plan's purchase mix, placement group and EFA for
multi-node replicas, lifecycle hooks (ready on /health, drain on scale-in), instance refresh and target tracking."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.fleet_spec import CapacitySpec, NodeSpec
from components.inputs import with_input
from components.options import FleetOptions

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
"""`pulumi up` waits for the first nodes for their ready deadline plus this."""
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
    """Subnets the single-node group spans."""
    replica_subnet_id: pulumi.Input[str]
    """The one subnet (one zone, where the type is offered) every multi-node replica group launches in."""
    security_group_id: pulumi.Input[str]
    """Node security group."""
    instance_profile_arn: pulumi.Input[str]
    """Node instance profile."""
    target_group_arn: pulumi.Input[str]
    """Target group the single-node group registers its nodes with (multi-node replicas: rank 0 registers itself)."""
    resource_label: pulumi.Input[str]
    """ALB/target-group label for request-count scaling."""
    tags: dict[str, str]
    """Tags on every resource."""


def network_interfaces(node: NodeSpec, security_group_id: pulumi.Input[str]
                       ) -> list[aws.ec2.LaunchTemplateNetworkInterfaceArgs] | None:
    """One EFA per network card. Where card 0 takes an EFA: EFA (with ENA) on card 0 at device index 0 (the primary
    interface) and on every other card at device index 1. Where card 0 is ENA-only (p6-b300): an ENA primary on card 0
    and EFA-only interfaces on cards 1..n at device index 0, as AWS documents for multi-card types
    (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/efa-acc-inst-types.html)."""
    if not node.efa:
        return None

    def interface(card: int, device: int, kind: str) -> aws.ec2.LaunchTemplateNetworkInterfaceArgs:
        return aws.ec2.LaunchTemplateNetworkInterfaceArgs(device_index=device, network_card_index=card, interface_type=kind,
                                                          security_groups=[security_group_id], delete_on_termination="true")

    first = node.efa_first_card
    if first == 0:
        return [interface(card, 0 if card == 0 else 1, "efa") for card in range(node.efa_interfaces)]
    return [interface(0, 0, "interface"), *(interface(card, 0, "efa-only") for card in range(first, first + node.efa_interfaces))]


class Compute(pulumi.ComponentResource):
    """Launch template and Auto Scaling groups: one mixed-instances group for single-node replicas, or one group per
    multi-node replica (a replica is one unit: it starts, serves and is replaced as a whole)."""

    group_names: pulumi.Output[list[str]]

    def __init__(self, name: str, args: ComputeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:Compute", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        placement = None
        if args.node.nodes_per_replica > 1:
            placement = aws.ec2.PlacementGroup(f"{name}-cluster", strategy="cluster", tags=args.tags, opts=child)
        template = self._launch_template(name, args, child)
        if args.node.nodes_per_replica > 1:
            groups = [self._replica_group(name, i, on_demand, args, template, placement, child)
                      for i, on_demand in enumerate(args.capacity.replica_groups)]
        else:
            groups = [self._fleet_group(name, args, template, child)]
        self.group_names = pulumi.Output.all(*[g.name for g in groups]).apply(list)
        self.register_outputs({"group_names": self.group_names, "launch_template_id": template.id})

    @staticmethod
    def _launch_template(name: str, args: ComputeArgs, child: pulumi.ResourceOptions) -> aws.ec2.LaunchTemplate:
        o, node = args.options, args.node
        image = o.ami_id or f"resolve:ssm:{o.ami_ssm_parameter}"
        disk = node.weights_disk
        return aws.ec2.LaunchTemplate(
            f"{name}-node", image_id=image, instance_type=node.instance_type,
            user_data=with_input(args.user_data, lambda text: base64.b64encode(text.encode()).decode()),
            iam_instance_profile=aws.ec2.LaunchTemplateIamInstanceProfileArgs(arn=args.instance_profile_arn),
            vpc_security_group_ids=None if node.efa else [args.security_group_id],
            network_interfaces=network_interfaces(node, args.security_group_id),
            metadata_options=aws.ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=IMDS_HOP_LIMIT,
                instance_metadata_tags="enabled"),
            block_device_mappings=[aws.ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name=ROOT_DEVICE, ebs=aws.ec2.LaunchTemplateBlockDeviceMappingEbsArgs(
                    volume_size=node.root_volume_gib, volume_type="gp3", encrypted="true", delete_on_termination="true",
                    throughput=disk.gp3_throughput_mibps, iops=disk.gp3_iops))],
            tag_specifications=[aws.ec2.LaunchTemplateTagSpecificationArgs(resource_type=kind, tags=args.tags)
                                for kind in ("instance", "volume")],
            update_default_version=True, tags=args.tags, opts=child)

    @staticmethod
    def _mixed_policy(args: ComputeArgs, template: aws.ec2.LaunchTemplate, on_demand_base: int,
                      on_demand_above_base_pct: int) -> aws.autoscaling.GroupMixedInstancesPolicyArgs:
        """The purchase split over the launch template's pinned version and its instance-type overrides."""
        return aws.autoscaling.GroupMixedInstancesPolicyArgs(
            instances_distribution=aws.autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs(
                on_demand_base_capacity=on_demand_base, on_demand_percentage_above_base_capacity=on_demand_above_base_pct,
                spot_allocation_strategy=SPOT_STRATEGY),
            launch_template=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateArgs(
                launch_template_specification=aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecificationArgs(
                    launch_template_id=template.id, version=template.latest_version.apply(str)),
                overrides=[aws.autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArgs(instance_type=t)
                           for t in args.node.override_types]))

    @staticmethod
    def _group_tags(args: ComputeArgs) -> list[aws.autoscaling.GroupTagArgs]:
        return [aws.autoscaling.GroupTagArgs(key=k, value=v, propagate_at_launch=True) for k, v in sorted(args.tags.items())]

    @staticmethod
    def _hooks(cap: CapacitySpec) -> list[aws.autoscaling.GroupInitialLifecycleHookArgs]:
        """Launch: the node completes the hook when vLLM answers /health (ABANDON, i.e. replace, if it never does).
        Terminate: the node is held while the load balancer drains it (CONTINUE after the wait)."""
        return [
            aws.autoscaling.GroupInitialLifecycleHookArgs(
                name=LAUNCH_HOOK, lifecycle_transition="autoscaling:EC2_INSTANCE_LAUNCHING",
                heartbeat_timeout=cap.hook_heartbeat_s, default_result="ABANDON"),
            aws.autoscaling.GroupInitialLifecycleHookArgs(
                name=DRAIN_HOOK, lifecycle_transition="autoscaling:EC2_INSTANCE_TERMINATING",
                heartbeat_timeout=cap.drain_s + cap.health_check_grace_s, default_result="CONTINUE"),
        ]

    @staticmethod
    def _refresh(min_healthy_pct: int, cap: CapacitySpec, launch_first: bool) -> aws.autoscaling.GroupInstanceRefreshArgs:
        """A new launch template version rolls out by instance refresh, keeping min_healthy_pct serving. With
        launch_first the group may grow above its desired capacity (MaxHealthyPercentage above 100), so replacements
        are launched, and pass their launch hook, before the nodes they replace are terminated: without it a refresh
        of a one-node fleet terminates its only node first (AWS replaces at least one instance at a time,
        https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-maintenance-policy.html)."""
        max_pct = min(MAX_HEALTHY_PCT_LIMIT, min_healthy_pct + 100) if launch_first else 100
        preferences = aws.autoscaling.GroupInstanceRefreshPreferencesArgs(
            min_healthy_percentage=min_healthy_pct, max_healthy_percentage=max_pct,
            instance_warmup=str(cap.health_check_grace_s))
        return aws.autoscaling.GroupInstanceRefreshArgs(strategy="Rolling", preferences=preferences)

    def _fleet_group(self, name: str, args: ComputeArgs, template: aws.ec2.LaunchTemplate,
                     child: pulumi.ResourceOptions) -> aws.autoscaling.Group:
        """The single-node replicas' group. Instance warmup counts from InService
        (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-default-instance-warmup.html), which
        the launch hook holds back until /health answers: the warmup is the short grace, not the cold start (a cold-start
        warmup kept new nodes' requests out of the scaling metric, and blocked scale-in, for the whole deadline again)."""
        cap = args.capacity
        group = aws.autoscaling.Group(
            f"{name}-replicas", vpc_zone_identifiers=args.subnet_ids, min_size=cap.min_size, max_size=cap.max_size,
            desired_capacity=cap.desired, capacity_rebalance=True, health_check_type="ELB",
            health_check_grace_period=cap.health_check_grace_s, default_instance_warmup=cap.health_check_grace_s, target_group_arns=[args.target_group_arn],
            mixed_instances_policy=self._mixed_policy(args, template, cap.on_demand_base, cap.on_demand_above_base_pct),
            initial_lifecycle_hooks=self._hooks(cap),
            instance_refresh=self._refresh(args.options.min_healthy_percentage, cap, launch_first=True),
            wait_for_capacity_timeout=f"{cap.ready_timeout_s + CAPACITY_WAIT_MARGIN_S}s",
            tags=self._group_tags(args), opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(
                ignore_changes=IGNORED_GROUP_CHANGES)))
        aws.autoscaling.Policy(
            f"{name}-requests", autoscaling_group_name=group.name, policy_type="TargetTrackingScaling",
            estimated_instance_warmup=cap.health_check_grace_s,
            target_tracking_configuration=aws.autoscaling.PolicyTargetTrackingConfigurationArgs(
                target_value=cap.requests_per_target_per_minute,
                predefined_metric_specification=aws.autoscaling.PolicyTargetTrackingConfigurationPredefinedMetricSpecificationArgs(
                    predefined_metric_type="ALBRequestCountPerTarget", resource_label=args.resource_label)),
            opts=child)
        return group

    def _replica_group(self, name: str, index: int, on_demand: bool, args: ComputeArgs, template: aws.ec2.LaunchTemplate,
                       placement: aws.ec2.PlacementGroup | None, child: pulumi.ResourceOptions) -> aws.autoscaling.Group:
        """One multi-node replica in ONE subnet: a cluster placement group lives in one Availability Zone and AWS
        refuses a group that spans zones with it
        (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/placement-strategies.html#placement-groups-cluster).
        EC2 health checks: workers do not serve /health. Not attached to the target group: only rank 0 serves the API,
        and an attached group registers every node, leaving the headless ranks in the target group as targets that never
        pass a health check; rank 0 registers itself once it serves (elasticloadbalancing:RegisterTargets on the
        target group, https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-register-targets.html),
        and a node of the replica that is going away deregisters it (llmfleet-watch).
        A refresh replaces the whole replica (min healthy 0: it is one unit); other replica groups keep serving. Max
        healthy stays 100: a node launched above the replica's size would find every rank taken."""
        nodes, cap = args.node.nodes_per_replica, args.capacity
        return aws.autoscaling.Group(
            f"{name}-replica-{index}", vpc_zone_identifiers=[args.replica_subnet_id], min_size=nodes, max_size=nodes,
            desired_capacity=nodes, placement_group=placement.id if placement else None, health_check_type="EC2",
            health_check_grace_period=cap.health_check_grace_s, default_instance_warmup=cap.health_check_grace_s,
            capacity_rebalance=not on_demand,
            mixed_instances_policy=self._mixed_policy(args, template, nodes if on_demand else 0, 100 if on_demand else 0),
            initial_lifecycle_hooks=self._hooks(cap), instance_refresh=self._refresh(0, cap, launch_first=False),
            wait_for_capacity_timeout=f"{cap.ready_timeout_s + CAPACITY_WAIT_MARGIN_S}s",
            tags=self._group_tags(args), opts=child)
