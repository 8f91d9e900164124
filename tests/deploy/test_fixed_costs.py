"""A stack's fixed overhead (issue 18, item 7): every priced item is a resource the program registers under mocks,
counted alike, and priced from sizing/data/fixed_costs.csv."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from deploy.fixed_costs import (
    FixedCostAssumptions,
    FixedCosts,
    created_usage,
    fixed_cost_json,
    fixed_costs,
    stack_fixed_costs,
)
from deploy.network_spec import INTERFACE_ENDPOINTS, SUBNETS_CREATED
from deploy.options import FleetOptions
from preview.mock_run import MockRun
from sizing.catalog.fixed_costs import BILLED_HOURLY, UNITS, all_fixed_cost_prices, fixed_cost_prices
from sizing.catalog.instances import all_regions
from sizing.cli.main import main
from sizing.planner.cold_start import GP3_BASELINE_IOPS, GP3_BASELINE_MIBPS
from sizing.planner.results import Plan
from tests.fleet_run import fleet_run
from tests.stack_runs import STACKS, stack_options, stack_run, user_data

SECRET = "aws:secretsmanager/secret:Secret"
STACK_REGIONS = ("us-east-1", "us-east-2", "us-west-2", "eu-west-1")
"""Regions the stacks and tests use: fixed_costs.csv must price each."""


def _kubernetes(run: MockRun, kind: str) -> list[dict[str, Any]]:
    return [
        r.inputs
        for r in run.resources
        if r.custom and r.type.startswith("kubernetes:") and r.inputs.get("kind") == kind
    ]


def _nodes(run: MockRun) -> int:
    """The GPU nodes at launch: the Auto Scaling group's desired capacity, or the workload's pods."""
    if run.of_type("Group"):  # the fleet's group (an on-demand fallback group starts empty)
        return _number(next(g for g in run.of_type("Group") if g.name.endswith("-replicas")).inputs["desiredCapacity"])
    workload = (_kubernetes(run, "Deployment") + _kubernetes(run, "LeaderWorkerSet"))[0]
    size = workload["spec"].get("leaderWorkerTemplate", {}).get("size", 1)
    return _number(workload["spec"]["replicas"]) * _number(size)


def _volumes(run: MockRun) -> list[dict[str, Any]]:
    """One node's EBS volumes: the launch template's, or the EC2NodeClass's."""
    if run.of_type("LaunchTemplate"):
        return [m["ebs"] for m in run.one("LaunchTemplate").inputs["blockDeviceMappings"]]
    return [m["ebs"] for m in _kubernetes(run, "EC2NodeClass")[0]["spec"]["blockDeviceMappings"]]


def _number(value: Any) -> int:
    """A recorded input as an int (the mocks record numbers as floats, the EC2NodeClass sizes as '140Gi')."""
    return int(float(str(value).removesuffix("Gi")))


def registered(run: MockRun) -> dict[str, tuple[int, float]]:
    """What the mocked program registered, as the overhead counts it: kind -> (count, quantity per resource)."""
    interface = [r for r in run.of_type("VpcEndpoint") if r.inputs["vpcEndpointType"] == "Interface"]
    albs = len(run.of_type("LoadBalancer")) + sum(
        1 for i in _kubernetes(run, "Ingress") if i["spec"].get("ingressClassName") == "alb"
    )
    nodes, volumes = _nodes(run), _volumes(run)
    logs = nodes if run.of_type("LogGroup") else 0
    throughput = sum(max(0, _number(v.get("throughput") or GP3_BASELINE_MIBPS) - GP3_BASELINE_MIBPS) for v in volumes)
    iops = sum(max(0, _number(v.get("iops") or GP3_BASELINE_IOPS) - GP3_BASELINE_IOPS) for v in volumes)
    found = {
        "interface_endpoint": (sum(len(r.inputs["subnetIds"]) for r in interface), 1.0),
        "nat_gateway": (len(run.of_type("NatGateway")), 1.0),
        "nat_public_ipv4": (len(run.of_type("Eip")), 1.0),
        "alb": (albs, 1.0),
        "alb_lcu": (albs, FixedCostAssumptions().alb_lcus),
        "api_key_secret": (sum(1 for r in run.resources if r.type == SECRET), 1.0),
        "log_ingestion": (logs, FixedCostAssumptions().log_gb_per_node_month),
        "log_storage": (logs, -1.0),
        "ebs_storage": (nodes, float(sum(_number(v["volumeSize"]) for v in volumes))),
        "ebs_throughput": (nodes if throughput else 0, float(throughput)),
        "ebs_iops": (nodes if iops else 0, float(iops)),
        **_monitoring(run, nodes),
        "weights_cache": (len(run.of_type("Bucket")), -1.0),
        "image_cache": (len(run.of_type("PullThroughCacheRule")), FixedCostAssumptions().image_gb),
    }
    return {name: value for name, value in found.items() if value[0]}


