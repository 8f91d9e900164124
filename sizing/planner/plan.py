"""plan(): the one composition point of memory, speed, parallelism and economics."""

from __future__ import annotations

from sizing.catalog.engines import EngineProfile, get_engine
from sizing.catalog.formats import WeightFormat, get_format, kv_bytes_per_element
from sizing.catalog.instances import (InstanceType, all_instance_types, catalog_prices_as_of, check_region,
                                      get_instance_type, not_planned_types)
from sizing.errors import InvalidInputError
from sizing.memory.budget import EngineSettings, activation_dtype_bytes
from sizing.models.params import active_params, total_params
from sizing.planner.checkpoint import checkpoint_for
from sizing.planner.layouts import Placement, placements
from sizing.planner.pricing import Priced, candidate, price
from sizing.planner.ranking import alternatives
from sizing.planner.rejections import (format_rejection, infeasible, instance_rejection, not_planned_rejections,
                                       offering_rejection, reject)
from sizing.planner.replica import ReplicaFit, ReplicaMiss, size_replica
from sizing.planner.request import PlanRequest
from sizing.planner.results import Candidate, Plan, Rejection
from sizing.speed.model import ReplicaSpeed


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
    if names:  # types the planner does not size are listed as rejected instead (not_planned_rejections)
        return [get_instance_type(n) for n in names if n.strip().lower() not in not_planned_types()]
    return list(all_instance_types().values())


class _FitMemo:
    """Replica fits of one plan() call. A fit depends on the GPU, its link, the layout and whether PP crosses nodes,
    not on the instance size, so g5.xlarge ... g5.16xlarge share one."""

    def __init__(self, req: PlanRequest, engine: EngineProfile, fmt: WeightFormat) -> None:
        self.req, self.engine, self.fmt = req, engine, fmt
        self.kv_bytes = kv_bytes_per_element(req.deployment.kv_dtype, activation_dtype_bytes(fmt))
        self.settings = EngineSettings(
            gpu_memory_utilization=req.deployment.gpu_memory_utilization, max_model_len=req.workload.engine_max_model_len(req.model.max_position_embeddings),
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


def plan(req: PlanRequest) -> Plan:
    """The cheapest fleet that serves the workload, its alternatives, and every rejected candidate with its margin."""
    check_region(req.deployment.region)
    verify_with_workload(req)
    fmt, engine = weight_format_for(req), get_engine(req.deployment.engine)
    memo = _FitMemo(req, engine, fmt)
    checkpoint = checkpoint_for(req.model, fmt)
    feasible: list[Priced] = []
    rejected: list[Rejection] = []
    for instance in _allowed_instances(req):
        refusal = (instance_rejection(instance, req.deployment) or offering_rejection(instance, req.deployment)
                   or format_rejection(instance, fmt))
        if refusal:
            rejected.append(refusal)
            continue
        found, refused = placements(req.model, instance, req.deployment.max_nodes_per_replica)
        rejected += [reject(r.instance, r.layout, "layout", r.reason) for r in refused]
        for p in found:
            fit = memo.fit(p)
            if isinstance(fit, ReplicaMiss):
                rejected.append(reject(instance, p.layout, fit.kind, fit.reason, fit))
            else:
                feasible.append(price(req, p, fit, checkpoint))
    allowed = req.deployment.instance_types
    rejected += not_planned_rejections(req.deployment.region,
                                       tuple(n.strip().lower() for n in allowed) if allowed else None)
    if not feasible:
        raise infeasible(req, rejected)
    ranked = sorted(feasible, key=lambda x: x.rank_key)
    choice = candidate(req, ranked[0])
    instances = _allowed_instances(req)
    return Plan(
        model=req.model.name, params_total=total_params(req.model), params_active=active_params(req.model),
        weights=fmt.name, checkpoint=checkpoint,
        vllm_quantization=fmt.vllm_quantization if fmt.name != checkpoint.format else "",
        kv_dtype=req.deployment.kv_dtype, engine=engine.name, region=req.deployment.region,
        workload=req.workload, max_model_len=req.workload.engine_max_model_len(req.model.max_position_embeddings), choice=choice,
        alternatives=alternatives(req, ranked, choice), feasible_count=len(ranked), rejected=tuple(rejected),
        assumptions=req.assumptions, prices_as_of=catalog_prices_as_of(instances),
        warnings=_warnings(choice, engine) + (req.deployment.facts.notices if req.deployment.facts else ()),
        fact_sources=_fact_sources(req),
    )


def _fact_sources(req: PlanRequest) -> dict[str, str]:
    """Where each kind of fact came from and when, e.g. {'spot_prices': 'live 2026-11-27T08:00:00+00:00 (ec2:...)'}."""
    d = req.deployment
    if d.facts is None:
        as_of = catalog_prices_as_of()
        return {k: f"embedded {as_of} (sizing/data)" for k in ("offerings", "spot_prices", "prices")}
    return {kind: f"{p.origin} {p.as_of} ({p.source})" for kind, p in sorted(d.facts.provenance.items())}


def _warnings(choice: Candidate, engine: EngineProfile) -> tuple[str, ...]:
    mem = choice.memory
    if engine.cuda_graph_outside_budget and mem.unused_gib < 0:
        return (f"the CUDA graph pool ({mem.cuda_graph_gib:.2f} GiB) does not fit in the memory left outside the budget; "
                "lower gpu_memory_utilization",)
    return ()
