"""Every command's flags come from its model (issue 21, item 3): one field, one flag with the field's type, bounds,
default and docstring, for `memory`, `speed`, `calibrate` and `catalog` (sizing/cli/inputs.py) as for `plan` (Workload,
Deployment); the few flags that are no model's field are written in one place (sizing/cli/args.py); the command-line
page names them all."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from sizing.cli import inputs, main
from sizing.cli.args import HAND_WRITTEN
from sizing.cli.fields import flag
from sizing.field_docs import field_docs
from sizing.planner.request import Deployment, Workload

ROOT = Path(__file__).resolve().parents[2]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    return parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]


def options_of(command: str) -> dict[str, argparse.Action]:
    return subcommands(main._parser(docs=True, plugins_wanted=False))[command]._option_string_actions


@pytest.mark.parametrize("command", sorted(inputs.OPTIONS))
def test_each_field_of_a_commands_model_is_one_flag_with_its_docstring_bounds_and_default(command):
    model, options = inputs.OPTIONS[command], options_of(command)
    docs = field_docs(model)
    for name, info in model.model_fields.items():
        action = options[flag(name)]
        assert action.dest == name
        assert action.required if info.is_required() else action.default == info.default, name
        assert docs[name] and docs[name][:40] in " ".join(action.help.split()), name
    assert "(>= 1, <= 1024)" in options_of("memory")["--tp"].help
    assert options_of("speed")["--arrivals"].choices == ["poisson", "burst"]


def test_flags_that_are_no_models_field_are_written_in_one_place():
    """Before: memory's, speed's and calibrate's flags were written by hand in three modules, beside their models."""
    writers = sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "sizing" / "cli").glob("*.py") if "add_argument(" in p.read_text()
    )
    assert writers == ["sizing/cli/args.py", "sizing/cli/fields.py"]
    generated = {flag(n) for m in [*inputs.OPTIONS.values(), Workload, Deployment] for n in m.model_fields}
    hand = {name for options in HAND_WRITTEN.values() for option in options for name in option.names}
    assert not hand & generated


class _Extra(BaseModel):
    """A model with a field no command has yet."""

    warmup_ms: float | None = Field(default=None, ge=0, le=60_000)
    """Time the engine warms up before it serves, milliseconds."""


@pytest.mark.parametrize("command", ["memory", "speed", "calibrate", "catalog", "plan"])
def test_a_new_field_is_a_flag_of_each_command_that_reads_it(monkeypatch, command, capsys):
    """A field added to a command's model is its flag, documented and bounded, with nothing else written."""
    grown = type(inputs.OPTIONS[command].__name__, (inputs.OPTIONS[command], _Extra), {})
    monkeypatch.setitem(inputs.OPTIONS, command, grown)
    action = options_of(command)["--warmup-ms"]
    assert (
        action.dest == "warmup_ms" and "warms up before it serves" in action.help and "(>= 0, <= 60000)" in action.help
    )
    argv = {"speed": ["--gpu", "L4"], "calibrate": ["r.json", "-m", "x", "--gpu", "L4", "-o", "o"]}
    code = main.main([command, *argv.get(command, []), "--warmup-ms", "1e9"])  # the model bounds what it generated
    assert code == 2 and "--warmup-ms=1000000000.0: Input should be less than or equal to 60000" in (
        capsys.readouterr().err
    )


def test_a_new_workload_field_is_a_plan_flag(monkeypatch):
    grown = type("Workload", (Workload, _Extra), {})
    monkeypatch.setitem(main.REQUEST_MODELS, "plan", (grown, Deployment))
    action = options_of("plan")["--warmup-ms"]
    assert action.default is None and "warms up before it serves" in action.help  # the model's default applies


@pytest.mark.parametrize("command", sorted(main.ENGINE_COMMANDS))
def test_every_flag_of_every_command_is_in_the_command_line_page(command):
    page = (ROOT / "docs" / "command-line.md").read_text()
    missing = [f for f in options_of(command) if f.startswith("--") and f"`{f}" not in page and f != "--help"]
    assert not missing, f"docs/command-line.md does not name {command}'s {missing}"
