"""A stack's plan, as the program deploys it and `python -m sizing plan --stack` shows it: pre-flight facts, the fresh
plan, the lock's decision (deploy/plan_lock.py), then quotas and capacity signals for the plan deployed. No resources
here: the LlmServingFleet component (so the program) and the CLI share these functions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

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


def plan_for_deploy(stack: StackConfig, config: dict[str, Any], region: str | None, lock: Path,
                    clients: ClientFactory | None = None) -> DeployPlan:
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
    warnings = [*decision.messages, *fresh.warnings,
                *enforce_quotas(deployed, facts, stack), *signals_for(deployed, facts, stack, clients),
                *cluster_notices(deployed, stack), *image_notices(deployed, stack)]
    offered = (facts.offered_zones or {}).get(deployed.instance_type)
    return DeployPlan(plan=deployed, fresh=fresh, locked=decision.locked, warnings=tuple(warnings),
                      offered_zones=tuple(offered) if offered else None)


def plan_stack_file(stack_file: str | Path, update_lock: bool) -> tuple[Plan, list[str], StackConfig]:
    """Plan a stack file as the program does (pre-flight facts included). With update_lock, record the fresh plan as
    the stack's lock; otherwise compare it with the lock. Returns (the plan the stack deploys, messages, the stack's
    validated config)."""
    from deploy.stack_config import load_stack_config, namespace_config
    from deploy.stack_file import read_stack_file  # PyYAML, loaded only when a stack file is read

    raw = read_stack_file(stack_file)  # bounded, no YAML aliases or repeated keys, as the PR report reads it
    ours = namespace_config(raw)
    region = raw.get("aws:region")
    stack = load_stack_config(ours, aws_region=region)
    path = lock_path(stack_file)
    if update_lock:
        from deploy.fleet_spec import verify_with_platform
        from deploy.preflight import facts_for, with_facts
        from sizing.planner.plan import plan

        fresh = plan(with_facts(stack.request, facts_for(stack)))
        verify_with_platform(fresh, stack.fleet)
        return fresh, [f"plan lock written: {write_lock(path, ours, region, fresh)}"], stack
    deploy = plan_for_deploy(stack, ours, region, path)
    return deploy.plan, list(deploy.warnings), stack
