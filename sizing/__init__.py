"""The sizing engine: the cheapest AWS fleet that serves an LLM workload with vLLM within its latency targets, from
first principles (memory, speed, parallelism, prices). Pure Python: pydantic and PyYAML, no Pulumi, no boto3.

The public entry point is `plan()`; its request types are importable from here too (`Workload`, `Deployment`,
`PlanRequest`, and the result `Plan`). Importing `sizing` itself stays cheap: they load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sizing.models.spec import ModelSpec
    from sizing.planner.request import Deployment, PlanRequest, Workload
    from sizing.planner.results import Plan

__all__ = ["Deployment", "Plan", "PlanRequest", "Workload", "plan"]

_LAZY = {
    "Deployment": "sizing.planner.request",
    "PlanRequest": "sizing.planner.request",
    "Workload": "sizing.planner.request",
    "Plan": "sizing.planner.results",
}
"""The public types, by the module that defines them (imported on first use: `import sizing.units` pays for none)."""


def plan(
    model: str | ModelSpec | PlanRequest, workload: Workload | None = None, deployment: Deployment | None = None
) -> Plan:
    """The cheapest fleet that serves `workload` with `model` in `deployment`, its alternatives and every rejected
    candidate with its margin; raises sizing.errors.InfeasibleError (naming the nearest miss) when nothing fits.

    `model` is a preset name or Hugging Face repo id (`python -m sizing plan --help` lists them), a path to a
    config.json, a ModelSpec, or a whole PlanRequest (then without `workload` and `deployment`). This is what
    `python -m sizing plan` and the Pulumi component run.

    >>> from sizing import Deployment, Workload, plan
    >>> fleet = plan("llama-3.1-8b", Workload(concurrency=32, input_tokens=1000, output_tokens=200, tpot_ms=50),
    ...              Deployment(region="us-east-1"))
    >>> fleet.model, fleet.instances >= 1, fleet.choice.tpot_ms <= 50
    ('llama-3.1-8b', True, True)
    >>> fleet.choice.instance_type == fleet.instance_type and fleet.hourly_cost_usd > 0
    True
    """
    from sizing.errors import InvalidInputError
    from sizing.models.presets import resolve_model
    from sizing.planner.plan import plan as plan_request
    from sizing.planner.request import Deployment, PlanRequest, Workload

    if isinstance(model, PlanRequest):
        if workload is not None or deployment is not None:
            raise InvalidInputError(
                "plan(PlanRequest, workload=..., deployment=...): the request already holds both. "
                "To fix: pass the request alone, or a model with the workload and deployment."
            )
        return plan_request(model)
    spec = resolve_model(model) if isinstance(model, str) else model
    return plan_request(PlanRequest(model=spec, workload=workload or Workload(), deployment=deployment or Deployment()))


def __getattr__(name: str) -> Any:
    """The public types, imported on first use."""
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sizing' has no attribute {name!r}")
