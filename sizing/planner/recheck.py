"""Re-deriving a recorded plan with today's engine: the plan a request gives when its search is held to one instance
type, weight format and layout. A plan lock (deploy/plan_lock.py) is checked against it before anything deploys, so
that no value of the lock file reaches a resource unless the engine would have written it."""

from __future__ import annotations

from sizing.catalog.engines import get_engine
from sizing.catalog.instances import get_instance_type
from sizing.errors import RecheckError
from sizing.models.params import active_params, total_params
from sizing.planner import speculative
from sizing.planner.checkpoint import checkpoint_for, vllm_quantization_for
from sizing.planner.formats import requested_formats
from sizing.planner.plan import check_region, verify_with_workload
from sizing.planner.pricing import candidate
from sizing.planner.request import PlanRequest
from sizing.planner.results import Candidate, Plan
from sizing.planner.search import search
from sizing.planner.targets import assumed_limits

PRICE_FIELDS = frozenset(
    {
        "on_demand_usd_per_hour",
        "spot_usd_per_hour",
        "interruption_usd_per_hour",
        "capacity_risk_usd_per_hour",
        "hourly_cost_usd",
        "monthly_cost_usd",
        "cost_per_million_output_tokens_usd",
        "job_cost_usd",
        "billed_usd_per_hour",
        "notes",
    }
)
"""Candidate fields that follow prices (live spot prices move between runs; a lock keeps the fleet they chose). Every
other field of a candidate follows from the request, the catalog and the layout alone (economics.split_fleet does not
read prices), so today's engine gives it again exactly."""


def _layout_key(c: Candidate) -> tuple[int, int, int, bool, int]:
    return c.tensor_parallel, c.pipeline_parallel, c.data_parallel, c.expert_parallel, c.nodes_per_replica


def rederive(recorded: Plan, req: PlanRequest) -> Plan:
    """The plan today's engine makes for `req` on the recorded plan's instance type, weight format and layout: the
    recorded plan with its choice, checkpoint and plan-wide values replaced by the engine's own (prices kept as
    recorded), its speculative draft included. Raises RecheckError where the engine would not make it (another format or
    type than the request allows, a layout vLLM refuses or whose memory does not fit, a type without that many GPUs)."""
    check_region(req.deployment.region)
    verify_with_workload(req)
    c = recorded.choice
    allowed = {f.name for f in requested_formats(req.model, req.deployment.weights)}
    if recorded.weights not in allowed:
        raise RecheckError(
            f"weights {recorded.weights[:40]!r} is not a format this stack allows ({', '.join(sorted(allowed))})"
        )
    names = req.deployment.instance_types
    if names and c.instance_type not in {n.strip().lower() for n in names}:
        raise RecheckError(f"instance type {c.instance_type[:40]!r} is not in the stack's instance_types")
    get_instance_type(c.instance_type)  # UnknownNameError: not in the catalog
    held = req.model_copy(
        update={
            "deployment": req.deployment.model_copy(
                update={"instance_types": (c.instance_type,), "weights": recorded.weights}
            )
        }
    )
    memos: dict = {}
    ranked, rejected, _ = search(held, memos)
    match = [x for x in ranked if _layout_key(candidate(held, x)) == _layout_key(c)]
    if not match:
        label = f"{c.parallel_label} on {c.nodes_per_replica} node(s)"
        why = [
            r.reason
            for r in rejected
            if (r.tensor_parallel, r.pipeline_parallel, r.data_parallel, r.expert_parallel) == _layout_key(c)[:4]
        ]
        raise RecheckError(
            f"{label[:80]} of {c.instance_type} is not a layout today's engine can serve"
            + (f": {why[0]}" if why else " (vLLM refuses it, or the type lacks the GPUs)")
        )
    fresh = candidate(held, match[0])
    prices = {k: v for k, v in c.model_dump().items() if k in PRICE_FIELDS and k != "billed_usd_per_hour"}
    fmt = match[0].fmt
    checkpoint = checkpoint_for(req.model, fmt)
    spec = memos[fmt.name].spec
    return recorded.model_copy(
        update={
            "choice": fresh.model_copy(update=prices),
            "model": req.model.name,
            "params_total": total_params(req.model),
            "params_active": active_params(req.model),
            "weights": fmt.name,
            "checkpoint": checkpoint,
            "vllm_quantization": vllm_quantization_for(fmt, checkpoint),
            "speculative": (
                speculative.speculative_plan(req.model, fmt, match[0].placement.layout, spec, req.assumptions)
                if spec
                else None
            ),
            "kv_dtype": req.deployment.kv_dtype,
            "engine": get_engine(req.deployment.engine).name,
            "region": req.deployment.region,
            "workload": req.workload,
            "max_model_len": req.max_model_len,
            "assumptions": req.assumptions,
            "assumed_limits": assumed_limits(req.workload, req.assumptions),
        }
    )
