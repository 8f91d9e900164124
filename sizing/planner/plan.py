"""plan(): the one composition point of memory, speed, parallelism and economics."""

from __future__ import annotations

import math
from dataclasses import dataclass
from sizing.catalog.engines import EngineProfile, get_engine
from sizing.catalog.formats import WeightFormat, get_format, kv_bytes_per_element
from sizing.catalog.instances import InstanceType, all_instance_types, check_region, get_instance_type
from sizing.errors import InfeasibleError, InvalidInputError
from sizing.memory.budget import EngineSettings, activation_dtype_bytes
from sizing.memory.layout import Layout
from sizing.memory.weights import stage_weights, total_weight_bytes
from sizing.units import to_gib
from sizing.models.params import active_params, total_params
from sizing.planner.economics import Costs, Fleet, cold_start_s, fleet_costs, split_fleet
from sizing.planner.layouts import Placement, placements
from sizing.planner.replica import ReplicaFit, ReplicaMiss, size_replica
from sizing.planner.request import Deployment, PlanRequest
from sizing.planner.results import Alternative, Candidate, Plan, Rejection
from sizing.speed.model import ReplicaSpeed

MAX_ALTERNATIVES = 8
"""How many losing candidates the plan lists (best per instance type first)."""


def weight_format_for(req: PlanRequest) -> WeightFormat:
    """The requested weight format, or the checkpoint's own; refuses formats that quantize nothing in this model."""
    fmt = get_format(req.deployment.weights or req.model.native_format)
    if fmt.applies_to == "experts" and req.model.moe is None:
        raise InvalidInputError(
            f"weights={fmt.name!r} quantizes only MoE experts, and {req.model.name!r} has none. "
            "To fix: use int4-awq, int4-gptq or fp8 for a dense model."
        )
    return fmt


def verify_with_workload(req: PlanRequest) -> None:
    """Cross-object rules between the deployment and the workload."""
    if req.deployment.purchase == "spot" and req.workload.kind == "interactive":
        raise InvalidInputError(
            "purchase='spot' with kind='interactive': interactive traffic is never spot-only, since an interruption "
            "drops users' requests. To fix: use purchase='mixed' (an on-demand floor with spot above it) or kind='batch'."
        )


def _allowed_instances(req: PlanRequest) -> list[InstanceType]:
    names = req.deployment.instance_types
    if names:
        return [get_instance_type(n) for n in names]
    return list(all_instance_types().values())


class _FitMemo:
    """Replica fits of one plan() call. A fit depends on the GPU, its link, the layout and whether PP crosses nodes,
    not on the instance size, so g5.xlarge ... g5.16xlarge share one."""

    def __init__(self, req: PlanRequest, engine: EngineProfile, fmt: WeightFormat) -> None:
        self.req, self.engine, self.fmt = req, engine, fmt
        self.kv_bytes = kv_bytes_per_element(req.deployment.kv_dtype, activation_dtype_bytes(fmt))
        self.settings = EngineSettings(
            gpu_memory_utilization=req.deployment.gpu_memory_utilization, max_model_len=req.workload.engine_max_model_len,
            kv_element_bytes=self.kv_bytes,
        )
        self._fits: dict[tuple, ReplicaFit | ReplicaMiss] = {}

    def fit(self, p: Placement) -> ReplicaFit | ReplicaMiss:
        """The replica fit of a placement."""
        link = p.instance.gpu_link if p.layout.tp > 1 else "-"  # the link matters only to TP all-reduces
        key = (p.instance.gpu.name, link, p.layout.tp, p.layout.pp, p.nodes_per_replica > 1)
        if key not in self._fits:
            req = self.req
            speed = ReplicaSpeed(req.model, p.instance.gpu, self.fmt, p.layout, self.kv_bytes, p.instance.gpu_link,
                                 req.assumptions, p.nodes_per_replica > 1)
            self._fits[key] = size_replica(req.model, p.instance.gpu, self.fmt, p.layout, self.engine, self.settings,
                                           speed, req.workload)
        return self._fits[key]


