"""Network and security: an existing VPC (its subnets checked for two zones) or a new one with private node subnets,
a NAT gateway for the model hub and VPC endpoints for the AWS APIs; the security groups of the load balancer and
nodes."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from deploy.network_spec import (
    ALB_MIN_ZONES,
    INTERFACE_ENDPOINTS,
    SUBNETS_CREATED,
    creates_private_subnets,
    nat_gateways,
)
from deploy.options import FleetOptions

ANY_PROTOCOL = "-1"
ALL_IPV4 = "0.0.0.0/0"
HTTPS = 443


def check_zones(zones: list[str]) -> list[str]:
    """The subnets' zones, if they span at least ALB_MIN_ZONES; otherwise the deployment stops with the reason."""
    if len(set(zones)) < ALB_MIN_ZONES:
        raise ValueError(
            f"llmfleet:fleet.subnet_ids are in {sorted(set(zones))}: an Application Load Balancer needs "
            f"subnets in at least {ALB_MIN_ZONES} Availability Zones. To fix: add a subnet of another zone."
        )
    return zones


@dataclass(frozen=True)
class NetworkArgs:
    """Inputs of Network."""

    options: FleetOptions
    """VPC, subnets, allowed clients and ports."""
    tags: dict[str, str]
    """Tags on every resource."""


