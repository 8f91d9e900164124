"""Purchase options and what they really cost: on-demand, spot (with the cold start an interruption costs), or a mix."""

from __future__ import annotations

import math
from dataclasses import dataclass

from sizing.catalog.assumptions import Assumptions
from sizing.catalog.instances import InstanceType
from sizing.planner.request import Deployment, PurchaseOption, Workload
from sizing.planner.cold_start import cold_start

SECONDS_PER_HOUR = 3600


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
    """On-demand price of one instance."""
    spot_usd_per_hour: float
    """Spot price of one instance (live if pre-flight gave one, else catalog discount)."""
    interruption_usd_per_hour: float
    """Expected cost of spot interruptions for the whole fleet: cold starts paid without serving."""
    hourly_usd: float
    """Fleet cost per hour, interruptions included."""


def cold_start_s(instance: InstanceType, weight_bytes_per_node: float, a: Assumptions) -> float:
    """Seconds from launch to serving: pull the image, download and load this node's weights (at the real network and
    disk rates, sizing/planner/cold_start.py), start the engine."""
    return cold_start(instance, weight_bytes_per_node, weight_bytes_per_node, a).total_s


def instances_for(replicas: int, replicas_per_instance: int, nodes_per_replica: int) -> int:
    """Instances needed for this many replicas."""
    if nodes_per_replica > 1:
        return replicas * nodes_per_replica
    return math.ceil(replicas / replicas_per_instance)


def split_fleet(w: Workload, d: Deployment, required: int, per_instance: int, nodes: int) -> Fleet:
    """Instances for the required replicas plus headroom, every slot filled, and the on-demand / spot split.

    Headroom counts failure domains: with several replicas on one instance, N+1 adds an instance, so that losing any
    one instance still leaves the required replicas. Interactive keeps the required replicas on demand by default
    (headroom may go to spot); batch goes to spot; a forced purchase option wins."""
    headroom_instances = w.headroom_replicas * nodes
    total = instances_for(required, per_instance, nodes) + headroom_instances
    replicas = total * per_instance if nodes == 1 else total // nodes
    if d.purchase == "on-demand":
        floor = replicas
    elif d.purchase == "spot":
        floor = 0
    else:
        floor = min(replicas, math.ceil(required * w.floor_share))
    od = min(total, instances_for(floor, per_instance, nodes)) if floor else 0
    if d.purchase == "mixed" and total > 1 and od in (0, total):
        od = nodes if od == 0 else total - nodes
    spot = total - od
    purchase: PurchaseOption = "on-demand" if spot == 0 else ("spot" if od == 0 else "mixed")
    return Fleet(replicas=replicas, instances=total, on_demand_instances=od, spot_instances=spot, purchase=purchase)


def fleet_costs(
    instance: InstanceType, region: str, d: Deployment, fleet: Fleet, nodes: int, cold_s: float, hours_per_month: float
) -> Costs:
    """Hourly cost. A spot interruption costs a cold start on the replacement, and for a multi-node replica every
    node of it sits idle meanwhile."""
    od = instance.od_usd_per_hour[region]
    known = d.spot_price(instance.name)
    spot = known[0] if known else od * (1 - instance.facts.spot_discount)
    rate_per_hour = instance.facts.interruptions_per_month / hours_per_month
    interruption = fleet.spot_instances * rate_per_hour * (cold_s / SECONDS_PER_HOUR) * spot * nodes
    hourly = fleet.on_demand_instances * od + fleet.spot_instances * spot + interruption
    return Costs(on_demand_usd_per_hour=od, spot_usd_per_hour=spot, interruption_usd_per_hour=interruption, hourly_usd=hourly)