def _monitoring(run: MockRun, nodes: int) -> dict[str, tuple[int, float]]:
    """CloudWatch: the fleet metrics its alarms and dashboard read, the metrics each alarm lists, the dashboards, and
    the nodes' PutMetricData calls a month at their timer's interval (from the rendered user data)."""
    if not run.of_type("Dashboard"):
        return {}
    alarms = run.of_type("MetricAlarm")
    listed = [len([q for q in a.inputs.get("metricQueries") or [] if q.get("metric")]) or 1 for a in alarms]
    fleet_metrics = {a.inputs["metricName"] for a in alarms if a.inputs.get("namespace") == "LLMFleet"}
    for board in run.of_type("Dashboard"):
        fleet_metrics |= {
            m[1]
            for w in json.loads(board.inputs["dashboardBody"])["widgets"]
            for m in w["properties"]["metrics"]
            if m[0] == "LLMFleet"
        }
    every_s = int(
        re.search(r"llmfleet-metrics\.timer\" <<'UNIT'.*?OnUnitActiveSec=(\d+)", user_data(run), re.S).group(1)
    )
    plan = run.plan or stack_run("dev").plan  # ServingFleet runs record no plan: the same hours a month
    assert plan is not None
    calls = plan.assumptions.hours_per_month * 3600 / every_s
    return {
        "custom_metric": (len(fleet_metrics), 1.0),
        "alarm_metric": (sum(listed), 1.0),
        "dashboard": (len(run.of_type("Dashboard")), 1.0),
        "metric_requests": (nodes, calls / 1000),
    }


def priced(plan: Plan | None, options: FleetOptions) -> dict[str, tuple[int, float]]:
    """The overhead's counts for a plan (log storage's and the weights cache's quantities are derived, not registered:
    left out)."""
    assert plan is not None
    usage = created_usage(plan, options, FixedCostAssumptions())
    return {u.name: (u.count, -1.0 if u.name in ("log_storage", "weights_cache") else u.quantity) for u in usage}


@pytest.mark.parametrize("stack", ["dev", "prod", "eks", "batch"])
def test_every_priced_item_is_a_registered_resource(stack):
    run = stack_run(stack)
    assert priced(run.plan, stack_options(stack).fleet) == registered(run)


def test_the_dev_stack_prices_its_created_vpc():
    counts = {name: count for name, (count, _) in registered(stack_run("dev")).items()}
    assert counts["interface_endpoint"] == len(INTERFACE_ENDPOINTS) * SUBNETS_CREATED == 20
    assert counts["nat_gateway"] == counts["nat_public_ipv4"] == 1
    assert {"interface_endpoint", "nat_gateway"}.isdisjoint(registered(stack_run("prod")))  # an existing VPC: none


def test_eks_counts_the_secret_the_ingress_alb_and_the_node_volumes_only():
    assert set(registered(stack_run("eks"))) == {"alb", "alb_lcu", "api_key_secret", "ebs_storage"}
    assert set(registered(stack_run("batch"))) == {"api_key_secret", "ebs_storage"}  # no ingress: no ALB


PRIVATE = {"allowed_cidrs": ["10.0.0.0/8"]}
KEY_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:k-AbCdEf"


@pytest.mark.parametrize(
    "options, gone",
    [
        ({"public_node_ips": True}, {"interface_endpoint", "nat_gateway"}),
        ({"api_key_secret_arn": KEY_ARN}, {"api_key_secret"}),
    ],
)
def test_options_that_create_less_price_less(options, gone):
    run = fleet_run("fixedcost", **PRIVATE, **options)  # ServingFleet for the dev stack's plan with these options
    assert priced(stack_run("dev").plan, FleetOptions(**PRIVATE, **options)) == registered(run)
    assert gone.isdisjoint(registered(run)) and gone <= set(registered(stack_run("dev")))


def test_weights_on_the_root_volume_price_its_provisioned_throughput():
    dev = stack_run("dev").plan
    assert dev is not None
    big = dev.model_copy(update={"checkpoint": dev.checkpoint.model_copy(update={"download_bytes": 300e9})})
    run = fleet_run("fixedcost-gp3", plan=big, **PRIVATE)  # 300 GB does not fit g6e.xlarge's 250 GB NVMe disk
    found = registered(run)
    assert found["ebs_throughput"][1] > 0  # its IOPS stay at the baseline: 3,000 IOPS allow 750 MiB/s
    assert priced(big, FleetOptions(**PRIVATE)) == found


