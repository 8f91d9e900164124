"""The three subcommands. Each returns (data for --json, lines for people)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from sizing.calibration.store import Calibration, read_calibration
from sizing.catalog.engines import engine_and_factor, get_engine
from sizing.catalog.instances import InstanceType, resolve_gpu_or_instance
from sizing.catalog.selection import expand_instance_types, restrict_to_gpu
from sizing.catalog.vllm_rules import kernel_refusal, layout_refusal, startup_rule_note, structure_refusal
from sizing.cli import render
from sizing.cli.args import assumptions_from_args, format_from_args, model_from_args
from sizing.cli.fields import given_fields
from sizing.errors import InfeasibleError, InvalidInputError
from sizing.memory.budget import EngineSettings, kv_element_bytes, memory_breakdown
from sizing.memory.kv import stage_kv_bytes_per_request
from sizing.memory.layout import Layout
from sizing.models.params import active_params, total_params
from sizing.models.spec import ModelSpec
from sizing.planner.layouts import spans_nodes
from sizing.planner.plan import check_context, plan
from sizing.planner.replica import largest_batch, memory_batch_limit, replica_load
from sizing.planner.request import Deployment, PlanRequest, Workload, spare_purchase_unused
from sizing.speed.model import ReplicaSpeed
from sizing.units import MS_PER_S, to_gib

if TYPE_CHECKING:  # imported where used: `plan` never builds these models
    from sizing.memory.results import MemoryResult
    from sizing.speed.results import ClosedLoopSpeed, OpenLoopSpeed, SpeedResult

DEFAULT_SEQ_LEN = 2048
"""Tokens per request for `memory` when neither --seq-len nor --max-model-len is given (the tutorial's example)."""


def _layout(args: argparse.Namespace, model: ModelSpec, instance: InstanceType | None = None) -> Layout:
    """--tp x --pp (x --dp), checked against the model the way vLLM checks it, and against the instance's GPUs."""
    if (args.dp > 1 or args.ep) and model.moe is None:
        raise InvalidInputError(
            f"--dp={args.dp}{' --ep' if args.ep else ''} on {model.name!r}: expert parallelism and data-parallel "
            "attention "
            "apply to MoE models; a dense model's data-parallel ranks are independent replicas. To fix: drop --dp/--ep "
            "(plan sizes replicas and packs several on one instance)."
        )
    layout = Layout(tp=args.tp, pp=args.pp, dp=args.dp, ep=args.ep)
    refusal = structure_refusal(model, layout)
    if refusal:
        raise InvalidInputError(
            f"--tp {args.tp} --pp {args.pp} for {model.name}: {refusal.reason}. To fix: pick TP "
            f"dividing the {model.num_attention_heads} attention heads and PP of at most {model.num_layers}."
        )
    if instance is not None and layout.gpus > instance.whole_gpus and not _multi_node(layout, instance):
        raise InvalidInputError(
            f"--tp {args.tp} x --pp {args.pp} x --dp {args.dp} = {layout.gpus} GPUs, but {instance.name} "
            f"has {instance.whole_gpus}. To fix: use at most {instance.whole_gpus} GPUs, a larger instance, "
            f"or a multi-node replica as the planner builds one (--tp {instance.whole_gpus} --pp NODES, on "
            "an EFA instance type)."
        )
    return layout


def _multi_node(layout: Layout, instance: InstanceType | None) -> bool:
    """A replica spanning nodes as the planner builds one (sizing/planner/layouts.py): TP over each node's GPUs,
    one pipeline stage per node, over EFA."""
    return (
        instance is not None
        and spans_nodes(instance)
        and layout.tp == instance.whole_gpus
        and layout.dp == 1
        and layout.pp > 1
    )


def _engine_refusal(model, fmt, layout: Layout, gpu) -> str | None:
    """A vLLM rule this deployment breaks (named), or None."""
    refusal = layout_refusal(model, fmt, layout) or (kernel_refusal(gpu, fmt, model) if gpu else None)
    return refusal.reason if refusal else None


def _model_line(model, fmt) -> dict:
    """The ModelLine fields of an answer about `model` in `fmt`."""
    return {
        "model": model.name,
        "params_total": total_params(model),
        "params_active": active_params(model),
        "weights": fmt.name,
    }


def memory(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """`memory`: its JSON (the typed result's dump) and its lines for people."""
    from sizing.memory.results import MemoryOnGpu

    result = memory_result(args)
    lines = render.memory_gpu_lines(result) if isinstance(result, MemoryOnGpu) else render.memory_demand_lines(result)
    return result.model_dump(mode="json"), lines


def memory_result(args: argparse.Namespace) -> MemoryResult:
    """Memory per GPU: without --gpu, what `batch` requests of `seq_len` need; with --gpu, the engine's budget."""
    from sizing.memory.demand import memory_demand
    from sizing.memory.results import MemoryDemand, MemoryOnGpu

    model, engine = model_from_args(args), get_engine(args.engine)
    found = resolve_gpu_or_instance(args.gpu) if args.gpu else None
    if not found and args.gpu_memory_utilization is not None:
        raise InvalidInputError(
            f"--gpu-memory-utilization {args.gpu_memory_utilization:g} shapes the engine's budget on a "
            "GPU; without --gpu it would be ignored. To fix: add --gpu, or drop it."
        )
    layout = _layout(args, model, found[1] if found else None)
    fmt = format_from_args(args, model)
    kv_bytes = kv_element_bytes(args.kv_dtype, fmt)
    seq_len = _first_given(args.seq_len, args.max_model_len, DEFAULT_SEQ_LEN)
    check_context(
        model, _first_given(args.max_model_len, seq_len), "--max-model-len" if args.max_model_len else "--seq-len"
    )
    demand = memory_demand(model, fmt, layout, engine, kv_bytes, args.batch, seq_len)
    out = {
        **_model_line(model, fmt),
        "tensor_parallel": layout.tp,
        "pipeline_parallel": layout.pp,
        "kv_dtype": args.kv_dtype,
        "batch": args.batch,
        "seq_len": seq_len,
        "weights_gib": demand.weights_gib,
        "kv_cache_gib": demand.kv_cache_gib,
        "activation_gib": demand.activation_gib,
        "overhead_gib": demand.overhead_gib,
        "total_gib": demand.total_gib,
    }
    if not found:
        return MemoryDemand(**out)
    gpu = found[0]
    settings = EngineSettings(
        gpu_memory_utilization=args.gpu_memory_utilization,
        max_model_len=_first_given(args.max_model_len, args.seq_len, model.max_position_embeddings),
        kv_element_bytes=kv_bytes,
    )
    mem = memory_breakdown(model, gpu, fmt, layout, engine, settings)
    per_rank = -(-args.batch // layout.dp)  # data-parallel attention ranks each hold their own requests' cache
    needed = (
        per_rank
        * stage_kv_bytes_per_request(model, kv_bytes, layout, seq_len, engine.sliding_window_kv_savings)[
            mem.pipeline_stage
        ]
    )
    batch_fits = mem.kv_cache_tokens * mem.kv_bytes_per_token >= needed
    refusal = _engine_refusal(model, fmt, layout, gpu)
    out.update(
        {
            "gpu": gpu.name,
            "required_kv_gib": to_gib(needed),
            "weights_gib": mem.weights_gib,
            "kv_cache_gib": mem.kv_cache_gib,
            "activation_gib": mem.activation_gib,
            "overhead_gib": mem.non_torch_gib + mem.cuda_graph_gib,
            "total_gib": mem.total_gib,
            "kv_cache_tokens": mem.kv_cache_tokens,
            "max_model_len": mem.max_model_len,
            "max_concurrency": mem.max_concurrency * layout.dp,
            "fits": mem.fits and batch_fits and not refusal,
            "engine_starts": mem.fits and not refusal,
            "engine_refusal": refusal,
            "vllm_rules_applied": startup_rule_note(gpu, fmt).strip(" ()"),
            "data_parallel": layout.dp,
            "expert_parallel": layout.ep,
            "shortfall_gib": mem.shortfall_gib,
            "breakdown": mem,
        }
    )
    return MemoryOnGpu(**out)


def _check_load_args(args: argparse.Namespace) -> None:
    """The steady-state options of `speed`: one loop at a time, not with --batch (their ranges: SpeedNumbers)."""
    given = [
        f"--{k.replace('_', '-')}" for k in ("batch", "concurrency", "request_rate") if getattr(args, k) is not None
    ]
    if len(given) > 1:
        raise InvalidInputError(
            f"{' and '.join(given)} were given together. To fix: pass one of --batch (no arrivals), "
            "--concurrency (closed loop) or --request-rate (open loop)."
        )
    steady = args.concurrency is not None or args.request_rate is not None
    if args.prefix_hit_rate is not None and not steady:
        raise InvalidInputError(
            f"--prefix-hit-rate {args.prefix_hit_rate:g} applies to a steady state only; a fixed batch "
            "has no arrivals to share a prefix cache. To fix: add --concurrency or --request-rate, "
            "or drop --prefix-hit-rate."
        )
    if args.arrivals is not None and args.concurrency is None:
        raise InvalidInputError(
            f"--arrivals {args.arrivals} describes how closed-loop clients send their requests, so it "
            "needs --concurrency (--request-rate is always Poisson arrivals). To fix: add --concurrency "
            "C, or drop --arrivals."
        )
    if args.tpot_ms is not None and args.batch != "max":
        raise InvalidInputError(
            f"--tpot-ms {args.tpot_ms:g} picks the largest batch meeting it, so it needs --batch max "
            f"(it was ignored otherwise). To fix: add --batch max, or drop --tpot-ms (plan --tpot-ms "
            "sizes a fleet for it)."
        )


def speed(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """`speed`: its JSON (the typed result's dump) and its lines for people."""
    from sizing.speed.results import SpeedAtBatch

    result = speed_result(args)
    lines = render.speed_lines(result) if isinstance(result, SpeedAtBatch) else render.load_lines(result)
    return result.model_dump(mode="json"), lines


def speed_result(args: argparse.Namespace) -> SpeedResult:
    """TTFT, TPOT and output tokens/s of one replica: at a batch, or at steady state under a closed or open loop."""
    from sizing.speed.results import CalibrationUsed, SpeedAtBatch

    _check_load_args(args)
    model, (engine, factor, engine_name) = model_from_args(args), engine_and_factor(args.engine)
    gpu, instance = resolve_gpu_or_instance(args.gpu)
    layout = _layout(args, model, instance)
    fmt = format_from_args(args, model)
    assumptions, calibration = assumptions_from_args(args), None
    if args.calibration:
        calibration = calibration_for(args.calibration, gpu.name, model.name, fmt.name)
        assumptions, factor = calibration.assumptions(assumptions), 1.0
    kv_bytes = kv_element_bytes(args.kv_dtype, fmt)
    i, o = args.input_tokens, args.output_tokens
    max_model_len = _first_given(args.max_model_len, i + o)
    check_context(model, max_model_len, "--max-model-len" if args.max_model_len else "--input-tokens + --output-tokens")
    settings = EngineSettings(
        gpu_memory_utilization=args.gpu_memory_utilization,
        max_model_len=max_model_len,
        kv_element_bytes=kv_bytes,
        max_num_batched_tokens=args.max_num_batched_tokens,
    )
    mem = memory_breakdown(model, gpu, fmt, layout, engine, settings)
    link = instance.gpu_link if instance else gpu.interconnect
    rs = ReplicaSpeed(
        model,
        gpu,
        fmt,
        layout,
        kv_bytes,
        link,
        assumptions,
        inter_node_pp=layout.gpus > (instance.whole_gpus if instance else layout.gpus),
    )
    limit = memory_batch_limit(model, mem, kv_bytes, layout, engine, i + o)
    used = {
        "engine": engine_name,
        "calibration": CalibrationUsed.of(calibration, args.calibration) if calibration else None,
    }
    if args.concurrency is not None or args.request_rate is not None:
        return _steady_state(args, model, fmt, gpu, layout, mem, limit, engine, rs, factor, used)
    args.batch = args.batch or "1"
    f = factor  # every time printed is the engine's (engines.toml [step_time_factor]), or 1 under a calibration
    batch = limit if args.batch == "max" else _int_batch(args.batch)
    if args.tpot_ms is not None:  # with --batch max (_check_load_args)
        batch = largest_batch(limit, lambda b: rs.tpot_s(b, i, o) * f * MS_PER_S <= args.tpot_ms)
    if batch < 1:
        where = f"{gpu.name} with {layout.label}"
        if limit < 1:
            raise InfeasibleError(
                f"No batch fits on {where}.",
                f"one {i + o}-token request needs {mem.shortfall_gib:.1f} GiB more per GPU",
                "raise --tp/--pp, use a smaller --weights format or --kv-dtype fp8, or a larger GPU.",
            )
        best = rs.tpot_s(1, i, o) * f * MS_PER_S
        raise InfeasibleError(
            f"No batch meets TPOT <= {args.tpot_ms:g} ms on {where}.",
            f"batch 1 takes {best:.1f} ms per token",
            "relax --tpot-ms, raise --tp, or use a faster GPU.",
        )
    tpot = rs.tpot_s(batch, i, o) * f
    refusal = _engine_refusal(model, fmt, layout, gpu)
    out = {
        **_model_line(model, fmt),
        "gpu": gpu.name,
        "tensor_parallel": layout.tp,
        "pipeline_parallel": layout.pp,
        "data_parallel": layout.dp,
        "expert_parallel": layout.ep,
        "engine_refusal": refusal,
        "input_tokens": i,
        "output_tokens": o,
        "batch": batch,
        "max_batch": limit,
        "fits": batch <= limit and mem.fits and not refusal,
        **used,
        "ttft_ms": rs.ttft_s(batch, i, o, mem.max_num_batched_tokens) * f * MS_PER_S,
        "prefill_ms": rs.prefill_s(i) * f * MS_PER_S,
        "tpot_ms": tpot * MS_PER_S,
        "output_tokens_per_second": batch / tpot,
        "bandwidth_ceiling_tokens_per_second": rs.bandwidth_ceiling_tokens_per_s(),
        "saturated_output_tokens_per_second": rs.saturated_output_tokens_per_s(i, o, batch) / f,
    }
    return SpeedAtBatch(**out)


def calibration_for(path: str, gpu: str, model: str, weights: str) -> Calibration:
    """The calibration file, refused when it describes another GPU, model or weight format."""
    cal = read_calibration(path)
    if not cal.applies_to(gpu, model, weights):
        raise InvalidInputError(
            f"calibration {path[:200]!r} was fitted to {cal.model} {cal.weights} on {cal.gpu}, not to "
            f"{model} {weights} on {gpu}. To fix: pass the --gpu, --model and --weights it was fitted "
            "to, or calibrate this combination from its own benchmarks."
        )
    return cal


def _steady_state(
    args, model, fmt, gpu, layout, mem, limit, engine, rs, factor: float, used: dict
) -> ClosedLoopSpeed | OpenLoopSpeed:
    """`speed --concurrency C` (closed loop) or `--request-rate R` (open loop): the replica's steady state."""
    from sizing.speed.results import ClosedLoopSpeed, OpenLoopSpeed

    i, o, hit_rate = args.input_tokens, args.output_tokens, args.prefix_hit_rate or 0.0
    where = f"{gpu.name} with {layout.label}"
    if limit < 1:
        raise InfeasibleError(
            f"No request fits on {where}.",
            f"one {i + o}-token request needs {mem.shortfall_gib:.1f} GiB more per GPU",
            "raise --tp/--pp, use a smaller --weights format or --kv-dtype fp8, or a larger GPU.",
        )
    load = replica_load(
        rs,
        mem,
        limit,
        engine,
        Workload(input_tokens=i, output_tokens=o, prefix_hit_rate=hit_rate),
        step_time_factor=factor,
    )
    arrivals = args.arrivals or "poisson"
    if args.concurrency is not None:
        point = load.burst_loop(args.concurrency) if arrivals == "burst" else load.closed_loop(args.concurrency)
        loop = {"concurrency": args.concurrency}
    else:
        found = load.open_loop(args.request_rate)
        if found is None:
            top = load.max_request_rate()
            raise InfeasibleError(
                f"--request-rate {args.request_rate:g} req/s is more than one replica on {where} sustains.",
                f"the maximum sustainable rate is {top:.2f} req/s (requests would queue without bound)",
                f"lower --request-rate to at most {top:.2f}, raise --tp, or size a fleet with "
                "`plan --requests-per-second`.",
            )
        point, loop = found, {"request_rate": args.request_rate}
    refusal = _engine_refusal(model, fmt, layout, gpu)
    out = {
        **_model_line(model, fmt),
        "gpu": gpu.name,
        "tensor_parallel": layout.tp,
        "pipeline_parallel": layout.pp,
        "data_parallel": layout.dp,
        "expert_parallel": layout.ep,
        "engine_refusal": refusal,
        "fits": not refusal,
        "input_tokens": i,
        "output_tokens": o,
        "prefix_hit_rate": hit_rate,
        **used,
        **loop,
        "arrivals": arrivals,
        "output_tokens_per_second": point.output_tokens_per_s,
        "requests_per_second": point.requests_per_s,
        "tpot_ms": point.tpot_s * MS_PER_S,
        "ttft_ms": point.ttft_s * MS_PER_S,
        "tpot_p95_ms": point.tpot_p95_s * MS_PER_S,
        "ttft_p95_ms": point.ttft_p95_s * MS_PER_S,
        "running_batch": point.running_batch,
        "prefill_share": point.prefill_share,
        "saturated": point.saturated,
        "max_running": limit,
        "max_requests_per_second": load.max_request_rate(),
        "saturation_concurrency": load.saturation_concurrency(),
    }
    return ClosedLoopSpeed(**out) if args.concurrency is not None else OpenLoopSpeed(**out)


def _first_given(*values: int | None) -> int:
    """The first value that was given (0 counts as given: the input models refuse it with a message)."""
    return next(v for v in values if v is not None)


def _int_batch(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InvalidInputError(
            f"--batch {text!r} is neither a whole number nor 'max'. To fix: e.g. --batch 16 or --batch max."
        ) from None
    if value < 1:
        raise InvalidInputError(f"--batch {value} must be at least 1. To fix: e.g. --batch 1.")
    return value


def _allowed_types(args: argparse.Namespace) -> tuple[str, ...] | None:
    """--instance-types (names, GPU names, globs) expanded to API names, narrowed to --gpu's instance types."""
    names = expand_instance_types(args.instance_types) if args.instance_types else None
    if not args.gpu:
        return names
    narrowed = restrict_to_gpu(names, args.gpu)
    if not narrowed:
        raise InvalidInputError(
            f"none of --instance-types {','.join(args.instance_types)[:200]!r} carries the GPU "
            f"--gpu {args.gpu!r}. To fix: drop one of them, or list types with that GPU "
            f"(`python -m sizing catalog --gpu {args.gpu[:40]}`)."
        )
    return narrowed


def plan_request(args: argparse.Namespace) -> PlanRequest:
    """The PlanRequest the plan subcommand's arguments describe: each flag is the field of its name
    (sizing/cli/fields.py), so the models' own defaults and bounds apply."""
    model = model_from_args(args)
    workload = Workload(**given_fields(args, Workload))
    deployment = Deployment(**{**given_fields(args, Deployment), "instance_types": _allowed_types(args)})
    if spare_purchase_unused(workload, deployment):
        raise InvalidInputError(
            f"--spare-purchase {args.spare_purchase!r} has no spare to buy: --headroom is 0. "
            "To fix: add --headroom N or drop --spare-purchase."
        )
    calibration = read_calibration(args.calibration) if getattr(args, "calibration", None) else None
    return PlanRequest(
        model=model,
        workload=workload,
        deployment=deployment,
        assumptions=assumptions_from_args(args),
        calibration=calibration,
    )


def plan_command(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """The ranked, explained plan (of a stack file and its lock, with --stack)."""
    if getattr(args, "update_lock", False) and not getattr(args, "stack", None):
        raise InvalidInputError(
            "--update-lock needs --stack. To fix: e.g. --stack stacks/Pulumi.dev.yaml --update-lock."
        )
    if getattr(args, "stack", None):
        if getattr(args, "calibration", None):
            raise InvalidInputError(
                "--calibration with --stack: a stack names its calibration itself. To fix: set "
                "llmfleet:workload.calibration in the stack file, or drop --stack."
            )
        # only for --stack: a plain plan never reads the entry points
        from sizing.cli import plugins
        from sizing.extras import require

        planner = plugins.stack_planner()  # deploy/'s, registered through an entry point: the engine never imports it
        require("python -m sizing plan --stack", planner.needs)
        stacked = planner.plan_stack_file(args.stack, args.update_lock)
        result = stacked.plan
        data = {
            **result.model_dump(mode="json"),
            **stacked.extra_json,
            "plan_lock": {"status": stacked.lock_status, "messages": list(stacked.messages)},
        }
        lines = [*stacked.messages, *render.plan_lines(result), *stacked.extra_lines]
        note, head = stacked.weights_note, len(stacked.messages) + 2
    else:
        request = plan_request(args)
        result = plan(request)
        data, lines = result.model_dump(mode="json"), render.plan_lines(result)
        note = render.command_line_weights_note(result.weights, request) if args.weights is None else None
        head = 2  # after the plan's first two lines: the model and the workload
    if note:  # the command line and stack files plan weights differently by default: the plan says so
        data["weights_note"], lines = note, [*lines[:head], f"  {note}", *lines[head:]]
    if getattr(args, "bench_commands", False):
        from sizing.calibration.commands import bench_commands, bench_lines  # loaded when asked for (start-up time)

        data["bench_commands"], lines = bench_commands(result), [*lines, *bench_lines(result)]
    return data, lines
