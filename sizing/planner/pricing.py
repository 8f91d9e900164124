"""Pricing a feasible placement: replicas for the load, the fleet's purchase split and costs, and the Candidate
shown."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

from sizing.catalog.checkpoints import Checkpoint
from sizing.catalog.formats import WeightFormat
from sizing.catalog.instances import InstanceType
from sizing.planner.cold_start import node_cold_start
from sizing.planner.economics import Costs, Fleet, fleet_costs, split_fleet, spot_unfilled_share
from sizing.planner.job import deadline_rate, job_cost_usd, job_hours
from sizing.planner.layouts import Placement
from sizing.planner.replica import ReplicaFit
from sizing.planner.request import PlanRequest, Workload
from sizing.planner.results import Candidate
from sizing.speed.load import LoadPoint
from sizing.units import MS_PER_S, SECONDS_PER_HOUR, TOKENS_PER_MILLION


def _traffic(req: PlanRequest, cold_s: float) -> tuple[float | None, str]:
    """The request rate a candidate must sustain and the workload figure that sets it: the stated rate, or a batch
    job's deadline pace where that is faster (it depends on the candidate's cold start); None: closed loop."""
    w = req.workload
    rate, name = w.request_rate, w.rate_name
    job = deadline_rate(w, cold_s)
    if job is not None and (rate is None or job > rate):
        rate, name = job, "deadline_hours"
    return rate, name


def _replicas_required(req: PlanRequest, fit: ReplicaFit, rate: float | None, name: str) -> tuple[int, str]:
    """Replicas for the traffic: the rate over one replica's rate at capacity (the in-flight bound of Little's law is in
    that capacity), or, with no rate, the closed-loop clients over the clients one replica holds."""
    if rate:
        return math.ceil(rate / fit.requests_per_s), name
    return math.ceil(req.workload.clients / fit.concurrency), "concurrency"


def planned_load(req: PlanRequest, fit: ReplicaFit, replicas: int, rate: float | None = None) -> LoadPoint:
    """Steady state of one replica when `replicas` share the workload: open loop at its share of the rate when there is
    one (the requests in flight follow from it), else closed loop with its share of the clients. The latencies a plan
    reports are this point's."""
    return _planned_load(req.workload, fit, replicas, rate)


def _planned_load(w: Workload, fit: ReplicaFit, replicas: int, rate: float | None) -> LoadPoint:
    load = fit.load
    rate = rate if rate is not None else w.request_rate
    if rate:
        point = load.open_loop(rate / replicas)
        return point if point is not None else load.peak()
    return load.closed_loop(w.clients / replicas)


def _notes(req: PlanRequest, p: Placement, fleet: Fleet, costs: Costs) -> tuple[str, ...]:
    notes = []
    if p.layout.tp > 1 and p.instance.gpu_link == "pcie":
        notes.append(f"TP={p.layout.tp} all-reduces cross PCIe (no NVLink on {p.instance.name}); their cost is in TPOT")
    if fleet.spot_instances:
        unfilled = spot_unfilled_share(p.instance, p.nodes_per_replica, req.assumptions)
        notes.append(
            f"spot risk priced in: ${costs.interruption_usd_per_hour:,.4f}/h of cold starts after interruptions "
            f"({p.instance.facts.interruption_band} a month per node) + ${costs.capacity_risk_usd_per_hour:,.2f}/h "
            f"for the {unfilled:.0%} of {p.instance.facts.spot_capacity} spot capacity expected unfilled "
            "(run on demand instead)"
        )
    elif req.deployment.purchase == "mixed":
        notes.append(
            f"purchase 'mixed': the on-demand floor ({req.workload.floor_share:g} of {fleet.replicas} replica(s)) "
            "and the on-demand spare cover the whole fleet, so nothing goes to spot"
        )
    if p.nodes_per_replica > 1:
        notes.append(f"multi-node replica: losing any of its {p.nodes_per_replica} nodes takes the whole replica down")
    return tuple(notes)


RANK_KEY_NAMES = (
    "hourly cost",
    "GPUs",
    "nodes per replica",
    "pipeline stages",
    "requests/s the fleet serves at capacity",
    "TPOT at capacity",
)
"""What each element of Priced.rank_key measures, in order."""
RANK_TPOT_DECIMALS_S = 4
RANK_RATE_DIGITS = 3
"""TPOT compares to 0.1 ms and the request rate a fleet serves at capacity to 3 significant digits: finer differences
are the load model's root tolerance (0.1%), not a reason to prefer one layout, so such candidates tie and keep the
search's order. Spare capacity is a rate, not the users held: under the interactive utilization ceiling a replica's
capacity is a share of its sustainable rate, and the users it then holds (rate x time in the system, Little's law)
grow as it gets slower, which would rank a slower layout or format above a faster one of the same cost."""