def test_prices_come_from_the_catalog_per_unit():
    plan = stack_run("dev").plan
    assert plan is not None
    costs = fixed_costs(plan, stack_options("dev").fleet)
    assert costs is not None
    prices, hours = fixed_cost_prices("us-east-1"), plan.assumptions.hours_per_month
    assert prices is not None
    usage = {u.name: u for u in created_usage(plan, stack_options("dev").fleet, FixedCostAssumptions())}
    for item in costs.items:
        u = usage[item.name]
        per = 1 if u.item in BILLED_HOURLY else hours
        assert item.usd_per_hour == pytest.approx(u.quantity * prices[u.item].usd / per)
    # confirmed us-east-1 figures: 20 endpoint-AZs at $0.01/h, one NAT gateway at $0.045/h, one ALB at $0.0225/h
    by_name = {i.name: i for i in costs.items}
    assert by_name["interface_endpoint"].total_usd_per_hour == pytest.approx(0.20)
    assert (by_name["nat_gateway"].usd_per_hour, by_name["alb"].usd_per_hour) == (0.045, 0.0225)
    assert by_name["api_key_secret"].usd_per_hour * hours == pytest.approx(0.40)


def test_the_catalog_prices_every_item_in_every_stack_region():
    prices = all_fixed_cost_prices()
    assert set(STACK_REGIONS) <= set(prices) <= set(all_regions())
    for region in prices:
        assert {p.unit for p in prices[region].values()} <= set(UNITS.values())
        assert all(p.source.startswith("https://aws.amazon.com/") for p in prices[region].values())
        assert all(p.confirmed or "unconfirmed" in p.source for p in prices[region].values())
    confirmed = {(p.item, r): p.usd for r in prices for p in prices[r].values() if p.confirmed}
    assert confirmed[("nat_gateway", "us-east-2")] == 0.045 and confirmed[("nat_gateway", "eu-west-1")] == 0.048
    assert confirmed[("alb", "us-east-1")] == 0.0225 and confirmed[("secret", "us-east-1")] == 0.40


def test_a_region_without_prices_has_no_overhead_and_says_so(capsys):
    plan = stack_run("dev").plan
    assert plan is not None
    elsewhere = plan.model_copy(update={"region": "ap-south-2"})
    assert fixed_costs(elsewhere, stack_options("dev").fleet) is None
    assert fixed_cost_json(None, elsewhere)["total_hourly_cost_usd"] is None


def test_the_report_export_reads_the_stack_file():
    plan = stack_run("prod").plan
    assert plan is not None
    costs = stack_fixed_costs(STACKS["prod"], plan)
    assert isinstance(costs, FixedCosts) and FixedCosts.model_validate_json(costs.model_dump_json()) == costs


def test_plan_with_a_stack_shows_the_overhead_and_the_total(capsys):
    capsys.readouterr()
    assert main(["plan", "--stack", str(STACKS["dev"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {i["name"] for i in data["fixed_costs"]} >= {"interface_endpoint", "nat_gateway", "alb", "api_key_secret"}
    assert all({"name", "count", "usd_per_hour", "source"} <= set(i) for i in data["fixed_costs"])
    assert data["total_hourly_cost_usd"] == pytest.approx(data["hourly_cost_usd"] + data["fixed_cost_usd_per_hour"])
    assert main(["plan", "--stack", str(STACKS["dev"])]) == 0
    text = capsys.readouterr().out
    assert "Fixed overhead" in text and "20 x interface VPC endpoint, per AZ" in text and "Total: $" in text


def test_a_plain_plan_has_no_fixed_costs(capsys):
    capsys.readouterr()
    assert main(["plan", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert not {"fixed_costs", "fixed_cost_usd_per_hour", "total_hourly_cost_usd"} & set(data)


def test_a_nat_gateway_per_zone_is_created_routed_and_priced():
    """nat_per_zone: one NAT gateway and address per zone, each private subnet routed through its own zone's; the
    fixed overhead counts both (options that create more price more)."""
    run = fleet_run("natzones", **PRIVATE, nat_per_zone=True)
    assert len(run.of_type("NatGateway")) == len(run.of_type("Eip")) == 2
    tables = {f"{t.name}-id" for t in run.of_type("RouteTable") if "natGatewayId" in json.dumps(t.inputs)}
    used = [a.inputs["routeTableId"] for a in run.of_type("RouteTableAssociation") if "private" in a.name]
    assert len(tables) == 2 and sorted(used) == sorted(tables)  # each private subnet through a NAT of its own
    gateway = next(e for e in run.of_type("VpcEndpoint") if e.inputs["vpcEndpointType"] == "Gateway")
    assert sorted(gateway.inputs["routeTableIds"]) == sorted(tables)
    assert priced(stack_run("dev").plan, FleetOptions(**PRIVATE, nat_per_zone=True)) == registered(run)
    assert registered(run)["nat_gateway"][0] == 2 * registered(stack_run("dev"))["nat_gateway"][0]
