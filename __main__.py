"""Pulumi program: stack config -> sizing.plan() -> exports. Wiring only.

The ServingFleet component (components/) that turns the plan into AWS resources is the next step (issue 3);
until then `pulumi preview` shows the plan as stack outputs and creates nothing."""

import pulumi

from sizing.models.presets import resolve_model
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload

config = pulumi.Config("llmfleet")
request = PlanRequest(
    model=resolve_model(config.require("model")),
    workload=Workload(**(config.get_object("workload") or {})),
    deployment=Deployment(**(config.get_object("deployment") or {})),
)
fleet_plan = plan(request)
pulumi.export("plan", fleet_plan.model_dump(mode="json", exclude={"rejected", "alternatives"}))
