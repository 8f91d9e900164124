"""Purchase options and what they really cost: on-demand, spot (with the cold start an interruption costs), or a mix."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sizing.catalog.assumptions import Assumptions
from sizing.catalog.instances import InstanceType
from sizing.planner.request import Deployment, PurchaseOption, Workload
from sizing.units import SECONDS_PER_HOUR


@dataclass(frozen=True)
class Fleet:
    """How many replicas and instances, bought how."""

    replicas: int
    """Replicas, headroom included, and every free slot on the instances paid for filled."""
    instances: int
    """Instances in all."""
    on_demand_instances: int
    """Instances bought on demand."""
    spot_instances: int
    """Instances bought on spot."""
    purchase: PurchaseOption
    """on-demand, spot or mixed."""


@dataclass(frozen=True)
class Costs:
    """Hourly cost of a fleet, USD."""

    on_demand_usd_per_hour: float
    """Price of one non-spot instance: the on-demand list price, or the Capacity Block rate for 'capacity-block'."""
    spot_usd_per_hour: float
    """Spot price of one instance (live if pre-flight gave one, else catalog discount)."""
    interruption_usd_per_hour: float
    """Expected cost of spot interruptions for the whole fleet: cold starts paid without serving."""
    capacity_risk_usd_per_hour: float
    """Expected extra cost of spot capacity not obtained: those units run on demand instead."""
    hourly_usd: float
    """Fleet cost per hour, interruptions included."""


def instances_for(replicas: int, replicas_per_instance: int, nodes_per_replica: int) -> int:
    """Instances needed for this many replicas."""
    if nodes_per_replica > 1:
        return replicas * nodes_per_replica
    return math.ceil(replicas / replicas_per_instance)


def on_demand_instances(w: Workload, d: Deployment, required: int, per_instance: int, nodes: int, total: int) -> int:
    """Instances bought on demand: the floor's share of the required replicas, plus the spare when it is on demand.
    A forced 'mixed' moves what the floor does not protect to spot (or, with no floor, keeps one replica on demand);
    it never moves a floor replica, so a multi-node winner cannot turn an interactive floor into spot."""
    if d.purchase in ("on-demand", "capacity-block"):
        return total
    if d.purchase == "spot":
        return 0
    floor = instances_for(math.ceil(required * w.floor_share), per_instance, nodes) if w.floor_share else 0
    spare = total - instances_for(required, per_instance, nodes)
    od = min(total, floor + (spare if d.spare_purchase_for(w.kind) == "on-demand" else 0))
    if d.purchase == "mixed" and total > nodes:
        if od == total and floor < total:
            od = max(floor, nodes)  # what the floor does not protect goes to spot; a floor of everything stays
        elif od == 0:
            od = nodes
    return od


def split_fleet(w: Workload, d: Deployment, required: int, per_instance: int, nodes: int) -> Fleet:
    """Instances for the required replicas plus headroom, every slot filled, and the on-demand / spot split.

    Headroom counts failure domains: with several replicas on one instance, N+1 adds an instance, so that losing any
    one instance still leaves the required replicas. Interactive keeps the required replicas on demand by default
    (on_demand_floor lowers that share) and the spare too (Deployment.spare_purchase); batch goes to spot; a forced
    purchase option wins."""
    total = instances_for(required, per_instance, nodes) + w.headroom_replicas * nodes
    replicas = total * per_instance if nodes == 1 else total // nodes
    od = on_demand_instances(w, d, required, per_instance, nodes, total)
    spot = total - od
    purchase: PurchaseOption = (
        "capacity-block"
        if d.purchase == "capacity-block"
        else "on-demand"
        if spot == 0
        else ("spot" if od == 0 else "mixed")
    )
    return Fleet(replicas=replicas, instances=total, on_demand_instances=od, spot_instances=spot, purchase=purchase)


def spot_unfilled_share(instance: InstanceType, nodes: int, a: Assumptions) -> float:
    """Probability that a spot unit (one instance, or every node of a multi-node replica at once) cannot be had."""
    per_instance = (
        a.spot_unfilled_share_scarce if instance.facts.spot_capacity == "scarce" else a.spot_unfilled_share_plentiful
    )
    return 1 - (1 - per_instance) ** nodes


def spot_usd_per_hour(instance: InstanceType, od_usd_per_hour: float, d: Deployment) -> float:
    """The spot price of one instance: the one given or found live (Deployment.spot_price), else the on-demand price
    less the catalog's spot discount."""
    known = d.spot_price(instance.name)
    return known[0] if known else od_usd_per_hour * (1 - instance.facts.spot_discount)


def fleet_costs(
    instance: InstanceType, region: str, d: Deployment, fleet: Fleet, nodes: int, cold_s: float, a: Assumptions
) -> Costs:
    """Hourly cost, spot risk priced in two parts.

    Loss: a spot unit (an instance, or a multi-node replica, which dies with any of its nodes, so it is interrupted
    nodes times as often) sits idle for a cold start after each interruption; every node of it is paid meanwhile.
    Capacity: a spot unit left unfilled runs on demand instead (the fallback), with probability spot_unfilled_share."""
    if fleet.purchase == "capacity-block":  # reserved, never interrupted: every instance at the block's rate
        block = instance.capacity_block_usd_per_hour[region]
        return Costs(
            on_demand_usd_per_hour=block,
            spot_usd_per_hour=0.0,
            interruption_usd_per_hour=0.0,
            capacity_risk_usd_per_hour=0.0,
            hourly_usd=fleet.instances * block,
        )
    od = instance.od_usd_per_hour[region]
    spot = spot_usd_per_hour(instance, od, d)
    spot_units = fleet.spot_instances / nodes
    unit_interruptions_per_hour = nodes * instance.facts.interruptions_per_month / a.hours_per_month
    interruption = spot_units * unit_interruptions_per_hour * (cold_s / SECONDS_PER_HOUR) * nodes * spot
    capacity_risk = fleet.spot_instances * spot_unfilled_share(instance, nodes, a) * max(od - spot, 0.0)
    hourly = fleet.on_demand_instances * od + fleet.spot_instances * spot + interruption + capacity_risk
    return Costs(
        on_demand_usd_per_hour=od,
        spot_usd_per_hour=spot,
        interruption_usd_per_hour=interruption,
        capacity_risk_usd_per_hour=capacity_risk,
        hourly_usd=hourly,
    )