def _replicas_required(req: PlanRequest, fit: ReplicaFit) -> tuple[int, str]:
    w = req.workload
    needs = {"concurrency": math.ceil(w.concurrency / fit.batch)}
    if w.requests_per_second:
        needs["requests_per_second"] = math.ceil(w.requests_per_second / fit.requests_per_s)
    if w.output_tokens_per_second:
        needs["output_tokens_per_second"] = math.ceil(w.output_tokens_per_second / fit.output_tokens_per_s)
    sized_by = max(needs, key=needs.__getitem__)
    return needs[sized_by], sized_by


def _served_tokens_per_s(req: PlanRequest, fit: ReplicaFit) -> float:
    w = req.workload
    targets = [t for t in (w.output_tokens_per_second, (w.requests_per_second or 0) * w.output_tokens) if t]
    if targets:
        return max(targets)
    return w.concurrency / (fit.ttft_s + w.output_tokens * fit.tpot_s) * w.output_tokens


def _notes(p: Placement, fleet_spot: int) -> tuple[str, ...]:
    notes = []
    if p.layout.tp > 1 and p.instance.gpu_link == "pcie":
        notes.append(f"TP={p.layout.tp} all-reduces cross PCIe (no NVLink on {p.instance.name}); their cost is in TPOT")
    if fleet_spot and p.instance.facts.spot_capacity == "scarce":
        notes.append(f"{p.instance.family} spot capacity is scarce; requests may wait or be interrupted "
                     f"({p.instance.facts.interruption_band} a month)")
    if p.nodes_per_replica > 1:
        notes.append(f"multi-node replica: losing any of its {p.nodes_per_replica} nodes takes the whole replica down")
    return tuple(notes)


@dataclass(frozen=True)
class _Priced:
    """A feasible placement with its fleet and costs, before it becomes a Candidate (only the few shown are built)."""

    placement: Placement
    fit: ReplicaFit
    required: int
    sized_by: str
    fleet: Fleet
    cold_s: float
    costs: Costs
    served: float

    @property
    def rank_key(self) -> tuple:
        """Cheapest first; at equal cost fewer GPUs, single-node, less PP, more spare capacity, then lower TPOT."""
        p = self.placement
        return (round(self.costs.hourly_usd, 6), self.fleet.instances * p.instance.whole_gpus, p.nodes_per_replica,
                p.layout.pp, -self.fit.batch * self.fleet.replicas, self.fit.tpot_s)


def _price(req: PlanRequest, p: Placement, fit: ReplicaFit, fmt: WeightFormat) -> _Priced:
    w, d, a = req.workload, req.deployment, req.assumptions
    required, sized_by = _replicas_required(req, fit)
    fleet = split_fleet(w, d, required, p.replicas_per_instance, p.nodes_per_replica)
    node_weights = sum(s.total_bytes for s in stage_weights(req.model, fmt, p.layout)) * p.layout.tp / p.nodes_per_replica
    cold = cold_start_s(p.instance, node_weights * p.replicas_per_instance, a)
    costs = fleet_costs(p.instance, d.region, d, fleet, p.nodes_per_replica, cold, a.hours_per_month)
    return _Priced(p, fit, required, sized_by, fleet, cold, costs, _served_tokens_per_s(req, fit))


