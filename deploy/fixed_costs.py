"""A stack's fixed overhead: what the AWS resources it creates besides the GPU instances cost (a created VPC's interface
endpoints, NAT gateway and its address; the load balancer; the API-key secret; the nodes' logs and EBS volumes).

Counted from the same facts the components build from (deploy/network_spec.py, fleet_spec.py, eks/nodes.py), so
the estimate follows what is created; priced from sizing/data/fixed_costs.csv. Pure: no Pulumi. The EKS cluster itself
is the user's and not counted; the data processing charges depend on traffic and are not counted either."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploy.eks_spec import node_volumes
from deploy.fleet_metrics import PUBLISH_EVERY_S, PUBLISHED, PUT_CALLS_PER_PUBLISH
from deploy.fleet_spec import LOG_RETENTION_DAYS, Gp3Volume, creates_api_key_secret, node_spec
from deploy.image_source import caches_weights, fleet_image_source
from deploy.monitoring_spec import DASHBOARDS, alarm_metrics
from deploy.network_spec import interface_endpoint_zones, nat_gateways
from deploy.options import FleetOptions
from sizing.catalog.assumptions import HOURS_IN_LONGEST_MONTH, MIN_HOURS_PER_MONTH
from sizing.catalog.fixed_costs import BILLED_HOURLY, PriceItem, all_fixed_cost_prices, fixed_cost_prices
from sizing.planner.cold_start import GP3_BASELINE_IOPS, GP3_BASELINE_MIBPS
from sizing.planner.results import Plan
from sizing.units import BYTES_PER_GB

FixedCostName = Literal[
    "interface_endpoint",
    "nat_gateway",
    "nat_public_ipv4",
    "alb",
    "alb_lcu",
    "api_key_secret",
    "log_ingestion",
    "log_storage",
    "ebs_storage",
    "ebs_throughput",
    "ebs_iops",
    "custom_metric",
    "alarm_metric",
    "dashboard",
    "metric_requests",
    "weights_cache",
    "image_cache",
]
"""The kinds of resource the overhead counts."""
LABELS: dict[FixedCostName, str] = {
    "interface_endpoint": "interface VPC endpoint, per AZ",
    "nat_gateway": "NAT gateway",
    "nat_public_ipv4": "NAT gateway's public IPv4 address",
    "alb": "Application Load Balancer",
    "alb_lcu": "ALB capacity units",
    "api_key_secret": "Secrets Manager secret (API key)",
    "log_ingestion": "CloudWatch Logs ingestion, per node",
    "log_storage": "CloudWatch Logs storage, per node",
    "ebs_storage": "EBS gp3 storage, per node",
    "ebs_throughput": "EBS gp3 throughput above the baseline, per node",
    "ebs_iops": "EBS gp3 IOPS above the baseline, per node",
    "custom_metric": "CloudWatch custom metric (vLLM's load)",
    "alarm_metric": "CloudWatch alarm metric",
    "dashboard": "CloudWatch dashboard",
    "metric_requests": "CloudWatch PutMetricData calls, per node",
    "weights_cache": "S3 weights cache (the checkpoint)",
    "image_cache": "ECR image cache (the serving image)",
}
"""What each kind is, in words."""
ALB_LCUS = 1.0
"""Load Balancer Capacity Units an ALB uses, on average (est.). One LCU is 25 new connections/s, 3,000 active
connections/minute, 1 GB processed per hour (instance targets) or 1,000 rule evaluations/s, billed on the largest
(https://aws.amazon.com/elasticloadbalancing/pricing/). An LLM endpoint serves few, long requests: the prod stack's 6
req/s of about 10 KB each is 0.2 GB/h, and its 128 streams 4% of the active-connection unit, so one LCU is a round
upper estimate for the example stacks; a busier fleet uses more."""
LOG_GB_PER_NODE_MONTH = 1.0
"""CloudWatch Logs a node ships in a month, GB (est.): vLLM's stats line every 10 s and an access-log line per request
(about 200 bytes each) through docker's awslogs driver, and the boot log; 1 req/s per node is about 0.5 GB a month."""
IMAGE_GB = 10.0
"""Compressed size of the serving image in ECR, GB (est.): the vLLM CUDA images are several GB compressed; a round
upper estimate, the ECR storage it prices is about $1 a month."""
MAX_IMAGE_GB = 1e4
"""Bound of the image-size assumption, GB."""
MAX_LCUS = 1e6
"""Bound of the LCU assumption."""
MAX_LOG_GB = 1e6
"""Bound of the log-volume assumption, GB per node-month."""
MAX_COUNT = 10_000_000
"""Bound of the resources of one kind in a stack (a file that claims more is not one this code wrote)."""
MAX_ITEM_USD_PER_HOUR = 1e6
"""Bound of one resource's hourly cost, USD."""
HOURS_PER_DAY = 24
SECONDS_PER_HOUR = 3600
REQUESTS_PER_PRICE_UNIT = 1000
"""CloudWatch prices API requests per 1,000."""
SourceText = Annotated[str, Field(pattern=r"^[^\x00-\x1f\x7f|`<>]{1,400}$")]
"""A price's source: printable, no Markdown table or HTML delimiters (it may reach the PR report)."""
Region = Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9]$")]
Date = Annotated[str, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]


