"""Load balancing: an Application Load Balancer, a target group health-checking vLLM's /health, and a listener."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.fleet_tags import fleet_slug
from deploy.options import FleetOptions

HEALTH_PATH = "/health"
"""vLLM's OpenAI-compatible server answers 200 here once the engine is ready."""
HEALTH_INTERVAL_S = 15
AWS_NAME_MAX = 32
"""Load balancer and target group names: at most 32 characters, alphanumerics and hyphens, no leading or trailing
hyphen (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html,
https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html)."""
NAME_HASH_CHARS = 6
IDLE_TIMEOUT_S = 600
"""Least ALB idle timeout: long generations run for minutes; the ALB default of 60 s would cut them."""
IDLE_TIMEOUT_MAX_S = 4000
"""Longest ALB connection idle timeout
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#connection-idle-timeout)."""
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
API_PATHS = ["/v1/*"]
"""What the listener forwards: vLLM's API key covers routes under /v1 and nothing else (/invocations and /metrics answer
without it: checked on a real vLLM, tests/components/test_real_vllm.py). Everything else gets NOT_ROUTED."""
API_RULE_PRIORITY = 10
"""Priority of the /v1 rule (1-50000; the default action answers what no rule matches)."""
NOT_ROUTED = aws.lb.ListenerDefaultActionFixedResponseArgs(
    content_type="application/json",
    status_code="404",
    message_body='{"error": {"message": "not found: this endpoint serves the OpenAI-compatible API under /v1", '
    '"code": 404}}',
)
"""The default action: a fixed response, so no request reaches vLLM outside /v1."""
REPLACEMENT_KEY_CHARS = 4
"""Hex characters naming the inputs a load balancer or target group is replaced on, so that a replacement (created
before the old one is deleted) never takes the name still in use."""


def replacement_key(*inputs: object) -> str:
    """A short digest of the inputs whose change replaces the resource."""
    return hashlib.sha256(repr(inputs).encode()).hexdigest()[:REPLACEMENT_KEY_CHARS]


@dataclass(frozen=True)
class LoadBalancingArgs:
    """Inputs of LoadBalancing."""

    options: FleetOptions
    """Ports, certificate, public or internal."""
    fleet_id: str
    """<project>/<stack>/<component name>: what makes the load balancer's and target group's names unique in a
    region."""
    vpc_id: pulumi.Input[str]
    """VPC of the target group."""
    subnet_ids: pulumi.Input[list[str]]
    """Subnets of the load balancer (two AZs at least)."""
    security_group_id: pulumi.Input[str]
    """The load balancer's security group."""
    drain_s: int
    """Deregistration delay: in-flight requests get this long to finish when a node leaves."""
    tags: dict[str, str]
    """Tags on every resource."""


def idle_timeout_s(drain_s: int) -> int:
    """The ALB idle timeout: at least the drain (the longest request with margin), since a non-streaming request sends
    no bytes until it ends and the ALB closes a connection idle for longer (504)."""
    return min(IDLE_TIMEOUT_MAX_S, max(IDLE_TIMEOUT_S, drain_s))


def aws_name(base: str, suffix: str) -> str:
    """`<base>-<suffix>` within AWS_NAME_MAX characters: a long base is cut and a short hash of the whole of it keeps
    names of different fleets apart."""
    clean = "".join(ch if ch.isalnum() else "-" for ch in base).strip("-")
    full = f"{clean}-{suffix}"
    if len(full) <= AWS_NAME_MAX:
        return full
    digest = hashlib.sha256(base.encode()).hexdigest()[:NAME_HASH_CHARS]
    keep = AWS_NAME_MAX - len(suffix) - NAME_HASH_CHARS - 2
    return f"{clean[:keep].rstrip('-')}-{digest}-{suffix}"


def endpoint_url(options: FleetOptions, dns_name: pulumi.Input[str]) -> pulumi.Output[str]:
    """The URL clients use: https:// on the custom domain (or the ALB's name) with a certificate, else http://."""
    if options.https:
        return pulumi.Output.concat("https://", options.domain_name or dns_name)
    port = "" if options.listener_port == 80 else f":{options.listener_port}"
    return pulumi.Output.concat("http://", dns_name, port)


