"""plan(): the one composition point of memory, speed, parallelism and economics."""

from __future__ import annotations

from sizing.catalog.checkpoints import Checkpoint
from sizing.catalog.engines import EngineProfile, get_engine
from sizing.catalog.formats import WeightFormat, get_format
from sizing.catalog.gpus import get_gpu
from sizing.catalog.instances import (
    InstanceType,
    all_instance_types,
    catalog_prices_as_of,
    check_region,
    get_instance_type,
    not_planned_types,
)
from sizing.catalog.kernels import kernel_path
from sizing.errors import InvalidInputError
from sizing.memory.budget import EngineSettings, MemoryBreakdown, kv_element_bytes
from sizing.models.params import active_params, total_params
from sizing.models.spec import ModelSpec
from sizing.planner import speculative
from sizing.planner.checkpoint import checkpoint_for, vllm_quantization_for
from sizing.planner.formats import formats_to_try, requested_formats
from sizing.planner.frontier import frontier, single_failure_domain_warning
from sizing.planner.job import deadline_miss
from sizing.planner.kv_formats import fp8_kv_alternative
from sizing.planner.layouts import Placement, placements
from sizing.planner.pricing import Priced, candidate, node_cold_start_s, price
from sizing.planner.ranking import alternatives, order
from sizing.planner.rejections import (
    fleet_size_rejection,
    format_rejection,
    infeasible,
    instance_rejection,
    not_planned_rejections,
    offering_rejection,
    reject,
)
from sizing.planner.replica import ReplicaFit, ReplicaMiss, fit_targets, replica_model
from sizing.planner.replica_memo import Same, shared_memos
from sizing.planner.request import PlanRequest, Workload
from sizing.planner.results import CalibrationInUse, Candidate, Plan, Rejection
from sizing.planner.targets import Targets, assumed_limits, targets_for
from sizing.planner.traffic import traffic_warnings
from sizing.speed.load import ReplicaLoad
from sizing.speed.model import ReplicaSpeed


def check_context(model: ModelSpec, max_model_len: int, given_as: str = "max_model_len") -> None:
    """vLLM refuses a max_model_len above the model's context (max_position_embeddings) at start-up
    (vllm/config: "User-specified max_model_len ... is greater than the derived max_model_len")."""
    if max_model_len > model.max_position_embeddings:
        raise InvalidInputError(
            f"max_model_len={max_model_len} (from {given_as}) is over the {model.max_position_embeddings}-token "
            "context of "
            f"{model.name!r} by {max_model_len - model.max_position_embeddings}; vLLM would refuse to start. "
            f"To fix: keep input plus output tokens (or max_model_len) at most {model.max_position_embeddings}."
        )


def verify_with_workload(req: PlanRequest) -> None:
    """Cross-object rules between the deployment, the workload and the model."""
    w = req.workload
    check_context(req.model, req.max_model_len, "max_model_len" if w.max_model_len else "input_tokens + output_tokens")
    if w.max_input_tokens or w.max_output_tokens:  # given longest lengths are never capped silently at the context
        check_context(req.model, w.longest_request_tokens, "max_input_tokens + max_output_tokens")
    if req.deployment.purchase == "spot" and req.workload.kind == "interactive":
        raise InvalidInputError(
            "purchase='spot' with kind='interactive': interactive traffic is never spot-only, since an interruption "
            "drops users' requests. To fix: use purchase='mixed' (an on-demand floor with spot above it) or "
            "kind='batch'."
        )


def _allowed_instances(req: PlanRequest) -> list[InstanceType]:
    names = req.deployment.instance_types
    if names:  # each type searched once; types the planner does not size are listed as rejected instead
        return [get_instance_type(n) for n in dict.fromkeys(names) if n.strip().lower() not in not_planned_types()]
    return list(all_instance_types().values())


