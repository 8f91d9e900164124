"""Branch and bound for the searches that keep only their best candidate (the FP8-KV alternative, the frontier's
points): a placement whose hourly cost cannot come within the ranking's cost band of the cheapest fleet found so far
can neither be the cheapest nor rank beside it, so its replica is never sized. The main search sizes every placement
(its plan lists them all); these searches return the same best candidate as a full one (tests/sizing/test_bound.py).

Interactive work only: it ranks by the hourly cost first (sizing/planner/ranking.py), and an hourly cost has a floor
known before any sizing. Batch work ranks by the cost per token or of the job, which needs the replica's speed."""

from __future__ import annotations

import math

from sizing.catalog.instances import InstanceType
from sizing.planner.economics import instances_for, on_demand_instances, spot_usd_per_hour
from sizing.planner.layouts import Placement
from sizing.planner.pricing import Priced
from sizing.planner.ranking import RANK_COST_BAND
from sizing.planner.request import PlanRequest

FLOAT_SLACK = 1e-9
"""Relative slack on the pruning test: a fleet whose cost equals the floor is summed differently (on-demand and spot
parts) and may differ from it in the last bits; pruning only past this keeps such a fleet in the search."""


def unit_rates_usd_per_hour(req: PlanRequest, instance: InstanceType) -> tuple[float, float]:
    """(what an instance bought on demand costs an hour, the least any instance of the type can cost an hour): the
    Capacity Block rate for both under 'capacity-block', else the on-demand price and the cheaper of it and the spot
    price (economics.fleet_costs adds interruptions and unfilled spot on top, never less than zero). (0, 0) where the
    catalog has no price for the region: then nothing is pruned."""
    d = req.deployment
    if d.purchase == "capacity-block":
        block = instance.capacity_block_usd_per_hour.get(d.region, 0.0)
        return block, block
    od = instance.od_usd_per_hour.get(d.region)
    if od is None:
        return 0.0, 0.0
    return od, max(min(od, spot_usd_per_hour(instance, od, d)), 0.0)


class CheapestBound:
    """The cheapest hourly cost found so far by a search that keeps only its best interactive candidate."""

    def __init__(self, req: PlanRequest) -> None:
        self.req = req
        self.best_usd_per_hour = math.inf
        self._floors: dict[tuple[str, int, int], float] = {}

    def floor_usd_per_hour(self, p: Placement) -> float:
        """A floor under the hourly cost of any fleet of this placement: the fleet of one required replica (a fleet
        needs at least one), its on-demand instances at the on-demand rate and the rest at the least the type can cost.
        A fleet of more replicas has at least as many instances and, unless its purchase is 'mixed' (which may move
        instances to spot as it grows, so none count as on demand here), at least as many on demand
        (economics.on_demand_instances: the floor's share grows with the replicas, the spare does not shrink)."""
        key = (p.instance.name, p.replicas_per_instance, p.nodes_per_replica)
        floor = self._floors.get(key)
        if floor is None:
            req, instance = self.req, p.instance
            od_rate, least_rate = unit_rates_usd_per_hour(req, instance)
            w, d, nodes, per = req.workload, req.deployment, p.nodes_per_replica, p.replicas_per_instance
            total = instances_for(1, per, nodes) + w.headroom_replicas * nodes
            on_demand = 0 if d.purchase == "mixed" else on_demand_instances(w, d, 1, per, nodes, total)
            floor = self._floors[key] = on_demand * od_rate + (total - on_demand) * least_rate
        return floor

    def past(self, floor_usd_per_hour: float) -> bool:
        """A fleet whose cost is at least this floor cannot rank first: the floor is past the cost band of the
        cheapest fleet found."""
        return floor_usd_per_hour > self.best_usd_per_hour * (1 + RANK_COST_BAND) * (1 + FLOAT_SLACK)

    def offer(self, x: Priced) -> None:
        """A feasible candidate priced: the bound tightens to its cost if cheaper."""
        self.best_usd_per_hour = min(self.best_usd_per_hour, x.costs.hourly_usd)


def cheapest_bound(req: PlanRequest, best_only: bool) -> CheapestBound | None:
    """A bound for a search that keeps only its best candidate of interactive work; None: size every placement."""
    return CheapestBound(req) if best_only and req.workload.kind == "interactive" else None