@dataclass(frozen=True)
class Priced:
    """A feasible placement with its fleet and costs, before it becomes a Candidate (only the few shown are built)."""

    placement: Placement
    """Instance type, layout and nodes per replica."""
    fit: ReplicaFit
    """One replica's memory and its capacity within the latency targets."""
    required: int
    """Replicas the workload needs at that capacity (before headroom and filling paid-for slots)."""
    sized_by: str
    """The workload figure that set `required`: concurrency, requests_per_second or output_tokens_per_second."""
    fleet: Fleet
    """Replicas and instances bought, and how."""
    cold_s: float
    """Cold start of one node, seconds (node_cold_start_s)."""
    costs: Costs
    """Hourly costs, spot risk included."""
    fmt: WeightFormat
    """The weight format served."""
    rate: float | None
    """Requests/s the fleet sustains (None: closed loop with the workload's clients)."""
    workload: Workload
    """The traffic the fleet serves (its clients and output length set the planned load)."""
    job_hours: float | None
    """A batch job's hours from launch to its last token, every replica at capacity (None: no job)."""
    job_cost_usd: float | None
    """What the batch job pays (sizing/planner/job.py; None: no job)."""

    @cached_property
    def at_load(self) -> LoadPoint:
        """One replica at the planned load (planned_load). Solved when first read: the ranking reads it for the
        candidates within the cost band only, and a search prices hundreds."""
        return _planned_load(self.workload, self.fit, self.required, self.rate)

    @property
    def served_tokens_per_s(self) -> float:
        """Output tokens/s the cost per token is computed on: the rate's, or the fleet's at the clients' closed loop."""
        if self.rate:
            return self.rate * self.workload.output_tokens
        return self.at_load.output_tokens_per_s * self.required

    @property
    def cost_per_million_tokens_usd(self) -> float:
        """Hourly cost over millions of output tokens served per hour."""
        return self.costs.hourly_usd / (self.served_tokens_per_s * SECONDS_PER_HOUR / TOKENS_PER_MILLION)

    @cached_property
    def rank_key(self) -> tuple:
        """Cheapest first; at equal cost fewer GPUs, single-node, less PP, more spare capacity (requests/s at capacity),
        then lower TPOT at the replica's capacity. RANK_KEY_NAMES says what each element is (for "why it lost")."""
        p = self.placement
        rate = float(f"{self.fit.requests_per_s * self.fleet.replicas:.{RANK_RATE_DIGITS}g}")
        return (
            round(self.costs.hourly_usd, 6),
            self.fleet.instances * p.instance.whole_gpus,
            p.nodes_per_replica,
            p.layout.pp,
            -rate,
            round(self.fit.tpot_s, RANK_TPOT_DECIMALS_S),
        )


def node_cold_start_s(req: PlanRequest, instance: InstanceType, checkpoint: Checkpoint) -> float:
    """Cold start of one node of this type, seconds: the same for every layout of the type (node_cold_start)."""
    return node_cold_start(instance, checkpoint.download_bytes, req.assumptions).total_s


def price(req: PlanRequest, p: Placement, fit: ReplicaFit, cold: float, fmt: WeightFormat) -> Priced:
    """Replicas, fleet and costs of a placement whose nodes take `cold` seconds to serve (node_cold_start_s)."""
    w, d, a = req.workload, req.deployment, req.assumptions
    rate, name = _traffic(req, cold)
    required, sized_by = _replicas_required(req, fit, rate, name)
    fleet = split_fleet(w, d, required, p.replicas_per_instance, p.nodes_per_replica)
    costs = fleet_costs(p.instance, d.region, d, fleet, p.nodes_per_replica, cold, a)
    hours = job_hours(w, cold, fit.output_tokens_per_s * fleet.replicas)
    cost = job_cost_usd(hours, costs.hourly_usd, fleet.purchase == "capacity-block") if hours is not None else None
    return Priced(p, fit, required, sized_by, fleet, cold, costs, fmt, rate, w, hours, cost)


def candidate(req: PlanRequest, x: Priced) -> Candidate:
    p, fit, fleet, costs = x.placement, x.fit, x.fleet, x.costs
    at_load, served = x.at_load, x.served_tokens_per_s
    return Candidate(
        instance_type=p.instance.name,
        gpu=p.instance.gpu.name,
        gpus_per_instance=p.instance.whole_gpus,
        weights=x.fmt.name,
        tensor_parallel=p.layout.tp,
        pipeline_parallel=p.layout.pp,
        expert_parallel=p.layout.ep,
        data_parallel=p.layout.dp,
        nodes_per_replica=p.nodes_per_replica,
        replicas_per_instance=p.replicas_per_instance,
        replicas_required=x.required,
        replicas=fleet.replicas,
        sized_by=x.sized_by,
        instances=fleet.instances,
        on_demand_instances=fleet.on_demand_instances,
        spot_instances=fleet.spot_instances,
        purchase=fleet.purchase,
        batch_per_replica=fit.batch,
        ttft_ms=at_load.ttft_s * MS_PER_S,
        tpot_ms=at_load.tpot_s * MS_PER_S,
        ttft_p95_ms=at_load.ttft_p95_s * MS_PER_S,
        tpot_p95_ms=at_load.tpot_p95_s * MS_PER_S,
        planned_concurrency_per_replica=at_load.concurrency,
        concurrency_per_replica=fit.concurrency,
        time_in_system_ms=at_load.time_in_system_s * MS_PER_S,
        prefill_share=fit.capacity.prefill_share,
        saturation_concurrency=fit.load.saturation_concurrency(),
        max_requests_per_second_per_replica=fit.load.max_request_rate(),
        output_tokens_per_second_per_replica=fit.output_tokens_per_s,
        requests_per_second_per_replica=fit.requests_per_s,
        served_output_tokens_per_second=served,
        cold_start_s=x.cold_s,
        on_demand_usd_per_hour=costs.on_demand_usd_per_hour,
        spot_usd_per_hour=costs.spot_usd_per_hour,
        interruption_usd_per_hour=costs.interruption_usd_per_hour,
        capacity_risk_usd_per_hour=costs.capacity_risk_usd_per_hour,
        hourly_cost_usd=costs.hourly_usd,
        monthly_cost_usd=costs.hourly_usd * req.assumptions.hours_per_month,
        cost_per_million_output_tokens_usd=x.cost_per_million_tokens_usd,
        job_hours=x.job_hours,
        job_cost_usd=x.job_cost_usd,
        memory=fit.memory,
        notes=_notes(req, p, fleet, costs),
        calibrated=req.calibrated(p.instance.gpu.name, x.fmt.name),
    )