class _FitMemo:
    """Replica fits of one plan() call. A fit depends on the GPU, its link, the layout and whether PP crosses nodes,
    not on the instance size, so g5.xlarge ... g5.16xlarge share one."""

    def __init__(self, req: PlanRequest, engine: EngineProfile, fmt: WeightFormat) -> None:
        self.req, self.engine, self.fmt = req, engine, fmt
        self.spec = speculative.resolve(req.model, req.deployment.speculative, engine)
        self.spec_step = speculative.spec_decode(self.spec, req.assumptions) if self.spec else None
        self.kv_bytes = kv_element_bytes(req.deployment.kv_dtype, fmt)
        self.settings = EngineSettings(
            gpu_memory_utilization=req.deployment.gpu_memory_utilization,
            max_model_len=req.max_model_len,
            kv_element_bytes=self.kv_bytes,
        )
        w = req.workload
        context = (
            req.model,
            Same(fmt),
            Same(engine),
            self.settings,
            req.deployment.speculative,
            self.spec_step,
            w.input_tokens,
            w.output_tokens,
            w.prefix_hit_rate,
            w.request_tokens,
            req.assumptions,
            Same(req.calibration),
        )  # everything a replica model reads besides the placement (replica_memo)
        self._models: dict[tuple, tuple[MemoryBreakdown, ReplicaLoad] | ReplicaMiss]
        self._fits: dict[tuple, ReplicaFit | ReplicaMiss]
        self._models, self._fits = shared_memos(context)
        self._targets: tuple[Workload, Targets, tuple] | None = None

    def fit(self, p: Placement, w: Workload | None = None) -> ReplicaFit | ReplicaMiss:
        """The replica fit of a placement under the latency targets of `w` (default: the request's workload; the
        frontier asks for other TPOT targets of the same traffic)."""
        w = w or self.req.workload
        link = p.instance.gpu_link if p.layout.tp > 1 else "-"  # the link matters only to TP all-reduces
        layout = p.layout
        key = (Same(p.instance.gpu), link, layout.tp, layout.pp, layout.dp, layout.ep, p.nodes_per_replica > 1)
        if key not in self._models:
            req = self.req

            assumptions, factor = req.speed_assumptions(p.instance.gpu.name, self.fmt.name)

            def speed() -> ReplicaSpeed:
                return ReplicaSpeed(
                    req.model,
                    p.instance.gpu,
                    self.fmt,
                    p.layout,
                    self.kv_bytes,
                    p.instance.gpu_link,
                    assumptions,
                    p.nodes_per_replica > 1,
                )

            settings = speculative.with_draft(self.settings, req.model, self.fmt, layout, self.spec)
            self._models[key] = replica_model(
                req.model,
                p.instance.gpu,
                self.fmt,
                p.layout,
                self.engine,
                settings,
                speed,
                req.workload,
                self.spec_step,
                factor,
            )
        if self._targets is None or self._targets[0] is not w:
            t = targets_for(w, self.req.assumptions)
            self._targets = (w, t, (*t.key, t.default_tpot))  # every field: a miss's words depend on default_tpot
        _, targets, targets_key = self._targets
        fit_key = key + targets_key
        if fit_key not in self._fits:
            model = self._models[key]
            self._fits[fit_key] = model if isinstance(model, ReplicaMiss) else fit_targets(*model, targets)
        return self._fits[fit_key]


def search(req: PlanRequest, memos: dict[str, _FitMemo]) -> tuple[list[Priced], list[Rejection], dict[str, Checkpoint]]:
    """Every placement of every allowed instance type in every weight format tried: the feasible ones priced and
    ranked, the rejected ones, and each format's checkpoint. `memos` (one per format) is filled here and may be reused
    by a request with the same model, traffic shape and deployment settings (the frontier)."""
    engine = get_engine(req.deployment.engine)
    formats = requested_formats(req.model, req.deployment.weights)
    for fmt in formats:
        memos.setdefault(fmt.name, _FitMemo(req, engine, fmt))
    checkpoints = {fmt.name: checkpoint_for(req.model, fmt) for fmt in formats}
    feasible: list[Priced] = []
    rejected: list[Rejection] = []
    for instance in _allowed_instances(req):
        refusal = instance_rejection(instance, req.deployment) or offering_rejection(instance, req.deployment)
        if refusal:
            rejected.append(refusal)
            continue
        for fmt in formats_to_try(req.model, formats, instance, req.deployment.max_nodes_per_replica):
            _try_format(req, instance, memos[fmt.name], checkpoints[fmt.name], feasible, rejected)
    return order(req, feasible), rejected, checkpoints


def plan(req: PlanRequest) -> Plan:
    """The cheapest fleet that serves the workload, its alternatives, and every rejected candidate with its margin."""
    check_region(req.deployment.region)
    verify_with_workload(req)
    engine = get_engine(req.deployment.engine)
    memos: dict[str, _FitMemo] = {}
    ranked, rejected, checkpoints = search(req, memos)
    allowed = req.deployment.instance_types
    rejected += not_planned_rejections(
        req.deployment.region, tuple(n.strip().lower() for n in allowed) if allowed else None
    )
    if not ranked:
        raise infeasible(req, rejected)
    choice = candidate(req, ranked[0])
    fmt = ranked[0].fmt
    spec = memos[fmt.name].spec
    checkpoint = checkpoints[fmt.name]
    instances = _allowed_instances(req)
    return Plan(
        model=req.model.name,
        params_total=total_params(req.model),
        params_active=active_params(req.model),
        weights=fmt.name,
        checkpoint=checkpoint,
        vllm_quantization=vllm_quantization_for(fmt, checkpoint),
        kv_dtype=req.deployment.kv_dtype,
        engine=engine.name,
        region=req.deployment.region,
        speculative=(
            speculative.speculative_plan(req.model, fmt, ranked[0].placement.layout, spec, req.assumptions)
            if spec
            else None
        ),
        workload=req.workload,
        max_model_len=req.max_model_len,
        choice=choice,
        alternatives=alternatives(req, ranked),
        feasible_count=len(ranked),
        rejected=tuple(rejected),
        frontier=frontier(req, choice, lambda sub: _ranked(sub, memos)),
        assumptions=req.assumptions,
        prices_as_of=catalog_prices_as_of(instances),
        calibration=calibration_in_use(req, choice),
        assumed_limits=assumed_limits(req.workload, req.assumptions),
        warnings=(
            traffic_warnings(req, ranked[0])
            + _warnings(choice, req)
            + (req.deployment.facts.notices if req.deployment.facts else ())
        ),
        fact_sources=_fact_sources(req),
        kv_alternative=fp8_kv_alternative(req, choice, _cheapest),
    )