class FixedCostAssumptions(BaseModel):
    """The overhead's usage assumptions: named, estimated, overridable."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    alb_lcus: float = Field(default=ALB_LCUS, ge=0, le=MAX_LCUS)
    """Load Balancer Capacity Units an ALB uses on average (ALB_LCUS)."""
    log_gb_per_node_month: float = Field(default=LOG_GB_PER_NODE_MONTH, ge=0, le=MAX_LOG_GB)
    """CloudWatch Logs a node ships in a month, GB (LOG_GB_PER_NODE_MONTH)."""
    image_gb: float = Field(default=IMAGE_GB, ge=0, le=MAX_IMAGE_GB)
    """Compressed size of the serving image the ECR cache holds, GB (IMAGE_GB)."""


class FixedCost(BaseModel):
    """One kind of resource of the overhead: how many the stack creates and what one costs."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    name: FixedCostName
    """What it is (LABELS says it in words)."""
    count: int = Field(ge=1, le=MAX_COUNT)
    """How many the stack creates (endpoint-AZs, nodes, or one)."""
    usd_per_hour: float = Field(ge=0, le=MAX_ITEM_USD_PER_HOUR)
    """What one costs, USD per hour (a monthly price over the plan's hours per month)."""
    source: SourceText
    """The unit price's source (sizing/data/fixed_costs.csv)."""

    @property
    def total_usd_per_hour(self) -> float:
        """All of them, USD per hour."""
        return self.count * self.usd_per_hour


class FixedCosts(BaseModel):
    """A stack's fixed overhead."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    region: Region
    """Where it is priced."""
    items: tuple[FixedCost, ...] = Field(max_length=len(LABELS))
    """Each kind of resource the stack creates that costs money, in LABELS' order."""
    hours_per_month: float = Field(ge=MIN_HOURS_PER_MONTH, le=HOURS_IN_LONGEST_MONTH)
    """Hours in a billing month (the plan's): monthly prices are spread over them."""
    prices_as_of: Date
    """Date of the oldest unit price used."""
    assumptions: FixedCostAssumptions = FixedCostAssumptions()
    """The usage assumptions the counts were made with."""

    @property
    def usd_per_hour(self) -> float:
        """The whole overhead, USD per hour."""
        return sum(i.total_usd_per_hour for i in self.items)

    @property
    def usd_per_month(self) -> float:
        """The whole overhead, USD per month."""
        return self.usd_per_hour * self.hours_per_month


@dataclass(frozen=True)
class Usage:
    """Resources of one kind a stack creates, before pricing."""

    name: FixedCostName
    """What they are."""
    count: int
    """How many."""
    item: PriceItem
    """The unit price that applies (sizing/data/fixed_costs.csv)."""
    quantity: float = 1.0
    """Units of the price per resource: GiB, LCUs, GB a month, MiB/s or IOPS (1 for a per-resource price)."""


def network_usage(options: FleetOptions) -> list[Usage]:
    """A created VPC's interface endpoints (one network interface per zone, each billed), its NAT gateway and the NAT
    gateway's Elastic IP; the S3 gateway endpoint, subnets, route tables and internet gateway are free."""
    nats = nat_gateways(options)
    return [
        Usage("interface_endpoint", interface_endpoint_zones(options), "interface_endpoint"),
        Usage("nat_gateway", nats, "nat_gateway"),
        Usage("nat_public_ipv4", nats, "public_ipv4"),
    ]


def load_balancer_usage(options: FleetOptions, assumptions: FixedCostAssumptions) -> list[Usage]:
    """One ALB: on ec2 the fleet's own (components/loadbalancing.py); on eks the AWS Load Balancer Controller's, for the
    Ingress the fleet emits with cluster.ingress alb."""
    cluster = options.cluster
    albs = 1 if options.platform == "ec2" or (cluster is not None and cluster.ingress == "alb") else 0
    return [Usage("alb", albs, "alb"), Usage("alb_lcu", albs, "alb_lcu", assumptions.alb_lcus)]


