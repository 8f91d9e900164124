"""Argument parsing, error handling and exit codes for `python -m sizing`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError

from sizing.catalog.formats import vllm_kv_cache_dtype
from sizing.cli import commands, render
from sizing.cli.args import add_assume_arg, add_engine_args, add_expert_args, add_model_args
from sizing.cli.calibrate import add_calibrate_args, calibrate_command
from sizing.cli.catalog import add_catalog_args, catalog_command
from sizing.cli.exits import (  # noqa: F401 (re-exported)
    EXIT_BAD_INPUT,
    EXIT_INFEASIBLE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_STALE_LOCK,
)
from sizing.cli.fields import add_model_flags, flag
from sizing.cli.inputs import NUMBERS, validate_numbers
from sizing.errors import InfeasibleError, SizingError
from sizing.planner.request import Deployment, Workload
from sizing.redact import redact


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors (exit 2) also say what to fix, and never echo a credential. Options are never
    abbreviated: `--gpu` is its own option, not a prefix of `--gpu-memory-utilization`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "allow_abbrev": False})

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, redact(f"{self.prog}: error: {message}\nTo fix: see `{self.prog} --help`.\n"))


def _parser(docs: bool = True, plugins_wanted: bool = True) -> argparse.ArgumentParser:
    """The command line; `docs`: with each generated flag's help (read from the models' source, for --help only);
    `plugins_wanted`: with the upper layers' commands (read from the entry points)."""
    p = _Parser(
        prog="python -m sizing", description="Size LLM serving on GPUs from first principles.", allow_abbrev=False
    )
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    mem = sub.add_parser("memory", help="memory per GPU for a model, with or without a GPU")
    mem.add_argument("model_pos", nargs="?", metavar="MODEL", help="same as --model")
    add_model_args(mem, raw=True)
    add_engine_args(mem)
    mem.add_argument("--gpu", help="GPU name or AWS instance type (adds the engine's KV capacity)")
    mem.add_argument("--tp", type=int, default=1, help="tensor-parallel degree")
    mem.add_argument("--pp", type=int, default=1, help="pipeline-parallel degree")
    add_expert_args(mem)
    mem.add_argument("--seq-len", type=int, help="tokens per request (prompt plus output)")
    mem.add_argument("--batch", type=int, default=1, help="concurrent requests")
    mem.add_argument("--json", action="store_true", help="print JSON")

    spd = sub.add_parser("speed", help="TTFT, TPOT and tokens/s of one replica")
    add_model_args(spd, raw=False)
    add_engine_args(spd)
    spd.add_argument("--gpu", required=True, help="GPU name or AWS instance type")
    spd.add_argument("--tp", type=int, default=1)
    spd.add_argument("--pp", type=int, default=1)
    add_expert_args(spd)
    spd.add_argument("--input-tokens", type=int, default=1024)
    spd.add_argument("--output-tokens", type=int, default=256)
    spd.add_argument(
        "--batch", help="running sequences decoding together, no arrivals, or 'max' (the largest that fits); default 1"
    )
    spd.add_argument("--tpot-ms", type=float, help="with --batch max: the largest batch meeting this TPOT")
    spd.add_argument(
        "--concurrency",
        type=float,
        help="closed loop: clients each sending a request when the previous one completes (steady state)",
    )
    spd.add_argument("--request-rate", type=float, help="open loop: Poisson arrivals, requests/s (steady state)")
    spd.add_argument(
        "--prefix-hit-rate",
        type=float,
        help="share of prompt tokens served from the prefix cache, 0 <= h < 1 (with --concurrency or --request-rate)",
    )
    spd.add_argument(
        "--arrivals",
        choices=["poisson", "burst"],
        help="with --concurrency: how the clients' requests "
        "arrive: poisson (default; production traffic) or burst (benchmark clients with identical lengths "
        "that start together: GenAI-Perf, AIPerf, vllm bench serve --max-concurrency at an infinite rate)",
    )
    spd.add_argument(
        "--max-num-batched-tokens",
        type=int,
        help="the engine's token budget per step, when it is not "
        "the profile's default (to reproduce a benchmark as it ran)",
    )
    spd.add_argument(
        "--calibration",
        metavar="FILE",
        help="a calibration written by `calibrate` for this GPU, model "
        "and weights: its fitted efficiencies replace the assumptions",
    )
    spd.add_argument("--json", action="store_true")

    pl = sub.add_parser("plan", help="the cheapest AWS fleet for a workload, explained")
    add_model_args(pl, raw=False, formats=False)
    add_assume_arg(pl)
    pl.add_argument(
        "--gpu",
        help="only instance types with this GPU (a name or alias from sizing/data/gpus.csv, e.g. "
        "H100, L40S); with --instance-types, those of them that carry it",
    )
    add_model_flags(pl, Workload, docs)
    add_model_flags(pl, Deployment, docs)
    pl.add_argument(
        "--calibration",
        metavar="FILE",
        help="a calibration written by `calibrate`: candidates on its "
        "GPU, model and weights are sized with its fitted efficiencies (and said to be)",
    )
    pl.add_argument(
        "--bench-commands",
        action="store_true",
        help="also print the benchmark commands (vllm bench serve, GuideLLM) that check the chosen plan once deployed",
    )
    pl.add_argument("--json", action="store_true")
    pl.add_argument(
        "--stack",
        metavar="STACK_FILE",
        help="plan this stack file (Pulumi.<name>.yaml) instead of the "
        "flags above, and compare the plan with its lock (Pulumi.<name>.plan.json)",
    )
    pl.add_argument(
        "--update-lock", action="store_true", help="with --stack: record the fresh plan as the stack's lock"
    )

    add_calibrate_args(sub)
    add_catalog_args(sub)

    if plugins_wanted:
        # here: the engine's own commands never pay for the entry points
        from sizing.cli import plugins

        for name, command in plugins.commands().items():  # `report` and the like: registered by the upper layers
            command.add_arguments(sub.add_parser(name, help=command.help))
    return p


def _validation_message(exc: ValidationError) -> str:
    models: list[type[BaseModel]] = [*NUMBERS.values(), Workload, Deployment]  # plan's flags are their fields
    cli = exc.title in {kind.__name__ for kind in models}
    parts = []
    for e in exc.errors():
        where = flag(str(e["loc"][0])) if cli and e["loc"] else ".".join(str(x) for x in e["loc"]) or exc.title
        parts.append(f"{where}={redact(repr(e.get('input')))[:120]}: {e['msg']}" if e["loc"] else e["msg"])
    title = "command-line value" if cli else exc.title
    return f"Invalid {title}: " + "; ".join(dict.fromkeys(parts)) + ". To fix: correct the value named above."


ENGINE_COMMANDS = ("memory", "speed", "plan", "calibrate", "catalog")
"""The engine's own subcommands; the others are registered by the upper layers (sizing/cli/plugins.py), whose entry
points are read only when the command line may name one (never on the engine's own commands: it costs time)."""

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


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    given = sys.argv[1:] if argv is None else argv
    parser = _parser(
        docs=bool({"-h", "--help"} & set(given)), plugins_wanted=not given or given[0] not in ENGINE_COMMANDS
    )
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
    handler = {
        "memory": commands.memory,
        "speed": commands.speed,
        "plan": commands.plan_command,
        "calibrate": calibrate_command,
        "catalog": catalog_command,
    }[args.command]
    try:
        validate_numbers(args)
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
