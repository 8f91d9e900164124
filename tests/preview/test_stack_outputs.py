"""Issue 21 (item 3): the pull-request report reads the program's stack outputs (its pulumi.export values, captured
under Pulumi's mocks), the whole deployed plan among them, never a variable of __main__.py."""

from __future__ import annotations

import ast
import re

from preview import mock_run
from sizing.names import DEPLOYED_PLAN_OUTPUT
from sizing.planner.results import Plan
from tests.stack_runs import ROOT, STACKS, stack_run


def exported_names() -> set[str]:
    """The stack outputs __main__.py exports (pulumi.export's first argument, a literal or a sizing.names constant)."""
    from sizing import names

    found = set()
    for node in ast.walk(ast.parse((ROOT / "__main__.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "export":
            key = node.args[0]
            found.add(key.value if isinstance(key, ast.Constant) else getattr(names, key.id))
    return found


def test_the_run_keeps_every_stack_output(any_stack):
    assert set(any_stack.outputs) == exported_names() and DEPLOYED_PLAN_OUTPUT in exported_names()


def test_the_plan_is_the_one_the_stack_exports(any_stack):
    assert any_stack.plan == Plan.model_validate(any_stack.outputs[DEPLOYED_PLAN_OUTPUT])
    summary = any_stack.outputs["plan"]
    assert (summary["instance_type"], summary["replicas"]) == (
        any_stack.plan.choice.instance_type,
        any_stack.plan.choice.replicas,
    )


def test_the_report_needs_no_variable_of_the_program(tmp_path, monkeypatch):
    """A program that names its component otherwise (no `fleet` variable) is read alike: the report used to run
    __main__.py and take its variable `fleet` (a KeyError here)."""
    program = tmp_path / "__main__.py"
    program.write_text(re.sub(r"\bfleet\b", "serving", (ROOT / "__main__.py").read_text()))
    assert "serving = LlmServingFleet(" in program.read_text()
    monkeypatch.setattr(mock_run, "PROGRAM", program)
    run = mock_run.run_stack(STACKS["dev"])
    assert run.plan == stack_run("dev").plan and run.outputs == stack_run("dev").outputs
