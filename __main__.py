"""Pulumi program: stack config -> sizing.plan() -> ServingFleet -> exports. Wiring only."""

import pulumi

from components import ServingFleet, ServingFleetArgs
from components.stack_config import NAMESPACE, load_stack_config
from sizing.errors import SizingError
from sizing.planner.plan import plan

config = pulumi.Config(NAMESPACE)
try:
    sections = {key: config.get_object(key) for key in ("workload", "deployment", "fleet")}
    stack = load_stack_config({"model": config.get("model"), **{k: v for k, v in sections.items() if v is not None}},
                              aws_region=pulumi.Config("aws").get("region"))
    fleet_plan = plan(stack.request)
except SizingError as exc:  # bad config or an infeasible plan: fail before any resource exists
    raise pulumi.RunError(str(exc)) from None

fleet = ServingFleet(pulumi.get_stack(), ServingFleetArgs(plan=fleet_plan, options=stack.fleet))
pulumi.export("plan", fleet.summary)
pulumi.export("endpoint", fleet.endpoint)
pulumi.export("autoscaling_groups", fleet.group_names)
