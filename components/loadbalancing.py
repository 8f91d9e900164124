"""Load balancing: an Application Load Balancer, a target group health-checking vLLM's /health, and a listener."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.options import FleetOptions

HEALTH_PATH = "/health"
"""vLLM's OpenAI-compatible server answers 200 here once the engine is ready."""
HEALTH_INTERVAL_S = 15
DEREGISTRATION_DELAY_S = 60
"""Time in-flight streams get to finish when a node leaves (scale-in, spot notice of 120 s)."""
IDLE_TIMEOUT_S = 600
"""Long generations stream for minutes; the ALB default of 60 s would cut them."""
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


@dataclass(frozen=True)
class LoadBalancingArgs:
    """Inputs of LoadBalancing."""

    options: FleetOptions
    """Ports, certificate, public or internal."""
    vpc_id: pulumi.Input[str]
    """VPC of the target group."""
    subnet_ids: pulumi.Input[list[str]]
    """Subnets of the load balancer (two AZs at least)."""
    security_group_id: pulumi.Input[str]
    """The load balancer's security group."""
    tags: dict[str, str]
    """Tags on every resource."""


class LoadBalancing(pulumi.ComponentResource):
    """ALB (internal unless public ingress is allowed), target group and listener."""

    dns_name: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    resource_label: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:LoadBalancing", name, None, opts)
        o, child = args.options, pulumi.ResourceOptions(parent=self)
        lb = aws.lb.LoadBalancer(
            f"{name}-alb", load_balancer_type="application", internal=not o.allow_public_ingress,
            subnets=args.subnet_ids, security_groups=[args.security_group_id], idle_timeout=IDLE_TIMEOUT_S,
            drop_invalid_header_fields=True, tags=args.tags, opts=child)
        tg = aws.lb.TargetGroup(
            f"{name}-vllm", port=o.api_port, protocol="HTTP", vpc_id=args.vpc_id, target_type="instance",
            deregistration_delay=DEREGISTRATION_DELAY_S,
            health_check=aws.lb.TargetGroupHealthCheckArgs(path=HEALTH_PATH, port="traffic-port", protocol="HTTP",
                                                           interval=HEALTH_INTERVAL_S, healthy_threshold=2,
                                                           unhealthy_threshold=3, matcher="200"),
            tags=args.tags, opts=child)
        forward = [aws.lb.ListenerDefaultActionArgs(type="forward", target_group_arn=tg.arn)]
        if o.https:
            aws.lb.Listener(f"{name}-https", load_balancer_arn=lb.arn, port=443, protocol="HTTPS", ssl_policy=TLS_POLICY,
                            certificate_arn=o.certificate_arn, default_actions=forward, tags=args.tags, opts=child)
        else:
            aws.lb.Listener(f"{name}-http", load_balancer_arn=lb.arn, port=o.listener_port, protocol="HTTP",
                            default_actions=forward, tags=args.tags, opts=child)
        self.dns_name = lb.dns_name
        self.target_group_arn = tg.arn
        self.resource_label = pulumi.Output.concat(lb.arn_suffix, "/", tg.arn_suffix)
        self.register_outputs({"dns_name": lb.dns_name, "target_group_arn": tg.arn})
