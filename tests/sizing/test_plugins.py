"""Commands the upper layers register (sizing/cli/plugins.py) and the engine-only install's refusals (sizing/extras.py):
the CLI finds `report` and `plan --stack` through entry points, and a command whose extra is missing exits 2 naming
it."""

from __future__ import annotations

import argparse
import importlib.metadata
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sizing.cli import plugins
from sizing.cli.main import EXIT_BAD_INPUT, main
from sizing.errors import MissingExtraError
from sizing.extras import extra_for, missing_extra_message, require

ROOT = Path(__file__).resolve().parents[2]
LOADS_LIGHT = """
import sys
from sizing.cli import plugins
plugins.commands(), plugins.stack_planner()
print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'boto3', 'components'))))
"""


def test_pyproject_registers_report_and_plan_stack():
    table = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["entry-points"][plugins.GROUP]
    assert set(table) == {"report", plugins.STACK_PLANNER}
    assert set(plugins.commands()) == {"report"}
    assert isinstance(plugins.stack_planner(), plugins.StackPlanner)


def test_registering_imports_no_pulumi():
    """Loading the entries only describes the commands: Pulumi is imported when `report` runs, after its check."""
    result = subprocess.run([sys.executable, "-c", LOADS_LIGHT], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


WITHOUT_EXTRAS = """
import sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('pulumi', 'pulumi_aws', 'pulumi_kubernetes', 'boto3', 'botocore'):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, Absent())
import deploy.commands, deploy.fixed_costs, deploy.plan_lock, deploy.preflight, deploy.stack_file
print('imported')
"""


def test_what_plan_stack_runs_imports_without_pulumi_or_boto3():
    """deploy/ (plan --stack) imports where the pulumi extra is absent (tools/engine_only.sh runs it there too)."""
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRAS], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.stdout.strip() == "imported", result.stderr[-2000:]


def test_an_installed_package_reads_its_metadata(monkeypatch, tmp_path):
    """No pyproject.toml beside the packages (a wheel's site-packages): the distribution's entry points are read."""
    monkeypatch.setattr(plugins, "SOURCE_ROOT", tmp_path)
    plugins.registered.cache_clear()
    point = importlib.metadata.EntryPoint("report", "preview.commands:REPORT", plugins.GROUP)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [point] if group == plugins.GROUP else [])
    try:
        assert plugins.registered() == {"report": "preview.commands:REPORT"}
        with pytest.raises(plugins.InvalidInputError, match="To fix: install the whole project"):
            plugins.stack_planner()
    finally:
        plugins.registered.cache_clear()


def test_a_command_whose_extra_is_missing_exits_2_naming_it(monkeypatch, capsys):
    ran = []
    absent = plugins.Command(
        help="needs a module this machine lacks",
        add_arguments=lambda p: None,
        run=lambda args: ran.append(args) or 0,
        needs=("pulumi", "no_such_module_llmfleet"),
    )
    monkeypatch.setattr(plugins, "commands", lambda: {"report": absent})
    assert main(["report"]) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: `python -m sizing report` needs no_such_module_llmfleet")
    assert "To fix: pip install '.[pulumi]'" in err and "Traceback" not in err and not ran


def test_plan_stack_checks_its_planners_needs(monkeypatch, capsys):
    planner = plugins.StackPlanner(
        plan_stack_file=lambda path, update: pytest.fail("ran"), needs=("no_such_module_llmfleet",)
    )
    monkeypatch.setattr(plugins, "stack_planner", lambda: planner)
    assert main(["plan", "--stack", "stacks/Pulumi.dev.yaml"]) == EXIT_BAD_INPUT
    assert "needs no_such_module_llmfleet" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("module", "extra"),
    [("pulumi_aws", "pulumi"), ("boto3", "pulumi"), ("pulumi_policy", "test"), ("not_a_dependency", "pulumi")],
)
def test_the_extra_is_read_from_the_distributions_requirements(module, extra):
    assert extra_for(module) == extra


def test_require_is_quiet_when_the_modules_are_there():
    require("python -m sizing plan", ("pydantic", "yaml"))
    with pytest.raises(MissingExtraError):
        require("python -m policy", ("no_such_module_llmfleet",))
    assert "pip install '.[pulumi]'" in missing_extra_message("x", ["pulumi"])


def test_the_cli_reads_no_entry_points_for_its_own_commands(monkeypatch):
    """memory, speed, plan and calibrate never pay for the entry-point lookup."""
    monkeypatch.setattr(plugins, "commands", lambda: pytest.fail("entry points read"))
    assert main(["memory", "llama-3.1-8b", "--json"]) == 0


def test_report_is_listed_and_parsed(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["report", "--help"])
    assert exc.value.code == 0 and "--base-ref" in capsys.readouterr().out
    parser = argparse.ArgumentParser()
    plugins.commands()["report"].add_arguments(parser)
    assert parser.parse_args(["a.yaml", "--format", "json"]).format == "json"