def _candidate(req: PlanRequest, x: _Priced) -> Candidate:
    p, fit, fleet, costs = x.placement, x.fit, x.fleet, x.costs
    return Candidate(
        instance_type=p.instance.name, gpu=p.instance.gpu.name, gpus_per_instance=p.instance.whole_gpus,
        tensor_parallel=p.layout.tp, pipeline_parallel=p.layout.pp,
        nodes_per_replica=p.nodes_per_replica, replicas_per_instance=p.replicas_per_instance,
        replicas_required=x.required, replicas=fleet.replicas, sized_by=x.sized_by, instances=fleet.instances,
        on_demand_instances=fleet.on_demand_instances, spot_instances=fleet.spot_instances, purchase=fleet.purchase,
        batch_per_replica=fit.batch, ttft_ms=fit.ttft_s * 1000, tpot_ms=fit.tpot_s * 1000,
        output_tokens_per_second_per_replica=fit.output_tokens_per_s, served_output_tokens_per_second=x.served,
        cold_start_s=x.cold_s, on_demand_usd_per_hour=costs.on_demand_usd_per_hour, spot_usd_per_hour=costs.spot_usd_per_hour,
        interruption_usd_per_hour=costs.interruption_usd_per_hour, hourly_cost_usd=costs.hourly_usd,
        monthly_cost_usd=costs.hourly_usd * req.assumptions.hours_per_month,
        cost_per_million_output_tokens_usd=costs.hourly_usd / (x.served * 3600 / 1e6),
        memory=fit.memory, notes=_notes(p, fleet.spot_instances),
    )


def _why_lost(alt: Candidate, choice: Candidate) -> str:
    delta = alt.hourly_cost_usd - choice.hourly_cost_usd
    pct = 100 * delta / choice.hourly_cost_usd if choice.hourly_cost_usd else 0.0
    if delta > 0.005:
        return f"costs ${delta:,.2f}/h more (+{pct:.0f}%)"
    return f"same cost, but uses {alt.total_gpus} GPUs vs {choice.total_gpus} or a slower TPOT ({alt.tpot_ms:.1f} ms)"


def _alternatives(req: PlanRequest, ranked: list[_Priced], choice: Candidate) -> tuple[Alternative, ...]:
    """The best candidate of each other instance type, plus up to two other layouts of the chosen type."""
    chosen_type = ranked[0].placement.instance.name
    seen, picked = {chosen_type}, []
    for x in ranked[1:]:
        if x.placement.instance.name not in seen:
            seen.add(x.placement.instance.name)
            picked.append(x)
    picked += [x for x in ranked[1:] if x.placement.instance.name == chosen_type][:2]
    picked = sorted(picked, key=lambda x: x.rank_key)[:MAX_ALTERNATIVES]
    alts = [_candidate(req, x) for x in picked]
    return tuple(Alternative(candidate=c, why_lost=_why_lost(c, choice)) for c in alts)


def _reject(p_instance: InstanceType, layout: Layout | None, kind: str, reason: str, miss: ReplicaMiss | None = None) -> Rejection:
    return Rejection(
        instance_type=p_instance.name, tensor_parallel=layout.tp if layout else None,
        pipeline_parallel=layout.pp if layout else None, kind=kind, reason=reason,
        relative_miss=miss.relative_miss if miss else None, remedy=miss.remedy if miss else "",
    )


def _offering_rejection(instance: InstanceType, d: Deployment) -> Rejection | None:
    """Live offerings: a type no zone of the fleet offers is rejected."""
    facts = d.facts
    offered = facts.offered_zones if facts else None
    if offered is None or instance.name not in offered or offered[instance.name]:
        return None  # no live facts, not asked about, or offered in at least one zone
    origin = facts.provenance.get("offerings") if facts else None
    where = f"{origin.origin} offerings, {origin.as_of}" if origin else "live offerings"
    zones = ", ".join(facts.zones) if facts and facts.zones else d.region
    return _reject(instance, None, "offering", f"not offered in {zones} ({where})")


def _instance_rejection(instance: InstanceType, region: str) -> Rejection | None:
    if instance.whole_gpus == 0:
        return _reject(instance, None, "layout", f"fractional GPU ({instance.gpus:g} of an {instance.gpu.name}): "
                                                 "a vGPU slice cannot host a vLLM replica the planner can size")
    if region not in instance.od_usd_per_hour:
        why = instance.not_offered_reason.get(region, "no price in the catalog")
        return _reject(instance, None, "offering", f"not offered in {region} ({why})")
    return None


