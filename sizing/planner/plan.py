"""plan(): the one composition point of memory, speed, parallelism and economics."""

from __future__ import annotations

from sizing.catalog.engines import get_engine
from sizing.catalog.formats import get_format
from sizing.catalog.gpus import get_gpu
from sizing.catalog.instances import (
    catalog_prices_as_of,
    check_region,
)
from sizing.catalog.kernels import kernel_path
from sizing.errors import InvalidInputError
from sizing.models.params import active_params, total_params
from sizing.models.spec import ModelSpec
from sizing.planner import speculative
from sizing.planner.checkpoint import vllm_quantization_for
from sizing.planner.frontier import frontier, single_failure_domain_warning
from sizing.planner.gc_pause import collector_paused
from sizing.planner.kv_formats import fp8_kv_alternative
from sizing.planner.pricing import Priced, candidate
from sizing.planner.ranking import alternatives
from sizing.planner.rejections import (
    infeasible,
    not_planned_rejections,
)
from sizing.planner.request import PlanRequest
from sizing.planner.results import CalibrationInUse, Candidate, Plan, Rejection
from sizing.planner.search import FitMemo, PlanScope, allowed_instances, search
from sizing.planner.targets import assumed_limits
from sizing.planner.traffic import traffic_warnings


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


def plan(req: PlanRequest) -> Plan:
    """The cheapest fleet that serves the workload, its alternatives, and every rejected candidate with its margin."""
    with collector_paused():  # sizing/planner/gc_pause.py
        return _plan(req)


def _plan(req: PlanRequest) -> Plan:
    check_region(req.deployment.region)
    verify_with_workload(req)
    engine = get_engine(req.deployment.engine)
    memos: dict[str, FitMemo] = {}
    scope = PlanScope()
    ranked, rejected, checkpoints = search(req, memos, scope=scope)
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
    instances = allowed_instances(req)
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
        frontier=frontier(req, choice, lambda sub: _ranked(sub, memos, scope)),
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
        kv_alternative=fp8_kv_alternative(req, choice, lambda fp8: _cheapest(fp8, scope)),
    )


def _cheapest(req: PlanRequest, scope: PlanScope) -> Candidate | None:
    """The cheapest feasible candidate of a request (None: none), without the frontier and the alternatives."""
    ranked, _, _ = search(req, {}, best_only=True, scope=scope)
    return candidate(req, ranked[0]) if ranked else None


def _ranked(req: PlanRequest, memos: dict[str, FitMemo], scope: PlanScope) -> tuple[list[Priced], list[Rejection]]:
    """search() without the checkpoints, for the best candidate only (the frontier's view)."""
    ranked, rejected, _ = search(req, memos, best_only=True, scope=scope)
    return ranked, rejected


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