class LoadBalancing(pulumi.ComponentResource):
    """ALB (internal unless public ingress is allowed), target group and listener."""

    dns_name: pulumi.Output[str]
    url: pulumi.Output[str]
    target_group_arn: pulumi.Output[str]
    lb_label: pulumi.Output[str]
    tg_label: pulumi.Output[str]

    def __init__(self, name: str, args: LoadBalancingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:LoadBalancing", name, None, opts)
        o, child = args.options, pulumi.ResourceOptions(parent=self)
        base = fleet_slug(args.fleet_id)  # unique per stack of a program
        vpc = o.vpc_id if isinstance(o.vpc_id, str) else "created" if o.vpc_id is None else "given"
        lb = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=aws_name(base, f"alb-{replacement_key(o.allow_public_ingress, 'application')}"),
            load_balancer_type="application",
            internal=not o.allow_public_ingress,
            subnets=args.subnet_ids,
            security_groups=[args.security_group_id],
            idle_timeout=idle_timeout_s(args.drain_s),
            drop_invalid_header_fields=True,
            tags=args.tags,
            opts=child,
        )
        tg = aws.lb.TargetGroup(
            f"{name}-vllm",
            name=aws_name(base, f"tg-{replacement_key(o.api_port, 'HTTP', 'instance', vpc)}"),
            port=o.api_port,
            protocol="HTTP",
            vpc_id=args.vpc_id,
            target_type="instance",
            deregistration_delay=args.drain_s,
            health_check=aws.lb.TargetGroupHealthCheckArgs(
                path=HEALTH_PATH,
                port="traffic-port",
                protocol="HTTP",
                interval=HEALTH_INTERVAL_S,
                healthy_threshold=2,
                unhealthy_threshold=3,
                matcher="200",
            ),
            tags=args.tags,
            opts=child,
        )
        refuse = [aws.lb.ListenerDefaultActionArgs(type="fixed-response", fixed_response=NOT_ROUTED)]
        if o.https:
            listener = aws.lb.Listener(
                f"{name}-https",
                load_balancer_arn=lb.arn,
                port=443,
                protocol="HTTPS",
                ssl_policy=TLS_POLICY,
                certificate_arn=o.certificate_arn,
                default_actions=refuse,
                tags=args.tags,
                opts=child,
            )
        else:
            listener = aws.lb.Listener(
                f"{name}-http",
                load_balancer_arn=lb.arn,
                port=o.listener_port,
                protocol="HTTP",
                default_actions=refuse,
                tags=args.tags,
                opts=child,
            )
        aws.lb.ListenerRule(
            f"{name}-api",
            listener_arn=listener.arn,
            priority=API_RULE_PRIORITY,
            conditions=[
                aws.lb.ListenerRuleConditionArgs(
                    path_pattern=aws.lb.ListenerRuleConditionPathPatternArgs(values=API_PATHS)
                )
            ],
            actions=[aws.lb.ListenerRuleActionArgs(type="forward", target_group_arn=tg.arn)],
            tags=args.tags,
            opts=child,
        )
        if o.https and not o.domain_name:
            pulumi.log.warn(
                "certificate_arn without domain_name: the endpoint is the load balancer's own DNS name "
                "(*.elb.amazonaws.com), which no ACM certificate covers, so clients fail TLS verification. "
                "To fix: set llmfleet:fleet.domain_name to a name the certificate covers and point it (alias or "
                "CNAME) at the load balancer.",
                resource=self,
            )
        self.dns_name = lb.dns_name
        self.url = endpoint_url(o, lb.dns_name)
        self.target_group_arn = tg.arn
        self.lb_label, self.tg_label = lb.arn_suffix, tg.arn_suffix  # their CloudWatch dimensions
        self.register_outputs({"dns_name": lb.dns_name, "url": self.url, "target_group_arn": tg.arn})