def _infeasible(req: PlanRequest, rejected: list[Rejection]) -> InfeasibleError:
    sized = [r for r in rejected if r.relative_miss is not None]
    if not sized:
        return InfeasibleError(
            f"No instance type can serve {req.model.name!r} in {req.deployment.region}.",
            rejected[0].reason if rejected else "no instance types to consider",
            "allow more instance types (--instance-types) or another region.",
        )
    # A latency miss got past the memory check, so it is nearer than any memory miss; then the smallest miss.
    stage = {"memory": 0, "tpot": 1, "ttft": 2}
    nearest = min(sized, key=lambda r: (-stage[r.kind], r.relative_miss))
    return InfeasibleError(
        f"No candidate meets the request for {req.model.name!r} ({len(rejected)} rejected).",
        f"{nearest.instance_type} TP={nearest.tensor_parallel} PP={nearest.pipeline_parallel}: {nearest.reason}",
        nearest.remedy,
    )


def plan(req: PlanRequest) -> Plan:
    """The cheapest fleet that serves the workload, its alternatives, and every rejected candidate with its margin."""
    check_region(req.deployment.region)
    verify_with_workload(req)
    fmt, engine = weight_format_for(req), get_engine(req.deployment.engine)
    memo = _FitMemo(req, engine, fmt)
    feasible: list[_Priced] = []
    rejected: list[Rejection] = []
    for instance in _allowed_instances(req):
        refusal = _instance_rejection(instance, req.deployment.region) or _offering_rejection(instance, req.deployment)
        if refusal:
            rejected.append(refusal)
            continue
        found, refused = placements(req.model, instance, req.deployment.max_nodes_per_replica)
        rejected += [_reject(r.instance, r.layout, "layout", r.reason) for r in refused]
        for p in found:
            fit = memo.fit(p)
            if isinstance(fit, ReplicaMiss):
                rejected.append(_reject(instance, p.layout, fit.kind, fit.reason, fit))
            else:
                feasible.append(_price(req, p, fit, fmt))
    if not feasible:
        raise _infeasible(req, rejected)
    ranked = sorted(feasible, key=lambda x: x.rank_key)
    choice = _candidate(req, ranked[0])
    instances = _allowed_instances(req)
    return Plan(
        model=req.model.name, params_total=total_params(req.model), params_active=active_params(req.model),
        weights=fmt.name, checkpoint_format=req.model.native_format,
        vllm_quantization=fmt.vllm_quantization if fmt.name != req.model.native_format else "",
        checkpoint_gib=to_gib(total_weight_bytes(req.model, fmt)), hf_repo=req.model.hf_repo,
        kv_dtype=req.deployment.kv_dtype, engine=engine.name, region=req.deployment.region,
        workload=req.workload, max_model_len=req.workload.engine_max_model_len, choice=choice,
        alternatives=_alternatives(req, ranked, choice), feasible_count=len(ranked), rejected=tuple(rejected),
        assumptions=req.assumptions, prices_as_of=min(i.price_as_of for i in instances),
        warnings=_warnings(choice, engine) + (req.deployment.facts.notices if req.deployment.facts else ()),
        fact_sources=_fact_sources(req),
    )


def _fact_sources(req: PlanRequest) -> dict[str, str]:
    """Where each kind of fact came from and when, e.g. {'spot_prices': 'live 2026-11-27T08:00:00+00:00 (ec2:...)'}."""
    d = req.deployment
    if d.facts is None:
        as_of = min(i.price_as_of for i in all_instance_types().values())
        return {k: f"embedded {as_of} (sizing/data)" for k in ("offerings", "spot_prices", "prices")}
    return {kind: f"{p.origin} {p.as_of} ({p.source})" for kind, p in sorted(d.facts.provenance.items())}


def _warnings(choice: Candidate, engine: EngineProfile) -> tuple[str, ...]:
    mem = choice.memory
    if engine.cuda_graph_outside_budget and mem.unused_gib < 0:
        return (f"the CUDA graph pool ({mem.cuda_graph_gib:.2f} GiB) does not fit in the memory left outside the budget; "
                "lower gpu_memory_utilization",)
    return ()
