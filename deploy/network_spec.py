"""What the Network component creates, as pure facts (no Pulumi): the zones of a created VPC, its NAT gateway and its
interface endpoints. Network builds from these, and the fixed-cost estimate (deploy/fixed_costs.py) counts them."""

from __future__ import annotations

from deploy.options import FleetOptions
from sizing.live.aws import ZONES_CREATED

SUBNETS_CREATED = ZONES_CREATED
"""Subnets (in different AZs) of a created VPC: an Application Load Balancer needs two; pre-flight checks the same
zones."""
ALB_MIN_ZONES = 2
"""An Application Load Balancer needs subnets in at least two Availability Zones
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#availability-zones)."""
INTERFACE_ENDPOINTS = (
    "secretsmanager",
    "ssm",
    "ssmmessages",
    "autoscaling",
    "ecr.api",
    "ecr.dkr",
    "sts",
    "elasticloadbalancing",
    "logs",
    "monitoring",
)
"""AWS APIs the node calls, reached over interface endpoints from the private subnets
(https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html)."""
NAT_GATEWAYS_CREATED = 1
"""NAT gateways of a created VPC with private node subnets by default: one, in the first public subnet, routes both
private subnets to the model hub; with nat_per_zone, one per zone (each zone's nodes keep reaching the hub when another
zone fails: https://docs.aws.amazon.com/vpc/latest/userguide/vpc-nat-gateway.html, "create a NAT gateway in each
Availability Zone")."""


def creates_vpc(options: FleetOptions) -> bool:
    """The fleet creates its VPC (no vpc_id given)."""
    return not options.vpc_id


def creates_private_subnets(options: FleetOptions) -> bool:
    """A created VPC puts the nodes in private subnets, behind the NAT gateway and the interface endpoints (unless
    public_node_ips puts them in the public subnets)."""
    return creates_vpc(options) and not options.public_node_ips


def nat_gateways(options: FleetOptions) -> int:
    """NAT gateways the fleet creates (each with an Elastic IP)."""
    if not creates_private_subnets(options):
        return 0
    return SUBNETS_CREATED if options.nat_per_zone else NAT_GATEWAYS_CREATED


def interface_endpoint_zones(options: FleetOptions) -> int:
    """Interface endpoints the fleet creates, times the zones each has a network interface in: what AWS bills by the
    hour (https://aws.amazon.com/privatelink/pricing/)."""
    return len(INTERFACE_ENDPOINTS) * SUBNETS_CREATED if creates_private_subnets(options) else 0
