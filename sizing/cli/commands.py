"""The three subcommands. Each returns (data for --json, lines for people)."""

from __future__ import annotations

import argparse

from sizing.catalog.engines import get_engine
from sizing.catalog.formats import kv_bytes_per_element
from sizing.catalog.instances import resolve_gpu_or_instance
from sizing.cli.args import assumptions_from_args, format_from_args, model_from_args
from sizing.cli import render
from sizing.errors import InfeasibleError, InvalidInputError
from sizing.memory.budget import EngineSettings, activation_dtype_bytes, memory_breakdown
from sizing.memory.demand import memory_demand
from sizing.memory.kv import stage_kv_bytes_per_request
from sizing.memory.layout import Layout
from sizing.models.params import active_params, total_params
from sizing.planner.plan import plan
from sizing.planner.replica import largest_batch, memory_batch_limit
from sizing.planner.request import Deployment, PlanRequest, Workload
from sizing.speed.model import ReplicaSpeed
from sizing.units import to_gib

DEFAULT_SEQ_LEN = 2048
"""Tokens per request for `memory` when neither --seq-len nor --max-model-len is given (the tutorial's example)."""


def _layout(args: argparse.Namespace) -> Layout:
    if args.tp < 1 or args.pp < 1:
        raise InvalidInputError(f"--tp={args.tp} --pp={args.pp}: both must be at least 1. To fix: e.g. --tp 2.")
    return Layout(tp=args.tp, pp=args.pp)


def _model_line(model, fmt) -> dict:
    return {"model": model.name, "params_total": total_params(model), "params_active": active_params(model),
            "weights": fmt.name}


