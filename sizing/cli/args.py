"""The flags that are no model's field (files, output options, the model, --assume), written here once for every
subcommand (the others are generated from the models: sizing/cli/fields.py, sizing/cli/inputs.py), and turning the
parsed arguments into engine objects."""

from __future__ import annotations

import argparse
from typing import Any, NamedTuple

from sizing.catalog.assumptions import Assumptions, with_overrides
from sizing.catalog.formats import WeightFormat, flat_format, get_format
from sizing.errors import InvalidInputError
from sizing.models.presets import resolve_model
from sizing.models.spec import ModelSpec

DEFAULT_MODEL = "llama-3.1-8b"
"""Model the main job plans for when none is given."""


class Option(NamedTuple):
    """A flag that is no model's field (a file, an output option, the model, overrides), written by hand."""

    names: tuple[str, ...]
    """Its spellings (argparse's name or flags)."""
    settings: dict[str, Any]
    """argparse's keywords: help, action, metavar, ..."""


MODEL_HELP = "preset name, Hugging Face repo id of a preset, or path to a config.json"
"""What --model takes."""
MODEL = Option(("--model", "-m"), {"help": MODEL_HELP})
"""--model: the model to size."""
ASSUME = Option(
    ("--assume",),
    {
        "action": "append",
        "default": [],
        "metavar": "KEY=VALUE",
        "help": "override an assumption from sizing/data/assumptions.toml (repeatable)",
    },
)
"""--assume KEY=VALUE."""
JSON = Option(("--json",), {"action": "store_true", "help": "print JSON"})
"""--json: the answer as JSON instead of text."""

HAND_WRITTEN: dict[str, tuple[Option, ...]] = {
    "memory": (
        Option(("model_pos",), {"nargs": "?", "metavar": "MODEL", "help": "same as --model"}),
        MODEL,
        ASSUME,
        JSON,
    ),
    "speed": (
        MODEL,
        ASSUME,
        Option(
            ("--calibration",),
            {
                "metavar": "FILE",
                "help": "a calibration written by `calibrate` for this GPU, model and weights: its fitted efficiencies "
                "replace the assumptions",
            },
        ),
        JSON,
    ),
    "plan": (
        MODEL,
        ASSUME,
        Option(
            ("--calibration",),
            {
                "metavar": "FILE",
                "help": "a calibration written by `calibrate`: candidates on its GPU, model and weights are sized with "
                "its fitted efficiencies (and said to be)",
            },
        ),
        Option(
            ("--bench-commands",),
            {
                "action": "store_true",
                "help": "also print the benchmark commands (vllm bench serve, GuideLLM) that check the chosen plan "
                "once deployed",
            },
        ),
        JSON,
        Option(
            ("--stack",),
            {
                "metavar": "STACK_FILE",
                "help": "plan this stack file (Pulumi.<name>.yaml) instead of the flags above, and compare the plan "
                "with its lock (Pulumi.<name>.plan.json)",
            },
        ),
        Option(
            ("--update-lock",),
            {"action": "store_true", "help": "with --stack: record the fresh plan as the stack's lock"},
        ),
    ),
    "calibrate": (
        Option(
            ("results",),
            {
                "nargs": "+",
                "metavar": "RESULT",
                "help": "`vllm bench serve --save-result` JSON, GuideLLM benchmarks.json or AIPerf "
                "profile_export_aiperf.json files",
            },
        ),
        Option(("--model", "-m"), {"required": True, "help": "the model benchmarked: " + MODEL_HELP}),
        Option(ASSUME.names, {**ASSUME.settings, "help": argparse.SUPPRESS}),
        Option(("--out", "-o"), {"required": True, "help": "calibration file to write (TOML)"}),
        JSON,
    ),
    "catalog": (
        Option(
            ("--by-gpu",),
            {
                "action": "store_true",
                "help": "one line per GPU: its memory, the instance types and GPU counts that carry it, and the lowest "
                "on-demand price per GPU-hour",
            },
        ),
        Option(
            ("--json",), {"action": "store_true", "help": "print JSON: one object per type (per GPU with --by-gpu)"}
        ),
    ),
}
"""Subcommand -> its flags that are no model's field; every other flag is generated (sizing/cli/fields.py)."""


def add_hand_written(parser: argparse.ArgumentParser, command: str) -> None:
    """The command's flags of HAND_WRITTEN."""
    for option in HAND_WRITTEN[command]:
        parser.add_argument(*option.names, **option.settings)


def model_from_args(args: argparse.Namespace) -> ModelSpec:
    """The model: a preset or config.json, or raw numbers."""
    raw = [getattr(args, k, None) for k in ("params_b", "layers", "kv_heads", "head_dim")]
    if args.model and any(v is not None for v in raw):
        raise InvalidInputError("Both --model and raw numbers were given. To fix: pass one or the other.")
    if args.model:
        return resolve_model(args.model)
    if any(v is not None for v in raw):
        from sizing.models.raw import spec_from_numbers  # `memory`'s raw numbers only

        return spec_from_numbers(
            args.params_b,
            args.layers,
            args.kv_heads,
            args.head_dim,
            hidden=getattr(args, "hidden", None),
            vocab=getattr(args, "vocab", None),
        )
    return resolve_model(DEFAULT_MODEL)


def format_from_args(args: argparse.Namespace, model: ModelSpec) -> WeightFormat:
    """--weights, --bytes-per-param, or the checkpoint's own format."""
    bpp = getattr(args, "bytes_per_param", None)
    if bpp is not None and args.weights:
        raise InvalidInputError("Both --weights and --bytes-per-param were given. To fix: pass one of them.")
    if bpp is not None:
        return flat_format(bpp)
    if not args.weights or args.weights.strip().lower() in ("auto", "native"):  # one replica: no format search
        return get_format(model.native_format)
    return get_format(args.weights)


def assumptions_from_args(args: argparse.Namespace) -> Assumptions:
    """Defaults with --assume overrides."""
    overrides = {}
    for item in args.assume:
        if "=" not in item:
            raise InvalidInputError(
                f"--assume {item!r} is not KEY=VALUE. To fix: e.g. --assume prefill_compute_efficiency=0.45"
            )
        key, value = item.split("=", 1)
        overrides[key.strip()] = value.strip()
    return with_overrides(overrides)