class Network(pulumi.ComponentResource):
    """VPC and subnets (given or created), a load-balancer security group open only to the allowed clients, and a node
    security group open only to the load balancer."""

    vpc_id: pulumi.Output[str]
    subnet_ids: pulumi.Output[list[str]]
    lb_subnet_ids: pulumi.Output[list[str]]
    lb_security_group_id: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:Network", name, None, opts)
        o, child = args.options, pulumi.ResourceOptions(parent=self)
        if o.vpc_id:
            self.vpc_id = pulumi.Output.from_input(o.vpc_id)
            self.subnet_ids = self._checked(o.subnet_ids)  # the subnets reach the resources once their zones pass
            self.lb_subnet_ids = self._checked(o.lb_subnet_ids) if o.lb_subnet_ids else self.subnet_ids
        else:
            self.vpc_id, self.subnet_ids, self.lb_subnet_ids = self._create_vpc(name, o, args.tags, child)
        lb_sg = aws.ec2.SecurityGroup(
            f"{name}-lb",
            vpc_id=self.vpc_id,
            tags=args.tags,
            opts=child,
            description="llm-fleet load balancer: allowed clients only",
        )
        node_sg = aws.ec2.SecurityGroup(
            f"{name}-node",
            vpc_id=self.vpc_id,
            tags=args.tags,
            opts=child,
            description="llm-fleet vLLM nodes: API from the load balancer only",
        )
        self._client_rules(name, o, lb_sg, child)
        rule = aws.ec2.SecurityGroupRule
        rule(
            f"{name}-lb-to-nodes",
            type="egress",
            protocol="tcp",
            from_port=o.api_port,
            to_port=o.api_port,
            security_group_id=lb_sg.id,
            source_security_group_id=node_sg.id,
            description="to the vLLM nodes",
            opts=child,
        )
        rule(
            f"{name}-node-api",
            type="ingress",
            protocol="tcp",
            from_port=o.api_port,
            to_port=o.api_port,
            security_group_id=node_sg.id,
            source_security_group_id=lb_sg.id,
            description="vLLM API from the load balancer",
            opts=child,
        )
        rule(
            f"{name}-node-egress",
            type="egress",
            protocol=ANY_PROTOCOL,
            from_port=0,
            to_port=0,
            cidr_blocks=[ALL_IPV4],
            security_group_id=node_sg.id,
            description="image, weights and AWS APIs",
            opts=child,
        )
        self.lb_security_group_id = lb_sg.id
        self.node_security_group_id = node_sg.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "subnet_ids": self.subnet_ids,
                "lb_subnet_ids": self.lb_subnet_ids,
                "lb_security_group_id": lb_sg.id,
                "node_security_group_id": node_sg.id,
            }
        )

    def _checked(self, subnets: pulumi.Output[list[str]] | tuple[pulumi.Input[str], ...]) -> pulumi.Output[list[str]]:
        """Given subnets, reaching the resources only once they span the zones a load balancer needs."""
        given: pulumi.Output[list[str]] = (
            subnets if isinstance(subnets, pulumi.Output) else pulumi.Output.all(*subnets).apply(list)
        )
        zones: pulumi.Output[list[str]] = given.apply(self._zones_of)
        return pulumi.Output.all(given, zones.apply(check_zones)).apply(lambda v: v[0])

    def _zones_of(self, subnet_ids: list[str]) -> pulumi.Output[list[str]]:
        """The Availability Zone of each existing subnet (DescribeSubnets through the fleet's provider)."""
        return pulumi.Output.all(
            *[
                aws.ec2.get_subnet_output(id=s, opts=pulumi.InvokeOutputOptions(parent=self)).availability_zone
                for s in subnet_ids
            ]
        ).apply(list)

    @staticmethod
    def _client_rules(name: str, o: FleetOptions, lb_sg: aws.ec2.SecurityGroup, child: pulumi.ResourceOptions) -> None:
        """The listener port, open to each allowed CIDR and security group, and nothing else."""
        port = 443 if o.https else o.listener_port
        for i, cidr in enumerate(o.allowed_cidrs):
            aws.ec2.SecurityGroupRule(
                f"{name}-client-cidr-{i}",
                type="ingress",
                protocol="tcp",
                from_port=port,
                to_port=port,
                cidr_blocks=[cidr],
                security_group_id=lb_sg.id,
                description="allowed client CIDR",
                opts=child,
            )
        for i, sg in enumerate(o.allowed_security_group_ids):
            aws.ec2.SecurityGroupRule(
                f"{name}-client-sg-{i}",
                type="ingress",
                protocol="tcp",
                from_port=port,
                to_port=port,
                source_security_group_id=sg,
                security_group_id=lb_sg.id,
                description="allowed client security group",
                opts=child,
            )

    def _create_vpc(
        self, name: str, o: FleetOptions, tags: dict[str, str], child: pulumi.ResourceOptions
    ) -> tuple[pulumi.Output[str], pulumi.Output[list[str]], pulumi.Output[list[str]]]:
        """A VPC with a public and a private subnet in each of two zones. Nodes live in the private subnets (no public
        address) and reach the model hub through one NAT gateway and the AWS APIs through VPC endpoints; with
        public_node_ips they live in the public subnets instead. Returns (vpc, node subnets, LB subnets)."""
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=o.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={**tags, "Name": f"{name}-vpc"},
            opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags, opts=child)
        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block=ALL_IPV4, gateway_id=igw.id)],
            tags=tags,
            opts=child,
        )
        zones = aws.get_availability_zones_output(
            state="available", opts=pulumi.InvokeOutputOptions(parent=self)
        )  # its provider
        public, private = [], []
        for i in range(SUBNETS_CREATED):
            subnet = aws.ec2.Subnet(
                f"{name}-public-{i}",
                vpc_id=vpc.id,
                availability_zone=zones.names[i],
                cidr_block=_subnet_cidr(o.vpc_cidr, SUBNETS_CREATED + i),
                map_public_ip_on_launch=o.public_node_ips,
                tags={**tags, "Name": f"{name}-public-{i}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{i}-routes", subnet_id=subnet.id, route_table_id=public_routes.id, opts=child
            )
            public.append(subnet)
        lb = public if o.allow_public_ingress else None
        if not creates_private_subnets(o):  # public_node_ips: no NAT gateway, no interface endpoints
            ids = pulumi.Output.all(*[s.id for s in public]).apply(list)
            return vpc.id, ids, ids
        routes = [self._nat_route(name, k, vpc, public[k], tags, child) for k in range(nat_gateways(o))]
        for i in range(SUBNETS_CREATED):
            subnet = aws.ec2.Subnet(
                f"{name}-private-{i}",
                vpc_id=vpc.id,
                availability_zone=zones.names[i],
                cidr_block=_subnet_cidr(o.vpc_cidr, i),
                map_public_ip_on_launch=False,
                tags={**tags, "Name": f"{name}-private-{i}"},
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{i}-routes",
                subnet_id=subnet.id,
                route_table_id=routes[min(i, len(routes) - 1)].id,
                opts=child,
            )
            private.append(subnet)
        self._endpoints(name, o, vpc, [s.id for s in private], routes, tags, child)
        node_ids = pulumi.Output.all(*[s.id for s in private]).apply(list)
        lb_ids = pulumi.Output.all(*[s.id for s in lb]).apply(list) if lb else node_ids
        return vpc.id, node_ids, lb_ids

    @staticmethod
    def _nat_route(
        name: str, k: int, vpc: aws.ec2.Vpc, subnet: aws.ec2.Subnet, tags: dict[str, str], child: pulumi.ResourceOptions
    ) -> aws.ec2.RouteTable:
        """A NAT gateway (and its Elastic IP) in a public subnet, and the private route table through it; the first
        keeps the names a single NAT gateway always had, so that nat_per_zone adds resources and replaces none."""
        suffix = f"-{k}" if k else ""
        eip = aws.ec2.Eip(f"{name}-nat{suffix}", domain="vpc", tags=tags, opts=child)
        nat = aws.ec2.NatGateway(
            f"{name}-nat{suffix}", subnet_id=subnet.id, allocation_id=eip.id, tags=tags, opts=child
        )
        return aws.ec2.RouteTable(
            f"{name}-private{suffix}",
            vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block=ALL_IPV4, nat_gateway_id=nat.id)],
            tags=tags,
            opts=child,
        )

    @staticmethod
    def _endpoints(
        name: str,
        o: FleetOptions,
        vpc: aws.ec2.Vpc,
        subnet_ids: list[pulumi.Output[str]],
        routes: list[aws.ec2.RouteTable],
        tags: dict[str, str],
        child: pulumi.ResourceOptions,
    ) -> None:
        """S3 through a gateway endpoint (weights, ECR layers); the other AWS APIs through interface endpoints."""
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=vpc)).region  # the VPC's provider
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=vpc.id,
            vpc_endpoint_type="Gateway",
            route_table_ids=[r.id for r in routes],
            service_name=pulumi.Output.concat("com.amazonaws.", region, ".s3"),
            tags=tags,
            opts=child,
        )
        sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints",
            vpc_id=vpc.id,
            tags=tags,
            opts=child,
            description="llm-fleet VPC endpoints: HTTPS from inside the VPC",
        )
        aws.ec2.SecurityGroupRule(
            f"{name}-endpoints-https",
            type="ingress",
            protocol="tcp",
            from_port=HTTPS,
            to_port=HTTPS,
            cidr_blocks=[o.vpc_cidr],
            security_group_id=sg.id,
            description="AWS APIs from the VPC",
            opts=child,
        )
        for service in INTERFACE_ENDPOINTS:
            aws.ec2.VpcEndpoint(
                f"{name}-{service.replace('.', '-')}",
                vpc_id=vpc.id,
                vpc_endpoint_type="Interface",
                service_name=pulumi.Output.concat("com.amazonaws.", region, f".{service}"),
                subnet_ids=subnet_ids,
                security_group_ids=[sg.id],
                private_dns_enabled=True,
                tags=tags,
                opts=child,
            )


def _subnet_cidr(vpc_cidr: str, index: int) -> str:
    """The index-th /20 (or smaller step) inside the VPC CIDR."""
    import ipaddress

    net = ipaddress.ip_network(vpc_cidr)
    prefix = min(net.max_prefixlen - 4, max(net.prefixlen + 4, 20))
    return str(list(net.subnets(new_prefix=prefix))[index])