def log_usage(nodes: int, hours_per_month: float, assumptions: FixedCostAssumptions) -> list[Usage]:
    """The ec2 fleet's log group: what the nodes ship, and what it holds at steady state over LOG_RETENTION_DAYS
    (stored as ingested: CloudWatch's compression is not counted)."""
    ingested = assumptions.log_gb_per_node_month
    stored = ingested * LOG_RETENTION_DAYS * HOURS_PER_DAY / hours_per_month
    return [
        Usage("log_ingestion", nodes, "log_ingestion", ingested),
        Usage("log_storage", nodes, "log_storage", stored),
    ]


def monitoring_usage(nodes: int, hours_per_month: float) -> list[Usage]:
    """The ec2 fleet's CloudWatch: the custom metrics its nodes publish, its alarms' metrics, its dashboard, and the
    nodes' PutMetricData calls (deploy/fleet_metrics.py, components/monitoring.py)."""
    calls_per_month = hours_per_month * SECONDS_PER_HOUR / PUBLISH_EVERY_S * PUT_CALLS_PER_PUBLISH
    return [
        Usage("custom_metric", len(PUBLISHED), "cw_custom_metric"),
        Usage("alarm_metric", alarm_metrics(), "cw_alarm_metric"),
        Usage("dashboard", DASHBOARDS, "cw_dashboard"),
        Usage("metric_requests", nodes, "cw_api_requests", calls_per_month / REQUESTS_PER_PRICE_UNIT),
    ]


def ebs_usage(nodes: int, volumes: tuple[Gp3Volume, ...]) -> list[Usage]:
    """Every node's gp3 volumes: their size, and the throughput and IOPS provisioned above gp3's baseline."""
    throughput = sum(max(0, (v.throughput_mibps or GP3_BASELINE_MIBPS) - GP3_BASELINE_MIBPS) for v in volumes)
    iops = sum(max(0, (v.iops or GP3_BASELINE_IOPS) - GP3_BASELINE_IOPS) for v in volumes)
    return [
        Usage("ebs_storage", nodes, "gp3_storage", sum(v.size_gib for v in volumes)),
        Usage("ebs_throughput", nodes if throughput else 0, "gp3_throughput", throughput),
        Usage("ebs_iops", nodes if iops else 0, "gp3_iops", iops),
    ]


def boot_source_usage(plan: Plan, options: FleetOptions, assumptions: FixedCostAssumptions) -> list[Usage]:
    """The ec2 fleet's copies of what its nodes start from (components/boot_sources.py): the weights cache bucket holds
    the checkpoint, the image's pull-through cache the image."""
    weights = 1 if caches_weights(options) else 0
    image = 1 if fleet_image_source(node_spec(plan, options).image, options).kind == "cache" else 0
    return [
        Usage("weights_cache", weights, "s3_storage", plan.checkpoint.download_bytes / BYTES_PER_GB),
        Usage("image_cache", image, "ecr_storage", assumptions.image_gb),
    ]


def volumes_per_node(plan: Plan, options: FleetOptions) -> tuple[Gp3Volume, ...]:
    """The gp3 volumes of one node: the launch template's root volume on ec2, the EC2NodeClass's on eks."""
    if options.platform == "eks":
        return node_volumes(plan, options)
    return (node_spec(plan, options).root_volume,)


def created_usage(plan: Plan, options: FleetOptions, assumptions: FixedCostAssumptions) -> list[Usage]:
    """What the stack creates that costs money besides its instances, counted (kinds with none left out). Platform eks
    creates only the secret and the nodes' volumes (and its Ingress's ALB); the cluster and its network are the
    user's."""
    nodes = plan.choice.instances
    secrets = 1 if creates_api_key_secret(options) else 0
    usage = [
        *load_balancer_usage(options, assumptions),
        Usage("api_key_secret", secrets, "secret"),
        *ebs_usage(nodes, volumes_per_node(plan, options)),
    ]
    if options.platform == "ec2":
        hours = plan.assumptions.hours_per_month
        usage += [
            *network_usage(options),
            *log_usage(nodes, hours, assumptions),
            *monitoring_usage(nodes, hours),
            *boot_source_usage(plan, options, assumptions),
        ]
    order = list(LABELS)
    return sorted((u for u in usage if u.count), key=lambda u: order.index(u.name))


