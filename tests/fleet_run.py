"""ServingFleet run under a fresh mock with options other than an example stack's."""

from __future__ import annotations

import pulumi

from components import ServingFleet, ServingFleetArgs
from deploy.options import FleetOptions
from preview.mock_run import PROJECT, FleetMocks, MockRun
from sizing.planner.results import Plan
from tests.stack_runs import stack_run


def fleet_run(name: str, stack: str = "dev", plan: Plan | None = None, **options) -> MockRun:
    """ServingFleet for an example stack's plan (or the plan given) under a fresh mock, with other options."""
    served = plan or stack_run(stack).plan  # before the mocks are set: a first stack_run sets its own
    assert served
    run = MockRun(stack=name)
    pulumi.runtime.set_mocks(FleetMocks(run, "us-east-1"), project=PROJECT, stack=name, preview=False)

    @pulumi.runtime.test
    def program():
        fleet = ServingFleet(name, ServingFleetArgs(plan=served, options=FleetOptions(**options)))
        return fleet.endpoint.apply(lambda url: run.outputs.update(endpoint=url))

    program()
    return run
