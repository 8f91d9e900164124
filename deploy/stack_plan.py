"""A stack's plan, as the program deploys it and `python -m sizing plan --stack` shows it: pre-flight facts, the fresh
plan, the lock's decision (deploy/plan_lock.py), then quotas and capacity signals for the plan deployed. No resources
here: the LlmServingFleet component (so the program) and the CLI share these functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from deploy.errors import StaleLockError
from deploy.plan_lock import decide, lock_path, write_lock
from deploy.stack_config import StackConfig
from sizing.live.preflight import ClientFactory
from sizing.planner.results import Plan


class DeployPlan(BaseModel):
    """What a deployment of a stack uses: the plan to deploy and what this run learned."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    plan: Plan
    """The plan to deploy (the lock's, when the stack has one)."""
    fresh: Plan
    """The plan made from this run's facts."""
    locked: bool
    """Whether the deployed plan came from the lock."""
    warnings: tuple[str, ...]
    """Lock differences, plan warnings, quota shortfalls set to warn, capacity signals."""
    offered_zones: tuple[str, ...] | None
    """Zones of the fleet's subnets that offer the deployed type (None: unknown)."""


def plan_for_deploy(
    stack: StackConfig, config: dict[str, Any], region: str | None, lock: Path, clients: ClientFactory | None = None
) -> DeployPlan:
    """Pre-flight, the fresh plan, the lock decision, then quotas and capacity signals for the plan deployed. Raises
    the engine's SizingError on an infeasible plan, a quota shortfall set to fail or a lock for another config."""
    from deploy.fleet_spec import verify_with_platform
    from deploy.preflight import cluster_notices, enforce_quotas, facts_for, image_notices, signals_for, with_facts
    from sizing.planner.plan import plan

    facts = facts_for(stack, clients)
    request = with_facts(stack.request, facts)
    fresh = plan(request)
    decision = decide(lock, config, region, fresh, request)
    deployed = decision.plan
    verify_with_platform(deployed, stack.fleet)
    # this run's warnings only: a lock's own text is never repeated (its plan is verified; its words are not)
    warnings = [
        *decision.messages,
        *fresh.warnings,
        *enforce_quotas(deployed, facts, stack),
        *signals_for(deployed, facts, stack, clients),
        *cluster_notices(deployed, stack),
        *image_notices(deployed, stack),
    ]
    offered = (facts.offered_zones or {}).get(deployed.instance_type)
    return DeployPlan(
        plan=deployed,
        fresh=fresh,
        locked=decision.locked,
        warnings=tuple(warnings),
        offered_zones=tuple(offered) if offered else None,
    )


class StackPlan(BaseModel):
    """What `plan --stack` shows: the plan and how it stands with the stack's lock."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    plan: Plan
    """The plan the stack deploys (the lock's), or the fresh plan when the lock is stale or was just written."""
    messages: tuple[str, ...]
    """The lock's differences and the run's warnings."""
    stack: StackConfig
    """The stack's validated config."""
    lock_status: Literal["written", "none", "locked", "stale"]
    """written: --update-lock recorded the plan; none: no lock yet; locked: the lock holds (it may differ from the
    fresh plan in prices, said in messages); stale: the sizing config changed since the lock, `plan` is the fresh
    one."""


def plan_stack_file(stack_file: str | Path, update_lock: bool) -> StackPlan:
    """Plan a stack file as the program does (pre-flight facts included). With update_lock, record the fresh plan as
    the stack's lock; otherwise compare it with the lock: a stale lock gives the fresh plan in full and what changed
    (the program refuses to deploy it)."""
    from deploy.fleet_spec import verify_with_platform
    from deploy.stack_config import load_stack_config, namespace_config
    from deploy.stack_file import read_stack_file  # PyYAML, loaded only when a stack file is read

    raw = read_stack_file(stack_file)  # bounded, no YAML aliases or repeated keys, as the PR report reads it
    ours = namespace_config(raw)
    region = raw.get("aws:region")
    stack = load_stack_config(ours, aws_region=region)
    path = lock_path(stack_file)
    if update_lock:
        from deploy.preflight import facts_for, with_facts
        from sizing.planner.plan import plan

        fresh = plan(with_facts(stack.request, facts_for(stack)))
        verify_with_platform(fresh, stack.fleet)
        return StackPlan(
            plan=fresh,
            messages=(f"plan lock written: {write_lock(path, ours, region, fresh)}",),
            stack=stack,
            lock_status="written",
        )
    try:
        deploy = plan_for_deploy(stack, ours, region, path)
    except StaleLockError as exc:
        verify_with_platform(exc.fresh, stack.fleet)
        return StackPlan(
            plan=exc.fresh, messages=(f"{exc} Below: the fresh plan (not deployed).",), stack=stack, lock_status="stale"
        )
    return StackPlan(
        plan=deploy.plan, messages=deploy.warnings, stack=stack, lock_status="locked" if deploy.locked else "none"
    )