def fixed_costs(
    plan: Plan, options: FleetOptions, assumptions: FixedCostAssumptions = FixedCostAssumptions()
) -> FixedCosts | None:
    """The stack's fixed overhead, or None where sizing/data/fixed_costs.csv has no prices for the plan's region."""
    prices = fixed_cost_prices(plan.region)
    if prices is None:
        return None
    hours = plan.assumptions.hours_per_month
    usage = created_usage(plan, options, assumptions)
    items = tuple(
        FixedCost(
            name=u.name,
            count=u.count,
            source=prices[u.item].source,
            usd_per_hour=u.quantity * prices[u.item].usd / (1 if u.item in BILLED_HOURLY else hours),
        )
        for u in usage
    )
    as_of = min((prices[u.item].as_of for u in usage), default=min(p.as_of for p in prices.values()))
    return FixedCosts(
        region=plan.region, items=items, hours_per_month=hours, prices_as_of=as_of, assumptions=assumptions
    )


def unpriced_notice(region: str) -> str:
    """What to say where a region has no prices: the total is the fleet's alone."""
    return (
        f"fixed overhead: sizing/data/fixed_costs.csv has no prices for {region} (it has "
        f"{', '.join(sorted(all_fixed_cost_prices()))}), so the total is the GPU fleet's cost alone. To fix: add "
        f"the region's rows from the AWS pricing pages named in the file."
    )


def stack_fixed_costs(stack_file: str | Path, plan: Plan) -> FixedCosts | None:
    """The fixed overhead of a stack file's fleet for the plan it deploys (its FleetOptions read as the program reads
    them); for the PR report's export."""
    from deploy.stack_config import load_stack_config, namespace_config
    from deploy.stack_file import read_stack_file

    raw = read_stack_file(stack_file)
    stack = load_stack_config(namespace_config(raw), aws_region=raw.get("aws:region"))
    return fixed_costs(plan, stack.fleet)


def fixed_cost_json(costs: FixedCosts | None, plan: Plan) -> dict:
    """The keys `plan --stack --json` adds: the items (each with its total), the overhead and the total with the fleet
    (None where the region has no prices)."""
    if costs is None:
        return {
            "fixed_costs": None,
            "fixed_cost_usd_per_hour": None,
            "total_hourly_cost_usd": None,
            "total_monthly_cost_usd": None,
        }
    return {
        "fixed_costs": [{**i.model_dump(mode="json"), "total_usd_per_hour": i.total_usd_per_hour} for i in costs.items],
        "fixed_cost_usd_per_hour": costs.usd_per_hour,
        "total_hourly_cost_usd": plan.hourly_cost_usd + costs.usd_per_hour,
        "total_monthly_cost_usd": plan.monthly_cost_usd + costs.usd_per_month,
    }


def fixed_cost_lines(costs: FixedCosts | None, plan: Plan) -> list[str]:
    """The overhead for people: each kind, the assumptions it used, and the total with the fleet."""
    if costs is None:
        return ["", unpriced_notice(plan.region)]
    share = costs.usd_per_month / plan.monthly_cost_usd if plan.monthly_cost_usd else 0.0
    lines = [
        "",
        f"Fixed overhead (what the stack creates besides its instances; {costs.region}, prices as of "
        f"{costs.prices_as_of}): ${costs.usd_per_hour:,.2f}/h, ${costs.usd_per_month:,.0f}/month, +{share:.1%} on "
        f"the fleet's ${plan.monthly_cost_usd:,.0f}/month",
    ]
    lines += [_item_line(i, costs.hours_per_month) for i in costs.items]
    lines += [
        f"  assumed: {'; '.join(assumptions_used(costs))}; data processing (NAT gateway, endpoints) and "
        "Secrets Manager "
        "calls not counted",
        f"Total: ${plan.hourly_cost_usd + costs.usd_per_hour:,.2f}/h, "
        f"${plan.monthly_cost_usd + costs.usd_per_month:,.0f}/month (fleet + fixed overhead)",
    ]
    return lines


def _item_line(item: FixedCost, hours_per_month: float) -> str:
    each, month = f"${item.usd_per_hour:.6f}/h", f"${item.total_usd_per_hour * hours_per_month:,.2f}/month"
    return f"  {item.count:>4} x {LABELS[item.name]:<48}{each:>14} each{month:>16}"


def assumptions_used(costs: FixedCosts) -> list[str]:
    """The usage assumptions behind the items shown (the plan's text and the PR report say them alike)."""
    names, a = {i.name for i in costs.items}, costs.assumptions
    return ([f"{a.alb_lcus:g} LCU per ALB"] if "alb_lcu" in names else []) + (
        [f"{a.log_gb_per_node_month:g} GB of logs per node-month"] if "log_ingestion" in names else []
    ) + ([f"a {a.image_gb:g} GB image"] if "image_cache" in names else []) or ["none"]
