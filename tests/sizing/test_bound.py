"""Branch and bound for the searches that keep only their best candidate (sizing/planner/bound.py): the floor it puts
under a placement's hourly cost is never above what the placement's fleet really costs, and a best-only search returns
the same best candidate (or, with none, the same rejections) as the full search."""

import itertools

import pytest

from sizing.models.presets import load_preset
from sizing.planner import bound as bound_module
from sizing.planner.bound import CheapestBound, cheapest_bound
from sizing.planner.pricing import candidate
from sizing.planner.request import Deployment, PlanRequest, Workload
from sizing.planner.search import search

MODELS = ("llama-3.1-8b", "llama-3.1-70b", "mixtral-8x7b", "qwen3-32b")
WORKLOADS = (
    Workload(concurrency=4, ttft_ms=1000, tpot_ms=30),
    Workload(concurrency=128, input_tokens=4096, output_tokens=256, tpot_ms=60, headroom_replicas=1),
    Workload(requests_per_second=5.0, ttft_ms=5000),
)
DEPLOYMENTS = (
    Deployment(weights="auto"),
    Deployment(weights="native", purchase="mixed", region="us-west-2"),
    Deployment(weights="auto", kv_dtype="fp8", purchase="on-demand", region="eu-west-1"),
)


def _requests() -> list[PlanRequest]:
    """Every third request of models x workloads x deployments (each model, workload and deployment several times;
    the suite's time is budgeted)."""
    every = [
        PlanRequest(model=load_preset(m), workload=w, deployment=d)
        for m, w, d in itertools.product(MODELS, WORKLOADS, DEPLOYMENTS)
    ]
    return every[::3]


@pytest.mark.parametrize("req", _requests(), ids=lambda r: f"{r.model.name}")
def test_the_floor_is_under_every_priced_fleet(req):
    ranked, _, _ = search(req, {})
    floors = CheapestBound(req)
    for x in ranked:
        assert floors.floor_usd_per_hour(x.placement) <= x.costs.hourly_usd * (1 + 1e-12), x.placement


@pytest.mark.parametrize("req", _requests(), ids=lambda r: f"{r.model.name}")
def test_a_best_only_search_finds_the_full_search_s_best(req):
    full, full_rejected, _ = search(req, {})
    best, best_rejected, _ = search(req, {}, best_only=True)
    if not full:
        assert best == [] and best_rejected == full_rejected
        return
    assert candidate(req, best[0]) == candidate(req, full[0])
    assert len(best) <= len(full)


def test_a_bound_only_for_interactive_best_only_searches():
    req = _requests()[0]
    assert cheapest_bound(req, best_only=False) is None
    batch = req.model_copy(update={"workload": req.workload.model_copy(update={"kind": "batch"})})
    assert cheapest_bound(batch, best_only=True) is None
    assert cheapest_bound(req, best_only=True) is not None


def test_without_the_cost_band_a_best_only_search_loses_the_ranking_s_choice(monkeypatch):
    """The broken case: pruning at the cheapest cost itself (no band) drops candidates the ranking would pick over the
    cheapest (fewer nodes per replica or a shorter time in the system within 5% of its cost)."""
    monkeypatch.setattr(bound_module, "RANK_COST_BAND", 0.0)
    differ = 0
    for req in _requests():
        full, _, _ = search(req, {})
        best, _, _ = search(req, {}, best_only=True)
        differ += bool(full) and (not best or candidate(req, best[0]) != candidate(req, full[0]))
    assert differ > 0


def _fleet_cases():
    """Purchase options, floors, spares, given spot prices (below, at and above on demand) and placement shapes."""
    from sizing.catalog.instances import get_instance_type

    instance = get_instance_type("p5.48xlarge")  # sold on demand and as Capacity Blocks in us-east-1
    od = instance.od_usd_per_hour["us-east-1"]
    for purchase, floor, headroom, spot, shape in itertools.product(
        (None, "on-demand", "mixed", "capacity-block"),
        (None, 0.5, 1.0),
        (0, 2),
        (None, 0.2 * od, 1.5 * od),
        ((1, 1), (1, 4), (2, 1)),  # (nodes per replica, replicas per instance)
    ):
        workload = Workload(concurrency=4, headroom_replicas=headroom, on_demand_floor=floor)
        given = {instance.name: spot} if spot else None
        deployment = Deployment(purchase=purchase, spot_usd_per_hour=given)
        yield PlanRequest(model=load_preset("llama-3.1-8b"), workload=workload, deployment=deployment), instance, shape


def test_the_floor_is_under_the_fleet_of_any_number_of_replicas():
    """Economics itself, not a search: for 1 to 40 required replicas and a long cold start, fleet_costs never comes
    under the floor (a change to fleet_costs that breaks the bound fails here)."""
    from types import SimpleNamespace

    from sizing.planner.economics import fleet_costs, split_fleet

    for req, instance, (nodes, per) in _fleet_cases():
        placement = SimpleNamespace(instance=instance, nodes_per_replica=nodes, replicas_per_instance=per)
        floor = CheapestBound(req).floor_usd_per_hour(placement)  # type: ignore[arg-type]
        w, d = req.workload, req.deployment
        for replicas in range(1, 41):
            fleet = split_fleet(w, d, replicas, per, nodes)
            cost = fleet_costs(instance, d.region, d, fleet, nodes, 3600.0, req.assumptions).hourly_usd
            assert floor <= cost * (1 + 1e-12), (
                d.purchase,
                w.on_demand_floor,
                w.headroom_replicas,
                nodes,
                per,
                replicas,
            )


def test_a_floor_at_the_on_demand_price_throughout_is_over_some_fleet_s_cost():
    """The broken case: a floor that priced every instance on demand, ignoring the spot share a fleet may buy (an
    on-demand floor under 1, 'mixed', a given spot price), sits above fleets the search would price."""
    from sizing.planner.bound import unit_rates_usd_per_hour
    from sizing.planner.economics import fleet_costs, instances_for, split_fleet

    broken = []
    for req, instance, (nodes, per) in _fleet_cases():
        w, d = req.workload, req.deployment
        od_rate, _ = unit_rates_usd_per_hour(req, instance)
        floor = (instances_for(1, per, nodes) + w.headroom_replicas * nodes) * od_rate
        for replicas in range(1, 41):
            fleet = split_fleet(w, d, replicas, per, nodes)
            broken.append(floor > fleet_costs(instance, d.region, d, fleet, nodes, 0.0, req.assumptions).hourly_usd)
    assert any(broken)
