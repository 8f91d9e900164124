"""Network and security: an existing VPC or a minimal new one, and the security groups of the load balancer and nodes."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.options import FleetOptions
from sizing.live.aws import ZONES_CREATED

ANY_PROTOCOL = "-1"
ALL_IPV4 = "0.0.0.0/0"
SUBNETS_CREATED = ZONES_CREATED
"""Subnets (in different AZs) of a created VPC: an Application Load Balancer needs two; pre-flight checks the same zones."""


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of Network."""

    options: FleetOptions
    """VPC, subnets, allowed clients and ports."""
    multi_node: bool
    """Nodes of one replica talk to each other (Ray, NCCL, EFA): the node group admits itself."""
    tags: dict[str, str]
    """Tags on every resource."""


class Network(pulumi.ComponentResource):
    """VPC and subnets (given or created), a load-balancer security group open only to the allowed clients, and a node
    security group open only to the load balancer (and to itself for multi-node replicas)."""

    vpc_id: pulumi.Output[str]
    subnet_ids: pulumi.Output[list[str]]
    lb_security_group_id: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:Network", name, None, opts)
        o, child = args.options, pulumi.ResourceOptions(parent=self)
        if o.vpc_id:
            self.vpc_id = pulumi.Output.from_input(o.vpc_id)
            subnets = o.subnet_ids
            self.subnet_ids = subnets if isinstance(subnets, pulumi.Output) else pulumi.Output.all(*subnets).apply(list)
        else:
            self.vpc_id, self.subnet_ids = self._create_vpc(name, o, args.tags, child)
        lb_sg = aws.ec2.SecurityGroup(f"{name}-lb", vpc_id=self.vpc_id, tags=args.tags, opts=child,
                                      description="llm-fleet load balancer: allowed clients only")
        node_sg = aws.ec2.SecurityGroup(f"{name}-node", vpc_id=self.vpc_id, tags=args.tags, opts=child,
                                        description="llm-fleet vLLM nodes: API from the load balancer only")
        self._client_rules(name, o, lb_sg, child)
        rule = aws.ec2.SecurityGroupRule
        rule(f"{name}-lb-to-nodes", type="egress", protocol="tcp", from_port=o.api_port, to_port=o.api_port,
             security_group_id=lb_sg.id, source_security_group_id=node_sg.id, description="to the vLLM nodes", opts=child)
        rule(f"{name}-node-api", type="ingress", protocol="tcp", from_port=o.api_port, to_port=o.api_port,
             security_group_id=node_sg.id, source_security_group_id=lb_sg.id, description="vLLM API from the load balancer",
             opts=child)
        rule(f"{name}-node-egress", type="egress", protocol=ANY_PROTOCOL, from_port=0, to_port=0, cidr_blocks=[ALL_IPV4],
             security_group_id=node_sg.id, description="image, weights and AWS APIs", opts=child)
        if args.multi_node:
            for direction in ("ingress", "egress"):
                rule(f"{name}-node-self-{direction}", type=direction, protocol=ANY_PROTOCOL, from_port=0, to_port=0,
                     security_group_id=node_sg.id, source_security_group_id=node_sg.id,
                     description="Ray, NCCL and EFA between the nodes of a replica (EFA needs both directions)", opts=child)
        self.lb_security_group_id = lb_sg.id
        self.node_security_group_id = node_sg.id
        self.register_outputs({"vpc_id": self.vpc_id, "subnet_ids": self.subnet_ids,
                               "lb_security_group_id": lb_sg.id, "node_security_group_id": node_sg.id})

    @staticmethod
    def _client_rules(name: str, o: FleetOptions, lb_sg: aws.ec2.SecurityGroup, child: pulumi.ResourceOptions) -> None:
        """The listener port, open to each allowed CIDR and security group, and nothing else."""
        port = 443 if o.https else o.listener_port
        for i, cidr in enumerate(o.allowed_cidrs):
            aws.ec2.SecurityGroupRule(f"{name}-client-cidr-{i}", type="ingress", protocol="tcp", from_port=port, to_port=port,
                                      cidr_blocks=[cidr], security_group_id=lb_sg.id, description="allowed client CIDR",
                                      opts=child)
        for i, sg in enumerate(o.allowed_security_group_ids):
            aws.ec2.SecurityGroupRule(f"{name}-client-sg-{i}", type="ingress", protocol="tcp", from_port=port, to_port=port,
                                      source_security_group_id=sg, security_group_id=lb_sg.id,
                                      description="allowed client security group", opts=child)

    def _create_vpc(self, name: str, o: FleetOptions, tags: dict[str, str], child: pulumi.ResourceOptions
                    ) -> tuple[pulumi.Output[str], pulumi.Output[list[str]]]:
        """A minimal VPC: two public subnets for egress (image, weights) with an internet gateway. Nodes get public
        addresses for egress only; their security group admits nothing from the internet."""
        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=o.vpc_cidr, enable_dns_hostnames=True, enable_dns_support=True,
                          tags={**tags, "Name": f"{name}-vpc"}, opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=child)
        routes = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id, routes=[aws.ec2.RouteTableRouteArgs(
            cidr_block=ALL_IPV4, gateway_id=igw.id)], tags=tags, opts=child)
        zones = aws.get_availability_zones_output(state="available", opts=pulumi.InvokeOutputOptions(parent=self))  # its provider
        subnets = []
        for i in range(SUBNETS_CREATED):
            subnet = aws.ec2.Subnet(
                f"{name}-subnet-{i}", vpc_id=vpc.id, availability_zone=zones.names[i],
                cidr_block=_subnet_cidr(o.vpc_cidr, i), map_public_ip_on_launch=True,
                tags={**tags, "Name": f"{name}-subnet-{i}"}, opts=child)
            aws.ec2.RouteTableAssociation(f"{name}-subnet-{i}-routes", subnet_id=subnet.id, route_table_id=routes.id, opts=child)
            subnets.append(subnet.id)
        return vpc.id, pulumi.Output.all(*subnets).apply(list)


def _subnet_cidr(vpc_cidr: str, index: int) -> str:
    """The index-th /20 (or smaller step) inside the VPC CIDR."""
    import ipaddress

    net = ipaddress.ip_network(vpc_cidr)
    prefix = min(net.max_prefixlen - 4, max(net.prefixlen + 4, 20))
    return str(list(net.subnets(new_prefix=prefix))[index])
