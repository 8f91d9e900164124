"""The cycle collector is paused while a plan runs and left as the caller had it (sizing/planner/gc_pause.py)."""

import gc

import pytest

from sizing.models.presets import load_preset
from sizing.planner.gc_pause import collector_paused
from sizing.planner.plan import plan
from sizing.planner.request import PlanRequest


@pytest.fixture(autouse=True)
def _restore_collector():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_paused_inside_and_enabled_after():
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_caller_that_disabled_it_keeps_it_disabled():
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_nested_blocks_leave_it_to_the_outer_one():
    gc.enable()
    with collector_paused():
        with collector_paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_enabled_again_after_an_error():
    gc.enable()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_plan_runs_with_it_paused_and_leaves_it_enabled(monkeypatch):
    import sizing.planner.plan as planner

    seen = []
    search = planner.search

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return search(*args, **kwargs)

    monkeypatch.setattr(planner, "search", spy)
    gc.enable()
    plan(PlanRequest(model=load_preset("llama-3.1-8b")))
    assert seen and not any(seen)
    assert gc.isenabled()


def test_the_command_line_runs_its_command_with_the_collector_on_and_start_up_frozen():
    # python -m sizing pauses the collector while it imports (start-up makes long-lived objects only) and freezes
    # what start-up made, so the command's own collections skip it; the command itself runs with it enabled.
    import subprocess
    import sys

    probe = (
        "import gc, runpy, sizing.cli.main as m; "
        "m.main = lambda: print(gc.isenabled(), gc.get_freeze_count() > 0) or 0; "
        "runpy.run_module('sizing', run_name='__main__')"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "True"]
