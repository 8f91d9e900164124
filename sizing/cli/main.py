"""Argument parsing, error handling and exit codes for `python -m sizing`."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError

from sizing.catalog.formats import vllm_kv_cache_dtype
from sizing.cli import commands, render
from sizing.cli.args import add_engine_args, add_expert_args, add_model_args
from sizing.cli.calibrate import add_calibrate_args, calibrate_command
from sizing.cli.exits import EXIT_BAD_INPUT, EXIT_INFEASIBLE, EXIT_INTERRUPTED, EXIT_OK  # noqa: F401 (re-exported)
from sizing.cli.inputs import NUMBERS, flag, validate_numbers
from sizing.errors import InfeasibleError, SizingError
from sizing.planner.request import MAX_LENGTH_MULTIPLE, Deployment, Workload
from sizing.redact import redact



class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors (exit 2) also say what to fix, and never echo a credential."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, redact(f"{self.prog}: error: {message}\nTo fix: see `{self.prog} --help`.\n"))


def _default(model: type[BaseModel], name: str) -> Any:
    """A plan option's default: the request model's own, so that the command line and stack files agree."""
    return model.model_fields[name].default


def _parser(plugins_wanted: bool = True) -> argparse.ArgumentParser:
    p = _Parser(prog="python -m sizing", description="Size LLM serving on GPUs from first principles.")
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
    spd.add_argument("--batch", help="running sequences decoding together, no arrivals, or 'max' (the largest that "
                     "fits); default 1")
    spd.add_argument("--tpot-ms", type=float, help="with --batch max: the largest batch meeting this TPOT")
    spd.add_argument("--concurrency", type=float, help="closed loop: clients each sending a request when the previous "
                     "one completes (steady state)")
    spd.add_argument("--request-rate", type=float, help="open loop: Poisson arrivals, requests/s (steady state)")
    spd.add_argument("--prefix-hit-rate", type=float, help="share of prompt tokens served from the prefix "
                     "cache, 0 <= h < 1 (with --concurrency or --request-rate)")
    spd.add_argument("--arrivals", choices=["poisson", "burst"], help="with --concurrency: how the clients' requests "
                     "arrive: poisson (default; production traffic) or burst (benchmark clients with identical lengths "
                     "that start together: GenAI-Perf, AIPerf, vllm bench serve --max-concurrency at an infinite rate)")
    spd.add_argument("--max-num-batched-tokens", type=int, help="the engine's token budget per step, when it is not "
                     "the profile's default (to reproduce a benchmark as it ran)")
    spd.add_argument("--calibration", metavar="FILE", help="a calibration written by `calibrate` for this GPU, model "
                     "and weights: its fitted efficiencies replace the assumptions")
    spd.add_argument("--json", action="store_true")

    pl = sub.add_parser("plan", help="the cheapest AWS fleet for a workload, explained")
    add_model_args(pl, raw=False)
    add_engine_args(pl)
    pl.add_argument("--concurrency", type=int, default=_default(Workload, "concurrency"),
                    help="requests in flight: closed-loop clients (default 32 when no rate is given); with a rate, the "
                         "most in flight (each request then takes at most concurrency / rate seconds)")
    pl.add_argument("--input-tokens", type=int, default=_default(Workload, "input_tokens"))
    pl.add_argument("--output-tokens", type=int, default=_default(Workload, "output_tokens"))
    pl.add_argument("--requests-per-second", type=float)
    pl.add_argument("--output-tokens-per-second", type=float)
    pl.add_argument("--ttft-ms", type=float, help="mean time-to-first-token target")
    pl.add_argument("--tpot-ms", type=float, help="mean inter-token latency target")
    pl.add_argument("--ttft-p95-ms", type=float, help="p95 time-to-first-token target")
    pl.add_argument("--tpot-p95-ms", type=float, help="p95 target of a request's mean inter-token latency")
    pl.add_argument("--prefix-hit-rate", type=float, default=_default(Workload, "prefix_hit_rate"),
                    help="share of prompt tokens served from the prefix cache")
    pl.add_argument("--max-input-tokens", type=int,
                    help=f"longest prompt accepted (default {MAX_LENGTH_MULTIPLE} x --input-tokens)")
    pl.add_argument("--max-output-tokens", type=int,
                    help=f"longest generation accepted (default {MAX_LENGTH_MULTIPLE} x --output-tokens)")
    pl.add_argument("--workload", choices=["interactive", "batch"], default=_default(Workload, "kind"))
    pl.add_argument("--job-output-tokens", type=int, help="batch: output tokens the whole job generates; plans are then "
                    "ranked by what the job costs")
    pl.add_argument("--deadline-hours", type=float, help="batch: the job finishes within this many hours of launch "
                    "(with --job-output-tokens)")
    pl.add_argument("--headroom", type=int, default=_default(Workload, "headroom_replicas"), help="extra replicas (1 = N+1)")
    pl.add_argument("--on-demand-floor", type=float, help="share of required replicas kept on demand")
    pl.add_argument("--purchase", choices=["on-demand", "spot", "mixed", "capacity-block"],
                    help="force a purchase option (capacity-block: EC2 Capacity Block rates, where the catalog has them)")
    pl.add_argument("--spare-purchase", choices=["on-demand", "spot"],
                    help="how the --headroom spare is bought (default: on-demand for interactive, spot for batch)")
    pl.add_argument("--speculative", choices=["eagle3", "mtp"], help="speculative decoding with the model's catalogued "
                    "draft (sizing/data/speculators.csv): an EAGLE-3 head or the model's own MTP module")
    pl.add_argument("--region", default=_default(Deployment, "region"))
    pl.add_argument("--instance-types", help="comma-separated allow-list")
    pl.add_argument("--calibration", metavar="FILE", help="a calibration written by `calibrate`: candidates on its "
                    "GPU, model and weights are sized with its fitted efficiencies (and said to be)")
    pl.add_argument("--bench-commands", action="store_true", help="also print the benchmark commands (vllm bench "
                    "serve, GuideLLM) that check the chosen plan once deployed")
    pl.add_argument("--json", action="store_true")
    pl.add_argument("--stack", metavar="STACK_FILE", help="plan this stack file (Pulumi.<name>.yaml) instead of the "
                    "flags above, and compare the plan with its lock (Pulumi.<name>.plan.json)")
    pl.add_argument("--update-lock", action="store_true", help="with --stack: record the fresh plan as the stack's lock")

    add_calibrate_args(sub)

    if plugins_wanted:
        # here: the engine's own commands never pay for the entry points
        from sizing.cli import plugins

        for name, command in plugins.commands().items():  # `report` and the like: registered by the upper layers
            command.add_arguments(sub.add_parser(name, help=command.help))
    return p


def _validation_message(exc: ValidationError) -> str:
    cli = exc.title in {kind.__name__ for kind in NUMBERS.values()}
    parts = []
    for e in exc.errors():
        where = flag(str(e["loc"][0])) if cli and e["loc"] else ".".join(str(x) for x in e["loc"]) or exc.title
        parts.append(f"{where}={redact(repr(e.get('input')))[:120]}: {e['msg']}" if e["loc"] else e["msg"])
    title = "command-line value" if cli else exc.title
    return f"Invalid {title}: " + "; ".join(dict.fromkeys(parts)) + ". To fix: correct the value named above."


ENGINE_COMMANDS = ("memory", "speed", "plan", "calibrate")
"""The engine's own subcommands; the others are registered by the upper layers (sizing/cli/plugins.py), whose entry
points are read only when the command line may name one (never on the engine's own commands: it costs time)."""

WITH_STACK = ("--stack", "--update-lock", "--json", "-h", "--help")
"""The plan options `plan --stack` reads; every other one would be ignored."""


def ignored_with_stack(parser: argparse.ArgumentParser, args: argparse.Namespace, argv: list[str]) -> list[str]:
    """The plan options given on the command line that `plan --stack` would not read (the model included)."""
    if args.command != "plan" or not getattr(args, "stack", None):
        return []
    plan = next(a for a in parser._subparsers._group_actions[0].choices.values()  # type: ignore[union-attr]
                if a.prog.endswith(" plan"))
    options = plan._option_string_actions
    given = [token.split("=", 1)[0] for token in argv if token.startswith("-")]
    return list(dict.fromkeys(f for f in given if f in options and f not in WITH_STACK))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    given = sys.argv[1:] if argv is None else argv
    parser = _parser(plugins_wanted=not given or given[0] not in ENGINE_COMMANDS)
    args = parser.parse_args(argv)
    ignored = ignored_with_stack(parser, args, given)
    if ignored:
        print(redact(f"error: plan --stack plans the stack file's own config, so {', '.join(ignored)} would be ignored. "
                     f"To fix: drop {'it' if len(ignored) == 1 else 'them'}, or set the value in the stack file "
                     "(llmfleet:workload, llmfleet:deployment)."), file=sys.stderr)
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
            print(redact(f"error: two models given: {args.model_pos[:200]!r} and --model {args.model[:200]!r}. "
                         "To fix: give the model once."), file=sys.stderr)
            return EXIT_BAD_INPUT
        args.model = args.model_pos
    handler = {"memory": commands.memory, "speed": commands.speed, "plan": commands.plan_command,
               "calibrate": calibrate_command}[args.command]
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
    render.emit(redact(json.dumps(data, indent=2, sort_keys=True) if args.json else "\n".join(lines)))
    if data.get("fits") is False:
        print(redact(f"infeasible: {render.nearest_miss(data)}"), file=sys.stderr)
        return EXIT_INFEASIBLE
    return EXIT_OK
