"""Pulumi program: stack config -> pre-flight -> sizing.plan() -> plan lock -> ServingFleet -> exports. Wiring only."""

import os
from pathlib import Path

import pulumi

from components import ServingFleet, ServingFleetArgs
from components.plan_lock import decide, lock_path
from components.preflight import enforce_quotas, facts_for, signals_for, with_facts
from components.stack_config import NAMESPACE, SECTIONS, load_stack_config
from sizing.errors import SizingError
from sizing.planner.plan import plan

config = pulumi.Config(NAMESPACE)
try:
    sections = {key: config.get_object(key) for key in SECTIONS}
    raw = {"model": config.get("model"), **{k: v for k, v in sections.items() if v is not None}}
    region = pulumi.Config("aws").get("region")
    stack = load_stack_config(raw, aws_region=region)
    facts = facts_for(stack)
    stacks_dir = Path(os.environ.get("LLMFLEET_STACKS_DIR") or Path(__file__).resolve().parent / "stacks")
    fresh_plan = plan(with_facts(stack.request, facts))
    locked = decide(lock_path(stacks_dir / f"Pulumi.{pulumi.get_stack()}.yaml"), raw, region, fresh_plan)
    fleet_plan = locked.plan  # the lock, when the stack has one: live prices cannot flip the fleet between preview and up
    warnings = [*locked.messages, *dict.fromkeys([*fresh_plan.warnings, *fleet_plan.warnings]), *enforce_quotas(fleet_plan, facts, stack),
                *signals_for(fleet_plan, facts, stack)]
except SizingError as exc:  # bad config, infeasible plan or quota shortfall: fail before any resource exists
    raise pulumi.RunError(str(exc)) from None

for warning in warnings:
    pulumi.log.warn(warning)
offered = (facts.offered_zones or {}).get(fleet_plan.instance_type)
fleet = ServingFleet(pulumi.get_stack(), ServingFleetArgs(plan=fleet_plan, options=stack.fleet,
                                                          offered_zones=tuple(offered) if offered else None))
pulumi.export("plan", fleet.summary)
pulumi.export("facts", fresh_plan.fact_sources)  # what this run's pre-flight saw
pulumi.export("plan_locked", locked.locked)
pulumi.export("endpoint", fleet.endpoint)
pulumi.export("api_key_secret", fleet.api_key_secret)
pulumi.export("autoscaling_groups", fleet.group_names)