def _cheapest(req: PlanRequest) -> Candidate | None:
    """The cheapest feasible candidate of a request (None: none), without the frontier and the alternatives."""
    ranked, _, _ = search(req, {})
    return candidate(req, ranked[0]) if ranked else None


def _ranked(req: PlanRequest, memos: dict[str, _FitMemo]) -> tuple[list[Priced], list[Rejection]]:
    """search() without the checkpoints (the frontier's view)."""
    ranked, rejected, _ = search(req, memos)
    return ranked, rejected


def _try_format(
    req: PlanRequest,
    instance: InstanceType,
    memo: _FitMemo,
    checkpoint: Checkpoint,
    feasible: list[Priced],
    rejected: list[Rejection],
) -> None:
    """Every layout of one instance type in one weight format: feasible ones priced, the others rejected."""
    fmt = memo.fmt
    refusal = format_rejection(instance, fmt, req.model)
    if refusal:
        rejected.append(refusal)
        return
    found, refused = placements(req.model, instance, req.deployment.max_nodes_per_replica, fmt)
    rejected += [reject(r.instance, r.layout, "layout", r.reason, weights=fmt.name) for r in refused]
    cold: float | None = None
    for p in found:
        no_pp = speculative.pipeline_refusal(memo.spec, p.layout)
        if no_pp:
            rejected.append(reject(instance, p.layout, "layout", no_pp, weights=fmt.name))
            continue
        fit = memo.fit(p, req.workload)
        if isinstance(fit, ReplicaMiss):
            rejected.append(reject(instance, p.layout, fit.kind, fit.reason, fit, weights=fmt.name))
            continue
        cold = node_cold_start_s(req, instance, checkpoint) if cold is None else cold
        late = deadline_miss(req.workload, cold)
        if late:
            rejected.append(reject(instance, p.layout, "deadline", late, weights=fmt.name))
        else:
            priced = price(req, p, fit, cold, fmt)
            too_many = fleet_size_rejection(priced)
            if too_many:
                rejected.append(too_many)
            else:
                feasible.append(priced)


def _fact_sources(req: PlanRequest) -> dict[str, str]:
    """Where each kind of fact came from and when, e.g. {'spot_prices': 'live 2026-11-27T08:00:00+00:00 (ec2:...)'}."""
    d = req.deployment
    if d.facts is None:
        as_of = catalog_prices_as_of()
        return {k: f"embedded {as_of} (sizing/data)" for k in ("offerings", "spot_prices", "prices")}
    return {kind: f"{p.origin} {p.as_of} ({p.source})" for kind, p in sorted(d.facts.provenance.items())}


def calibration_in_use(req: PlanRequest, choice: Candidate) -> CalibrationInUse | None:
    """The request's calibration as the plan reports it (None: the plan is first principles throughout)."""
    cal = req.calibration
    if cal is None:
        return None
    return CalibrationInUse(
        summary=cal.summary,
        gpu=cal.gpu,
        model=cal.model,
        weights=cal.weights,
        engine=cal.engine,
        engine_version=cal.engine_version,
        created=cal.created,
        points=len(cal.points),
        median_abs_error=cal.median_abs_error,
        max_abs_error=cal.max_abs_error,
        sources=tuple(f"{s.file} sha256:{s.sha256}" for s in cal.sources),
        fitted=cal.fitted.model_dump(),
        applies_to_choice=choice.calibrated,
    )


def _warnings(choice: Candidate, req: PlanRequest) -> tuple[str, ...]:
    single = single_failure_domain_warning(req.workload, choice)  # (a graph pool that does not fit is a memory miss)
    return calibration_warnings(choice, req) + ((single,) if single else ()) + kernel_warnings(choice)


def calibration_warnings(choice: Candidate, req: PlanRequest) -> tuple[str, ...]:
    """The request's calibration does not describe the chosen fleet: its figures are first principles."""
    cal = req.calibration
    if cal is None or choice.calibrated:
        return ()
    return (
        f"the calibration ({cal.model} {cal.weights} on {cal.gpu}) does not describe the choice "
        f"({req.model.name} {choice.weights} on {choice.gpu}): its figures are first principles",
    )


def kernel_warnings(choice: Candidate) -> tuple[str, ...]:
    """The chosen GPU runs the weight format on a fallback or immature kernel path (sizing/data/kernels.toml): the
    speed figures carry that path's measured shortfall, and the plan says so with the source."""
    if not choice.weights:
        return ()
    gpu = get_gpu(choice.gpu)
    path = kernel_path(gpu, get_format(choice.weights))
    return (path.warning(gpu),) if path.warns else ()
