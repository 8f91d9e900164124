"""What a whole-process `python -m sizing plan` loads and does before it plans (issue 21, item 7: start-up time): the
modules of other commands stay unloaded, and the shortcuts taken for speed answer as the full paths do."""

import subprocess
import sys

from sizing.models.presets import _aliases, load_preset, preset_names

PLAN_SKIPS = (
    "sizing.cli.calibrate",
    "sizing.cli.catalog",
    "sizing.calibration.results",
    "sizing.memory.demand",
    "sizing.models.raw",
    "sizing.cli.command_inputs",
)
"""Modules of other commands that a plain `plan` never imports."""


def _modules_after_plan() -> set[str]:
    probe = (
        "import contextlib, io, sys\n"
        "from sizing.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['plan']) == 0\n"
        "print('\\n'.join(sys.modules))"
    )
    env = {"LLMFLEET_PREFLIGHT": "off", "PATH": ""}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    return set(result.stdout.split())


def test_a_plain_plan_loads_no_other_commands_modules():
    loaded = _modules_after_plan()
    assert "sizing.planner.plan" in loaded  # the probe did plan
    assert not [m for m in PLAN_SKIPS if m in loaded]


def test_a_preset_found_by_name_is_the_one_the_alias_index_names():
    index = _aliases()
    assert all(index[name] == name for name in preset_names())
    by_name, by_repo = load_preset(" Llama-3.1-8B "), load_preset("meta-llama/Llama-3.1-8B-Instruct")
    assert by_name.model_dump() == by_repo.model_dump()  # dumps: another test may have re-imported the model classes
