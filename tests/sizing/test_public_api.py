"""`sizing.plan()`, the engine's public entry point: its docstring example runs, and it plans what the CLI plans."""

from __future__ import annotations

import doctest
import subprocess
import sys

import pytest

import sizing
from sizing.errors import InfeasibleError, InvalidInputError
from sizing.models.presets import load_preset
from sizing.planner.plan import plan as plan_request
from sizing.planner.request import PlanRequest, Workload


def test_the_docstring_example_runs():
    failed, attempted = doctest.testmod(sizing, verbose=False, raise_on_error=False)
    assert attempted >= 4 and failed == 0


def test_a_name_a_spec_and_a_request_plan_alike():
    request = PlanRequest(model=load_preset("llama-3.1-8b"), workload=Workload(concurrency=8))
    expected = plan_request(request).model_dump()
    assert sizing.plan("llama-3.1-8b", Workload(concurrency=8)).model_dump() == expected
    assert sizing.plan(load_preset("llama-3.1-8b"), Workload(concurrency=8)).model_dump() == expected
    assert sizing.plan(request).model_dump() == expected


def test_a_request_with_a_second_workload_is_refused():
    request = PlanRequest(model=load_preset("llama-3.1-8b"))
    with pytest.raises(InvalidInputError, match="To fix: pass the request alone"):
        sizing.plan(request, Workload(concurrency=8))


def test_nothing_feasible_raises_the_engines_error():
    with pytest.raises(InfeasibleError):
        sizing.plan("llama-3.1-8b", Workload(tpot_ms=0.001))


def test_the_public_names_import_from_sizing_without_loading_the_planner():
    probe = (
        "import sys, sizing; assert 'sizing.planner.plan' not in sys.modules; "
        "from sizing import Deployment, Plan, PlanRequest, Workload, plan; print(Plan.__name__)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "Plan"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        sizing.nope  # noqa: B018
