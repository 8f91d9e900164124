"""Arguments shared by the subcommands, and turning them into engine objects."""

from __future__ import annotations

import argparse

from sizing.catalog.assumptions import Assumptions, with_overrides
from sizing.catalog.formats import WeightFormat, flat_format, get_format
from sizing.errors import InvalidInputError
from sizing.models.presets import resolve_model
from sizing.models.raw import spec_from_numbers
from sizing.models.spec import ModelSpec

DEFAULT_MODEL = "llama-3.1-8b"
"""Model the main job plans for when none is given."""


def add_model_args(p: argparse.ArgumentParser, raw: bool, formats: bool = True) -> None:
    """--model, --weights and --kv-dtype (`formats`; plan's come from Deployment), and for `memory` the raw-number
    alternative."""
    p.add_argument("--model", "-m", help="preset name, Hugging Face repo id of a preset, or path to a config.json")
    if not formats:
        return
    p.add_argument(
        "--weights",
        help="weight format: bf16, fp16, fp32, fp8, fp8-block, int8, int4-awq, int4-gptq, mxfp4; "
        "native (the checkpoint's own); auto (plan's default: native, and FP8 where sound)",
    )
    p.add_argument("--kv-dtype", default="auto", help="KV cache dtype: auto (model dtype) or fp8")
    if raw:
        p.add_argument("--params-b", type=float, help="raw numbers: parameters, billions")
        p.add_argument("--layers", type=int, help="raw numbers: decoder layers")
        p.add_argument("--kv-heads", type=int, help="raw numbers: key/value heads")
        p.add_argument("--head-dim", type=int, help="raw numbers: head size")
        p.add_argument("--bytes-per-param", type=float, help="raw numbers: bytes per parameter (2 = bf16)")
        p.add_argument("--hidden", type=int, help="raw numbers: hidden size (optional; shapes activations)")
        p.add_argument("--vocab", type=int, help="raw numbers: vocabulary (optional; shapes activations)")


def add_engine_args(p: argparse.ArgumentParser) -> None:
    """Serving-engine settings."""
    p.add_argument(
        "--gpu-memory-utilization", type=float, help="share of visible GPU memory vLLM may use (default 0.90)"
    )
    p.add_argument("--max-model-len", type=int, help="longest request the engine accepts, tokens")
    p.add_argument("--engine", help="engine profile from sizing/data/engines.toml (default vllm-0.19)")
    add_assume_arg(p)


def add_assume_arg(p: argparse.ArgumentParser) -> None:
    """--assume KEY=VALUE (plan's other engine settings come from Deployment)."""
    p.add_argument(
        "--assume",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override an assumption from sizing/data/assumptions.toml (repeatable)",
    )


def add_expert_args(p: argparse.ArgumentParser) -> None:
    """MoE layouts: expert parallelism and data-parallel attention."""
    p.add_argument(
        "--dp",
        type=int,
        default=1,
        help="data-parallel attention ranks in the replica (MoE; vLLM --data-parallel-size)",
    )
    p.add_argument("--ep", action="store_true", help="expert parallelism (vLLM --enable-expert-parallel)")


def model_from_args(args: argparse.Namespace) -> ModelSpec:
    """The model: a preset or config.json, or raw numbers."""
    raw = [getattr(args, k, None) for k in ("params_b", "layers", "kv_heads", "head_dim")]
    if args.model and any(v is not None for v in raw):
        raise InvalidInputError("Both --model and raw numbers were given. To fix: pass one or the other.")
    if args.model:
        return resolve_model(args.model)
    if any(v is not None for v in raw):
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
