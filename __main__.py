"""Pulumi program: stack config -> pre-flight -> sizing.plan() -> ServingFleet -> exports. Wiring only."""

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from components import ServingFleet, ServingFleetArgs
from components.preflight import enforce_quotas, facts_for, signals_for, with_facts
from components.stack_config import NAMESPACE, config_value, load_stack_config, namespace_config
from sizing.errors import SizingError
from sizing.redact import redact, redact_value
from sizing.planner.plan import plan

config = pulumi.Config(NAMESPACE)
try:
    given = namespace_config({**get_config_env(), **CONFIG.get()})  # every llmfleet:* key, unknown ones included
    stack = load_stack_config({k: config_value(config.get(k)) for k in given},
                              aws_region=pulumi.Config("aws").get("region"))
    facts = facts_for(stack)
    fleet_plan = plan(with_facts(stack.request, facts))
    warnings = [*fleet_plan.warnings, *enforce_quotas(fleet_plan, facts, stack), *signals_for(fleet_plan, facts, stack)]
except SizingError as exc:  # bad config, infeasible plan or quota shortfall: fail before any resource exists
    raise pulumi.RunError(redact(str(exc))) from None

for warning in warnings:
    pulumi.log.warn(redact(warning))
fleet = ServingFleet(pulumi.get_stack(), ServingFleetArgs(plan=fleet_plan, options=stack.fleet))
pulumi.export("plan", redact_value(fleet.summary))
pulumi.export("facts", redact_value(fleet_plan.fact_sources))
pulumi.export("endpoint", fleet.endpoint)
pulumi.export("autoscaling_groups", fleet.group_names)
