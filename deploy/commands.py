"""What deploy/ adds to `python -m sizing` (registered in pyproject.toml's entry-point group llmfleet.cli, read by
sizing/cli/plugins.py): `plan --stack`, a stack file planned as `pulumi up` plans it. No Pulumi: it runs in the
engine-only install."""

from __future__ import annotations

from sizing.cli.plugins import StackPlanned, StackPlanner


def plan_stack(stack_file: str, update_lock: bool) -> StackPlanned:
    """The stack's plan (compared with its lock, or recorded as it), with the fixed overhead of what it creates."""
    from deploy.fixed_costs import fixed_cost_json, fixed_cost_lines, fixed_costs
    from deploy.stack_plan import plan_stack_file
    from sizing.cli.render import stack_weights_note

    stacked = plan_stack_file(stack_file, update_lock)
    plan, stack = stacked.plan, stacked.stack
    overhead = fixed_costs(plan, stack.fleet)
    return StackPlanned(
        plan=plan,
        messages=stacked.messages,
        extra_json=fixed_cost_json(overhead, plan),
        extra_lines=tuple(fixed_cost_lines(overhead, plan)),
        lock_status=stacked.lock_status,
        weights_note=stack_weights_note(plan.weights, stack.request),
    )


PLAN_STACK = StackPlanner(plan_stack_file=plan_stack)
"""The `plan-stack` entry point."""
