"""Argument parsing, error handling and exit codes for `python -m sizing`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError

from sizing.catalog.formats import vllm_kv_cache_dtype
from sizing.cli import commands, inputs, render
from sizing.cli.args import add_hand_written
from sizing.cli.exits import (  # noqa: F401 (re-exported)
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STALE_LOCK,
)
from sizing.cli.fields import add_model_flags, flag
from sizing.cli.inputs import options_model, validate_options
from sizing.errors import InfeasibleError, SizingError
from sizing.planner.request import Deployment, Workload
from sizing.redact import redact

ENGINE_COMMANDS: dict[str, tuple[str, str | None]] = {
    "memory": ("memory per GPU for a model, with or without a GPU", None),
    "speed": ("TTFT, TPOT and tokens/s of one replica", None),
    "plan": ("the cheapest AWS fleet for a workload, explained", None),
    "calibrate": ("fit the speed model to your own benchmark result files", None),
    "catalog": (
        "instance types, GPUs, GPU memory, on-demand prices and regions",
        "The AWS GPU instance types the planner sizes, cheapest first. Filters combine.",
    ),
}
"""The engine's own subcommands, their help and description; the others are registered by the upper layers
(sizing/cli/plugins.py), whose entry points are read only when the command line may name one (never on the engine's
own commands: it costs time). Their flags: the fields of their models (sizing/cli/inputs.py, and REQUEST_MODELS) and
the few written by hand (sizing/cli/args.py)."""
REQUEST_MODELS: dict[str, tuple[type[BaseModel], ...]] = {"plan": (Workload, Deployment)}
"""Commands whose other flags are the fields of the engine's own request models: an option not given is not passed,
so the model's default applies (a command's own model, sizing/cli/inputs.py, puts its defaults in the parsed values)."""


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors (exit 2) also say what to fix, and never echo a credential. Options are never
    abbreviated: `--gpu` is its own option, not a prefix of `--gpu-memory-utilization`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, redact(f"{self.prog}: error: {message}\nTo fix: see `{self.prog} --help`.\n"))


def _parser(docs: bool = True, plugins_wanted: bool = True, only: str | None = None) -> argparse.ArgumentParser:
    """The command line; `docs`: with each generated flag's help (read from the models' source, for --help only);
    `plugins_wanted`: with the upper layers' commands (read from the entry points); `only`: the engine command the
    command line names, the one whose flags are added (the others are listed with their summary, as --help shows
    them; generating every command's flags costs start-up time)."""
    p = _Parser(
        prog="python -m sizing", description="Size LLM serving on GPUs from first principles.", allow_abbrev=False
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (summary, description) in ENGINE_COMMANDS.items():
        engine_command = sub.add_parser(name, help=summary, description=description)
        if only is not None and name != only:
            continue
        add_hand_written(engine_command, name)
        own = options_model(name)
        if own is not None:
            add_model_flags(engine_command, own, docs, given_only=False)
        for model in REQUEST_MODELS.get(name, ()):
            add_model_flags(engine_command, model, docs)

    if plugins_wanted:
        # here: the engine's own commands never pay for the entry points
        from sizing.cli import plugins

        for name, command in plugins.commands().items():  # `report` and the like: registered by the upper layers
            command.add_arguments(sub.add_parser(name, help=command.help))
    return p


def _validation_message(exc: ValidationError) -> str:
    models: list[type[BaseModel]] = [*inputs.OPTIONS.values(), Workload, Deployment]  # plan's flags are their fields
    cli = exc.title in {kind.__name__ for kind in models}
    parts = []
    for e in exc.errors():
        where = flag(str(e["loc"][0])) if cli and e["loc"] else ".".join(str(x) for x in e["loc"]) or exc.title
        parts.append(f"{where}={redact(repr(e.get('input')))[:120]}: {e['msg']}" if e["loc"] else e["msg"])
    title = "command-line value" if cli else exc.title
    return f"Invalid {title}: " + "; ".join(dict.fromkeys(parts)) + ". To fix: correct the value named above."


WITH_STACK = ("--stack", "--update-lock", "--json", "-h", "--help")
"""The plan options `plan --stack` reads; every other one would be ignored."""


def ignored_with_stack(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str]) -> list[str]:
    """The plan options given on the command line that `plan --stack` would not read (the model included)."""
    if args.command != "plan" or not getattr(args, "stack", None):
        return []
    plan = next(
        a
        for a in parser._subparsers._group_actions[0].choices.values()  # type: ignore[union-attr]
        if a.prog.endswith(" plan")
    )
    options = plan._option_string_actions
    given = [token.split("=", 1)[0] for token in argv if token.startswith("-")]
    return list(dict.fromkeys(f for f in given if f in options and f not in WITH_STACK))


def _handler(command: str) -> Callable[[argparse.Namespace], tuple[dict, list[str]]]:
    """The engine command's function (calibrate's and catalog's modules imported when named: `plan` skips them)."""
    if command == "calibrate":
        from sizing.cli.calibrate import calibrate_command

        return calibrate_command
    if command == "catalog":
        from sizing.cli.catalog import catalog_command

        return catalog_command
    return {"memory": commands.memory, "speed": commands.speed, "plan": commands.plan_command}[command]


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    given = sys.argv[1:] if argv is None else argv
    named = given[0] if given and given[0] in ENGINE_COMMANDS else None
    parser = _parser(docs=bool({"-h", "--help"} & set(given)), plugins_wanted=named is None, only=named)
    args = parser.parse_args(given)
    ignored = ignored_with_stack(parser, args, given)
    if ignored:
        print(
            redact(
                f"error: plan --stack plans the stack file's own config, so {', '.join(ignored)} would be ignored. "
                f"To fix: drop {'it' if len(ignored) == 1 else 'them'}, or set the value in the stack file "
                "(llmfleet:workload, llmfleet:deployment)."
            ),
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    if args.command not in ENGINE_COMMANDS:
        from sizing.cli import plugins
        from sizing.extras import require

        command = plugins.commands()[args.command]
        try:
            require(f"python -m sizing {args.command}", command.needs)
        except SizingError as exc:
            print(redact(f"error: {exc}"), file=sys.stderr)
            return EXIT_BAD_INPUT
        return command.run(args)
    if getattr(args, "model_pos", None):
        if args.model and args.model != args.model_pos:  # one of them would be ignored without a word
            print(
                redact(
                    f"error: two models given: {args.model_pos[:200]!r} and --model {args.model[:200]!r}. "
                    "To fix: give the model once."
                ),
                file=sys.stderr,
            )
            return EXIT_BAD_INPUT
        args.model = args.model_pos
    try:
        handler = _handler(args.command)
        validate_options(args)
        if getattr(args, "kv_dtype", None) is not None:  # as vLLM spells it, before it is shown or planned with
            args.kv_dtype = vllm_kv_cache_dtype(args.kv_dtype)
        data, lines = handler(args)
    except InfeasibleError as exc:
        print(redact(f"infeasible: {exc}"), file=sys.stderr)
        return EXIT_INFEASIBLE
    except SizingError as exc:
        print(redact(f"error: {exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except ValidationError as exc:
        print(redact(f"error: {_validation_message(exc)}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    render.emit(redact(json.dumps(data, indent=2, sort_keys=True) if args.json else "\n".join(render.wrapped(lines))))
    if data.get("fits") is False:
        print(redact(f"infeasible: {render.nearest_miss(data)}"), file=sys.stderr)
        return EXIT_INFEASIBLE
    if (data.get("plan_lock") or {}).get("status") == "stale":
        print(
            f"plan lock: stale (the stack's sizing config changed); exit {EXIT_STALE_LOCK}. To fix: review the fresh "
            "plan above and record it with --update-lock.",
            file=sys.stderr,
        )
        return EXIT_STALE_LOCK
    return EXIT_OK