def memory(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """Memory per GPU: without --gpu, what `batch` requests of `seq_len` need; with --gpu, the engine's budget."""
    model, layout, engine = model_from_args(args), _layout(args), get_engine(args.engine)
    fmt = format_from_args(args, model)
    kv_bytes = kv_bytes_per_element(args.kv_dtype, activation_dtype_bytes(fmt))
    seq_len = args.seq_len or args.max_model_len or DEFAULT_SEQ_LEN
    demand = memory_demand(model, fmt, layout, engine, kv_bytes, args.batch, seq_len)
    out = {**_model_line(model, fmt), "tensor_parallel": layout.tp, "pipeline_parallel": layout.pp, "kv_dtype": args.kv_dtype,
           "batch": args.batch, "seq_len": seq_len, "weights_gib": demand.weights_gib, "kv_cache_gib": demand.kv_cache_gib,
           "activation_gib": demand.activation_gib, "overhead_gib": demand.overhead_gib, "total_gib": demand.total_gib}
    if not args.gpu:
        return out, render.memory_demand_lines(out)
    gpu, _ = resolve_gpu_or_instance(args.gpu)
    settings = EngineSettings(gpu_memory_utilization=args.gpu_memory_utilization,
                              max_model_len=args.max_model_len or args.seq_len or model.max_position_embeddings,
                              kv_element_bytes=kv_bytes)
    mem = memory_breakdown(model, gpu, fmt, layout, engine, settings)
    needed = args.batch * stage_kv_bytes_per_request(model, kv_bytes, layout, seq_len, engine.sliding_window_kv_savings)[mem.pipeline_stage]
    batch_fits = mem.kv_cache_tokens * mem.kv_bytes_per_token >= needed
    out.update({"gpu": gpu.name, "required_kv_gib": to_gib(needed), "weights_gib": mem.weights_gib,
                "kv_cache_gib": mem.kv_cache_gib, "activation_gib": mem.activation_gib,
                "overhead_gib": mem.non_torch_gib + mem.cuda_graph_gib, "total_gib": mem.total_gib,
                "kv_cache_tokens": mem.kv_cache_tokens, "max_model_len": mem.max_model_len,
                "max_concurrency": mem.max_concurrency, "fits": mem.fits and batch_fits, "engine_starts": mem.fits,
                "shortfall_gib": mem.shortfall_gib, "breakdown": mem.model_dump()})
    return out, render.memory_gpu_lines(out)


def speed(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """TTFT, TPOT and output tokens/s of one replica at a batch."""
    model, layout, engine = model_from_args(args), _layout(args), get_engine(args.engine)
    fmt = format_from_args(args, model)
    gpu, instance = resolve_gpu_or_instance(args.gpu)
    kv_bytes = kv_bytes_per_element(args.kv_dtype, activation_dtype_bytes(fmt))
    i, o = args.input_tokens, args.output_tokens
    settings = EngineSettings(gpu_memory_utilization=args.gpu_memory_utilization,
                              max_model_len=args.max_model_len or i + o, kv_element_bytes=kv_bytes)
    mem = memory_breakdown(model, gpu, fmt, layout, engine, settings)
    link = instance.gpu_link if instance else gpu.interconnect
    rs = ReplicaSpeed(model, gpu, fmt, layout, kv_bytes, link, assumptions_from_args(args))
    limit = memory_batch_limit(model, mem, kv_bytes, layout, engine, i + o)
    batch = limit if args.batch == "max" else _int_batch(args.batch)
    if args.tpot_ms and args.batch == "max":
        batch = largest_batch(limit, lambda b: rs.tpot_s(b, i, o) * 1000 <= args.tpot_ms)
    if batch < 1:
        where = f"{gpu.name} with TP={layout.tp} PP={layout.pp}"
        if limit < 1:
            raise InfeasibleError(f"No batch fits on {where}.",
                                  f"one {i + o}-token request needs {mem.shortfall_gib:.1f} GiB more per GPU",
                                  "raise --tp/--pp, use a smaller --weights format or --kv-dtype fp8, or a larger GPU.")
        best = rs.tpot_s(1, i, o) * 1000
        raise InfeasibleError(f"No batch meets TPOT <= {args.tpot_ms:g} ms on {where}.",
                              f"batch 1 takes {best:.1f} ms per token", "relax --tpot-ms, raise --tp, or use a faster GPU.")
    tpot = rs.tpot_s(batch, i, o)
    out = {**_model_line(model, fmt), "gpu": gpu.name, "tensor_parallel": layout.tp, "pipeline_parallel": layout.pp,
           "input_tokens": i, "output_tokens": o, "batch": batch, "max_batch": limit, "fits": batch <= limit and mem.fits,
           "ttft_ms": rs.ttft_s(batch, i, o, mem.max_num_batched_tokens) * 1000, "prefill_ms": rs.prefill_s(i) * 1000,
           "tpot_ms": tpot * 1000, "output_tokens_per_second": batch / tpot,
           "bandwidth_ceiling_tokens_per_second": rs.bandwidth_ceiling_tokens_per_s(),
           "saturated_output_tokens_per_second": rs.saturated_output_tokens_per_s(i, o, batch)}
    return out, render.speed_lines(out)


def _int_batch(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidInputError(f"--batch {text!r} is neither a whole number nor 'max'. To fix: e.g. --batch 16 or --batch max.") from None
    if value < 1:
        raise InvalidInputError(f"--batch {value} must be at least 1. To fix: e.g. --batch 1.")
    return value


def plan_request(args: argparse.Namespace) -> PlanRequest:
    """The PlanRequest the plan subcommand's arguments describe."""
    model = model_from_args(args)
    workload = Workload(
        concurrency=args.concurrency, input_tokens=args.input_tokens, output_tokens=args.output_tokens,
        requests_per_second=args.requests_per_second, output_tokens_per_second=args.output_tokens_per_second,
        ttft_ms=args.ttft_ms, tpot_ms=args.tpot_ms, kind=args.workload, headroom_replicas=args.headroom,
        on_demand_floor=args.on_demand_floor, max_model_len=args.max_model_len,
    )
    types = tuple(t.strip() for t in args.instance_types.split(",") if t.strip()) if args.instance_types else None
    deployment = Deployment(region=args.region, instance_types=types, weights=args.weights, kv_dtype=args.kv_dtype,
                            gpu_memory_utilization=args.gpu_memory_utilization, engine=args.engine, purchase=args.purchase,
                            spare_purchase=args.spare_purchase)
    return PlanRequest(model=model, workload=workload, deployment=deployment, assumptions=assumptions_from_args(args))


def plan_command(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """The ranked, explained plan (of a stack file and its lock, with --stack)."""
    if getattr(args, "update_lock", False) and not getattr(args, "stack", None):
        raise InvalidInputError("--update-lock needs --stack. To fix: e.g. --stack stacks/Pulumi.dev.yaml --update-lock.")
    if getattr(args, "stack", None):
        from components.plan_lock import plan_stack_file  # Pulumi project code: only for --stack

        result, messages = plan_stack_file(args.stack, args.update_lock)
        return result.model_dump(mode="json"), [*messages, *render.plan_lines(result)]
    result = plan(plan_request(args))
    return result.model_dump(mode="json"), render.plan_lines(result)
