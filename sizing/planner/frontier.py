"""What the plan says beyond its choice: the cost x latency frontier of the chosen instance type, and the outage a
single node loss causes when the fleet has no spare."""

from __future__ import annotations

from collections.abc import Callable

from sizing.planner.pricing import Priced
from sizing.planner.request import PlanRequest, Workload
from sizing.planner.results import Candidate, FrontierPoint, Rejection
from sizing.units import MS_PER_S

FRONTIER_TPOT_FACTORS = (0.5, 0.75, 1.0, 1.5, 2.0)
"""TPOT targets of the frontier, as multiples of the workload's TPOT target (its p95 target when it gives only that;
the choice's mean TPOT when it gives neither)."""


def frontier(
    req: PlanRequest, choice: Candidate, search: Callable[[PlanRequest], tuple[list[Priced], list[Rejection]]]
) -> tuple[FrontierPoint, ...]:
    """For the chosen instance type and weight format, the cheapest plan at each frontier TPOT target (the workload's
    other targets kept): what a tighter or looser inter-token latency costs."""
    w = req.workload
    field = "tpot_p95_ms" if w.tpot_p95_ms and not w.tpot_ms else "tpot_ms"
    base = getattr(w, field) or choice.tpot_ms
    only_chosen = req.deployment.model_copy(
        update={"instance_types": (choice.instance_type,), "weights": choice.weights or req.deployment.weights}
    )
    points = []
    for factor in FRONTIER_TPOT_FACTORS:
        target = round(base * factor, 1)
        if factor == 1.0:  # the plan itself (without a TPOT target, the choice's own TPOT is the base)
            points.append(_point(target, choice))
            continue
        sub = req.model_copy(update={"workload": w.model_copy(update={field: target}), "deployment": only_chosen})
        ranked, rejected = search(sub)
        if not ranked:
            nearest = _nearest_latency_miss(rejected)
            points.append(
                FrontierPoint(
                    tpot_target_ms=target,
                    feasible=False,
                    reason=nearest.reason if nearest else "no layout of this type fits",
                )
            )
            continue
        points.append(_priced_point(sub, target, ranked[0]))
    return tuple(points)


def _nearest_latency_miss(rejected: list[Rejection]) -> Rejection | None:
    """The rejection that explains an infeasible TPOT target: the nearest latency miss (a layout that starts but is too
    slow), else the nearest miss of any kind (nothing of this type starts)."""
    missed = [r for r in rejected if r.relative_miss is not None]
    latency = [r for r in missed if r.kind in ("tpot", "ttft", "latency")]
    return min(latency or missed, key=lambda r: r.relative_miss or 0.0, default=None)


def _priced_point(req: PlanRequest, target_ms: float, x: Priced) -> FrontierPoint:
    """A frontier point straight from the ranking (no full Candidate: the frontier shows cost and latency only)."""
    at = x.at_load
    return FrontierPoint(
        tpot_target_ms=target_ms,
        feasible=True,
        tensor_parallel=x.placement.layout.tp,
        pipeline_parallel=x.placement.layout.pp,
        data_parallel=x.placement.layout.dp,
        expert_parallel=x.placement.layout.ep,
        replicas=x.fleet.replicas,
        instances=x.fleet.instances,
        hourly_cost_usd=x.costs.hourly_usd,
        tpot_ms=at.tpot_s * MS_PER_S,
        ttft_ms=at.ttft_s * MS_PER_S,
        concurrency_per_replica=x.fit.concurrency,
    )


def _point(target_ms: float, c: Candidate) -> FrontierPoint:
    return FrontierPoint(
        tpot_target_ms=target_ms,
        feasible=True,
        tensor_parallel=c.tensor_parallel,
        pipeline_parallel=c.pipeline_parallel,
        data_parallel=c.data_parallel,
        expert_parallel=c.expert_parallel,
        replicas=c.replicas,
        instances=c.instances,
        hourly_cost_usd=c.hourly_cost_usd,
        tpot_ms=c.tpot_ms,
        ttft_ms=c.ttft_ms,
        concurrency_per_replica=c.concurrency_per_replica,
    )


def single_failure_domain_warning(w: Workload, c: Candidate) -> str | None:
    """An interactive fleet whose every replica sits in one failure domain (one node, or the nodes of one replica),
    with no spare: a single node loss is a full outage until a replacement boots."""
    if w.kind != "interactive" or w.headroom_replicas or c.instances > c.nodes_per_replica:
        return None
    return (
        f"no spare: the whole fleet ({c.replicas} replica{'s' if c.replicas != 1 else ''} on {c.instances} node"
        f"{'s' if c.instances != 1 else ''}) is one failure domain, so losing a single node drops 100% of capacity "
        f"(all {c.planned_concurrency_per_replica * c.replicas_required:,.0f} requests in flight) for about "
        f"{c.cold_start_s / 60:.0f} min until a replacement serves; "
        "add headroom_replicas=1 for N+1"
    )
