"""Plain-text output for people. GiB = 2^30 bytes throughout."""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from typing import TYPE_CHECKING

from sizing.memory.layout import layout_label
from sizing.planner.cold_start import plan_cold_start
from sizing.planner.request import PlanRequest, Workload
from sizing.planner.results import Candidate, Plan, Rejection
from sizing.units import to_gib

if TYPE_CHECKING:  # the typed results of memory and speed, which `plan` never builds
    from sizing.memory.results import MemoryDemand, MemoryOnGpu, ModelLine
    from sizing.speed.results import CalibrationUsed, ClosedLoopSpeed, OpenLoopSpeed, ReplicaOnGpu, SpeedAtBatch

REJECTIONS_SHOWN = 10
"""How many lines of rejected candidates the text output lists, nearest miss first (--json lists them all); sizes of
one family rejected for the same reason share a line."""
NOT_PLANNED_KIND = "accelerator"
"""The rejection kind of the types the planner does not size (sizing/data/not_planned.csv): summarized in one line."""
COLUMNS_RANGE = (80, 120)
"""Text output is wrapped to the terminal's width within this range (the project's line limit is 120)."""
CONTINUATION_INDENT = "    "
"""Extra indent of a wrapped line's continuation."""


def _head(r: ModelLine) -> str:
    return f"{r.model} ({r.params_total / 1e9:.2f}B params, {r.params_active / 1e9:.2f}B active, {r.weights} weights)"


def memory_demand_lines(r: MemoryDemand) -> list[str]:
    """Memory needed for a load, no GPU chosen."""
    return [
        _head(r),
        (
            f"{layout_label(r.tensor_parallel, r.pipeline_parallel)}, {r.batch} request(s) of {r.seq_len} tokens, "
            f"KV {r.kv_dtype}"
        ),
        f"  weights     {r.weights_gib:8.2f} GiB per GPU",
        f"  KV cache    {r.kv_cache_gib:8.2f} GiB",
        f"  activations {r.activation_gib:8.2f} GiB",
        f"  overhead    {r.overhead_gib:8.2f} GiB (CUDA context, NCCL, CUDA graphs)",
        f"  total       {r.total_gib:8.2f} GiB per GPU",
    ]


def memory_gpu_lines(r: MemoryOnGpu) -> list[str]:
    """The engine's budget on a GPU."""
    b = r.breakdown
    verdict = "fits" if r.fits else ("engine refuses to start" if not r.engine_starts else "batch does not fit")
    return [
        _head(r),
        f"{r.gpu}: {_parallel(r)}, max_model_len {r.max_model_len}, KV {r.kv_dtype}",
        (
            f"  visible {b.visible_gib:.2f} GiB x utilization {b.gpu_memory_utilization:.2f} "
            f"= budget {b.budget_gib:.2f} GiB"
        ),
        f"  weights     {b.weights_gib:8.2f} GiB",
        f"  activations {b.activation_gib:8.2f} GiB (profiled at {b.max_num_batched_tokens} tokens, "
        f"{b.max_num_seqs} seqs)",
        f"  non-torch   {b.non_torch_gib:8.2f} GiB",
        f"  KV cache    {b.kv_cache_gib:8.2f} GiB = {b.kv_cache_tokens:,} tokens "
        f"= {b.max_concurrency:.2f} requests of {b.max_model_len} tokens",
        f"  CUDA graphs {b.cuda_graph_gib:8.2f} GiB ({'inside' if b.cuda_graph_in_budget else 'outside'} the "
        f"budget); unused {b.unused_gib:.2f} GiB",
        f"  {r.batch} request(s) of {r.seq_len} tokens need {r.required_kv_gib:.2f} GiB of KV: {verdict}"
        + (f" (needs {b.shortfall_gib:.2f} GiB more per GPU)" if b.shortfall_gib > 0 else ""),
        *([f"  memory follows {r.vllm_rules_applied}"] if r.vllm_rules_applied else []),
        *([f"  vLLM refuses: {r.engine_refusal}"] if r.engine_refusal else []),
    ]


def _parallel(r: MemoryOnGpu | ReplicaOnGpu) -> str:
    """'TP=8 PP=1', with ' DP=8 EP' for MoE layouts."""
    return layout_label(r.tensor_parallel, r.pipeline_parallel, r.data_parallel, r.expert_parallel)


def speed_lines(r: SpeedAtBatch) -> list[str]:
    """One replica's speed."""
    return [
        _head(r),
        f"{r.gpu}: {_parallel(r)}, {r.input_tokens} in / {r.output_tokens} out, batch {r.batch} (max {r.max_batch})",
        f"  TTFT  {r.ttft_ms:9.1f} ms (prefill alone {r.prefill_ms:.1f} ms)",
        f"  TPOT  {r.tpot_ms:9.2f} ms",
        f"  decode {r.output_tokens_per_second:8.0f} output tokens/s; batch-1 bandwidth ceiling "
        f"{r.bandwidth_ceiling_tokens_per_second:.0f} tokens/s",
        *([f"  vLLM refuses: {r.engine_refusal}"] if r.engine_refusal else []),
        calibration_line(r.calibration),
    ]


ARRIVALS_TEXT = {
    "poisson": "Poisson arrivals (production traffic)",
    "burst": "burst arrivals (benchmark clients with fixed lengths starting together)",
}
"""How `speed` names the arrival process a steady-state figure assumes."""


def calibration_line(cal: CalibrationUsed | None) -> str:
    """Which figures come from a calibration, or that none does."""
    if not cal:
        return "  figures: first-principles model (no calibration)"
    return f"  figures: CALIBRATED from {cal.file}: {cal.summary}"


def load_lines(r: ClosedLoopSpeed | OpenLoopSpeed) -> list[str]:
    """One replica at steady state under a closed or open loop."""
    from sizing.speed.results import ClosedLoopSpeed

    loop = (
        f"closed loop, {r.concurrency:g} clients, {ARRIVALS_TEXT[r.arrivals]}"
        if isinstance(r, ClosedLoopSpeed)
        else f"open loop, Poisson arrivals at {r.request_rate:g} req/s"
    )
    return [
        _head(r),
        f"{r.gpu}: {_parallel(r)}, {r.input_tokens} in / {r.output_tokens} out"
        + (f", prefix hit rate {r.prefix_hit_rate:.0%}" if r.prefix_hit_rate else "")
        + f", {loop}, engine {r.engine}",
        f"  throughput {r.output_tokens_per_second:,.0f} output tokens/s, {r.requests_per_second:,.2f} req/s "
        f"(max {r.max_requests_per_second:,.2f} req/s; throughput saturates near {r.saturation_concurrency:,.0f} "
        "clients)",
        f"  TTFT  {r.ttft_ms:9.1f} ms mean, {r.ttft_p95_ms:,.1f} ms p95",
        f"  TPOT  {r.tpot_ms:9.2f} ms mean, {r.tpot_p95_ms:.2f} ms p95",
        f"  {r.running_batch:.1f} sequences decode per step (max {r.max_running}); prompts take {r.prefill_share:.0%} "
        "of step time" + ("; SATURATED: requests queue for a slot or the token budget" if r.saturated else ""),
        *([f"  vLLM refuses: {r.engine_refusal}"] if r.engine_refusal else []),
        calibration_line(r.calibration),
    ]


def bought(c: Candidate) -> str:
    """How the instances are bought: '2 on-demand, 1 spot', or '2 in EC2 Capacity Blocks'."""
    if c.purchase == "capacity-block":
        return f"{c.on_demand_instances} in EC2 Capacity Blocks"
    return f"{c.on_demand_instances} on-demand, {c.spot_instances} spot"


def _cost_line(c: Candidate) -> str:
    """The choice's cost. With spot instances the ranked cost is an expectation, so the line says what AWS bills while
    the spot capacity is held and what the spot-risk charges add on top."""
    how = bought(c)
    per_token = f"${c.cost_per_million_output_tokens_usd:,.2f} per million output tokens"
    if not c.spot_instances:
        return f"  cost: ${c.hourly_cost_usd:,.2f}/h, ${c.monthly_cost_usd:,.0f}/month, {per_token} ({how})"
    risk = c.interruption_usd_per_hour + c.capacity_risk_usd_per_hour
    return (
        f"  cost: ${c.hourly_cost_usd:,.2f}/h expected = ${c.billed_usd_per_hour:,.2f}/h billed while the spot "
        f"capacity is held + ${risk:,.2f}/h expected spot risk (interruptions and on-demand fallback, see note); "
        f"${c.monthly_cost_usd:,.0f}/month and {per_token} expected ({how})"
    )


def _job_lines(c: Candidate) -> list[str]:
    """A batch job's hours and cost (what it was ranked by), when the workload gives its size."""
    if c.job_hours is None or c.job_cost_usd is None:
        return []
    billing = "whole Capacity Blocks" if c.purchase == "capacity-block" else "per-second billing"
    return [
        f"  the job: {c.job_hours:,.1f} h from launch to its last token (cold start included, every replica at "
        f"capacity), ${c.job_cost_usd:,.2f} ({billing})"
    ]


def _speculative_lines(p: Plan) -> list[str]:
    """The draft the fleet runs and what the plan assumed of it."""
    s = p.speculative
    if s is None:
        return []
    return [
        f"  speculative decoding: {s.method} ({s.draft_repo or 'the MTP module in the checkpoint'}), "
        f"{s.num_speculative_tokens} draft token(s) per step, assumed mean acceptance length "
        f"{s.mean_acceptance_length:g} tokens per step ({s.acceptance_source}); draft weights "
        f"{s.draft_weights_gib:.2f} GiB per GPU and one more layer of KV cache, in the memory line; TPOT and capacity "
        f"include it; vLLM {' '.join(s.vllm_args)}"
    ]


def _checkpoint_line(p: Plan) -> str:
    k = p.checkpoint
    how = (
        "pre-quantized release"
        if k.prequantized
        else ("the model's own, quantized to " + p.weights + " at load" if k.format != p.weights else "the model's own")
    )
    return (
        f"  checkpoint: {k.repo or '(set the weights source)'} ({k.format}, {to_gib(k.download_bytes):,.1f} "
        f"GiB download; {how})"
    )


def _memory_line(p: Plan) -> str:
    m = p.choice.memory
    return (
        f"  memory per GPU: {m.visible_gib:.2f} GiB visible x {m.gpu_memory_utilization:.2f} = "
        f"{m.budget_gib:.2f} GiB budget"
        f" = weights {m.weights_gib:.2f} + activations {m.activation_gib:.2f} + non-torch {m.non_torch_gib:.2f}"
        f" + KV {m.kv_cache_gib:.2f} GiB ({m.kv_cache_tokens:,} tokens, {m.max_concurrency:.1f} x "
        f"{m.max_model_len}-token requests)"
    )


def _shown(p: Plan) -> list[Candidate]:
    return [p.choice, *(a.candidate for a in p.alternatives)]


def latency_targets(w: Workload, at_most: str = "<=") -> str:
    """The workload's latency targets, e.g. 'TTFT <= 2000 ms, TPOT p95 <= 60 ms' ('' when it sets none)."""
    return ", ".join(
        f"{name} {at_most} {value:g} ms"
        for name, value in (
            ("TTFT", w.ttft_ms),
            ("TPOT", w.tpot_ms),
            ("TTFT p95", w.ttft_p95_ms),
            ("TPOT p95", w.tpot_p95_ms),
        )
        if value
    )


def plan_calibration_line(p: Plan) -> str:
    """Where the choice's speed figures come from."""
    cal = p.calibration
    if cal is None:
        return "  figures: first-principles model (no calibration)"
    if not cal.applies_to_choice:
        return f"  figures: first-principles model (the calibration describes {cal.model} {cal.weights} on {cal.gpu})"
    return f"  figures: CALIBRATED ({cal.summary})"


def held_within(p: Plan) -> str:
    """What a replica's capacity is held within: the workload's targets, the limits the plan added, or neither (the
    replica is then sized at saturation, and never said to be 'within the targets')."""
    if latency_targets(p.workload):
        return "within the targets" + (" and the plan's limits" if p.assumed_limits else "")
    return "within the plan's limits" if p.assumed_limits else "at capacity (no latency targets)"


def plan_lines(p: Plan) -> list[str]:
    """The plan: choice, alternatives, rejections."""
    c, w = p.choice, p.workload
    targets = latency_targets(w)
    lines = [
        f"Plan for {p.model} ({p.params_total / 1e9:.2f}B params, {p.params_active / 1e9:.2f}B active), "
        f"{p.weights} weights, "
        f"KV {p.kv_dtype}, {p.region}, engine {p.engine}, prices as of {p.prices_as_of}",
        f"Workload: {w.kind}, {w.traffic_text}, {w.input_tokens} in / {w.output_tokens} out tokens"
        + (f" ({w.prefix_hit_rate:.0%} of prompt tokens from the prefix cache)" if w.prefix_hit_rate else "")
        + (f", {targets}" if targets else ", no latency targets")
        + (f", +{w.headroom_replicas} headroom" if w.headroom_replicas else ""),
        *[f"  limit the plan adds: {x}" for x in p.assumed_limits],
        "",
        f"Choice: {c.label} ({c.gpu})",
        f"  {c.replicas_required} replica(s) needed, sized by {c.sized_by}; each holds "
        f"{c.concurrency_per_replica:,.1f} users "
        f"({c.requests_per_second_per_replica:,.2f} req/s) {held_within(p)}, prefill {c.prefill_share:.0%} of step "
        "time; "
        f"throughput saturates near {c.saturation_concurrency:,.0f} users "
        f"({c.max_requests_per_second_per_replica:,.2f} req/s)",
        _cost_line(c),
        *_job_lines(c),
        f"  at the planned {c.planned_concurrency_per_replica:,.1f} users per replica: TTFT {c.ttft_ms:,.0f} ms (p95 "
        f"{c.ttft_p95_ms:,.0f}), TPOT {c.tpot_ms:.1f} ms (p95 {c.tpot_p95_ms:.1f}); "
        f"{c.output_tokens_per_second_per_replica:,.0f} output tok/s per replica at capacity; cold start "
        f"{c.cold_start_s / 60:.1f} min",
        _checkpoint_line(p),
        *_speculative_lines(p),
        "  cold start, term by term: " + "; ".join(plan_cold_start(p).explain()),
        _memory_line(p),
        *[f"  note: {n}" for n in c.notes],
        plan_calibration_line(p),
        *[f"  warning: {x}" for x in p.warnings],
        *_kv_alternative_lines(p),
        "",
        f"Alternatives ({p.feasible_count - 1} other feasible candidates; best per instance type"
        + ("; $/h is the expected cost, spot risk included" if any(x.spot_instances for x in _shown(p)) else "")
        + "):",
        f"  {'instance':<18}{'weights':<10}{'TP':>3}{'PP':>3}{'DP':>3}{'EP':>3}{'repl':>5}{'inst':>5}  "
        f"{'purchase':<10}{'$/h':>10}"
        f"{'$/Mtok':>9}{'TPOT ms':>9}  why it lost",
    ]
    for a in p.alternatives:
        x = a.candidate
        lines.append(
            f"  {x.instance_type:<18}{x.weights:<10}{x.tensor_parallel:>3}{x.pipeline_parallel:>3}{x.data_parallel:>3}"
            f"{'yes' if x.expert_parallel else '-':>3}{x.replicas:>5}{x.instances:>5}  "
            f"{x.purchase:<10}{x.hourly_cost_usd:>10,.2f}{x.cost_per_million_output_tokens_usd:>9.2f}"
            f"{x.tpot_ms:>9.1f}  "
            f"{a.why_lost}"
        )
    lines += ["", f"Cost x latency frontier on {c.instance_type} (cheapest plan per TPOT target):"]
    for f in p.frontier:
        if f.feasible:
            label = layout_label(
                f.tensor_parallel or 1, f.pipeline_parallel or 1, f.data_parallel or 1, bool(f.expert_parallel)
            )
            lines.append(
                f"  TPOT <= {f.tpot_target_ms:6.1f} ms: {f.instances} x {c.instance_type} "
                f"{label}, {f.replicas} replica{'s' if f.replicas != 1 else ''}, ${f.hourly_cost_usd:,.2f}/h "
                f"(TPOT {f.tpot_ms:.1f} ms, TTFT {f.ttft_ms:,.0f} ms at the planned load)"
            )
        else:
            lines.append(f"  TPOT <= {f.tpot_target_ms:6.1f} ms: not feasible ({f.reason})")
    return lines + rejected_lines(p)


def _nearest_first(r: Rejection) -> tuple[bool, float, str]:
    """Sort key: the sized misses by how far off (nearest first), then the rest by kind."""
    return (r.relative_miss is None, r.relative_miss or 0.0, r.kind)


def rejected_lines(p: Plan) -> list[str]:
    """The rejections, nearest miss first; the types the planner does not size in one line."""
    sized = sorted((r for r in p.rejected if r.kind != NOT_PLANNED_KIND), key=_nearest_first)
    not_planned = [r for r in p.rejected if r.kind == NOT_PLANNED_KIND]
    lines = ["", f"Rejected ({len(p.rejected)}: {p.rejected_summary}; nearest miss first; --json lists all):"]
    shown: dict[tuple[str, str, str], list[str]] = {}  # sizes of one family missing alike share a line
    for r in sized:
        layout = f" {r.parallel_label}" if r.parallel_label else ""
        layout += f" {r.weights}" if r.weights and r.weights != p.weights else ""
        key = (r.kind, r.instance_type.split(".", 1)[0], f"{layout}: {r.reason}")
        if key in shown or len(shown) < REJECTIONS_SHOWN:
            shown.setdefault(key, []).append(r.instance_type)
    for (kind, _, text), types in shown.items():
        alike = f" (and {len(types) - 1} more size{'s' if len(types) > 2 else ''}: {', '.join(types[1:])})"
        lines.append(f"  [{kind}] {types[0]}{alike if len(types) > 1 else ''}{text}")
    if not_planned:
        accelerators = dict.fromkeys(r.reason.split(": ", 1)[0].split(" x ", 1)[-1] for r in not_planned)
        lines.append(
            f"  [{NOT_PLANNED_KIND}] {len(not_planned)} types not planned ({', '.join(accelerators)}): the "
            "planner sizes NVIDIA CUDA GPUs on x86 hosts (sizing/data/not_planned.csv says why for each)"
        )
    return lines


def wrapped(lines: list[str] | tuple[str, ...], columns: int | None = None) -> list[str]:
    """Lines wrapped to the terminal's width (clamped to COLUMNS_RANGE), continuations indented under their line."""
    low, high = COLUMNS_RANGE
    width = columns or min(max(shutil.get_terminal_size((high, 24)).columns, low), high)
    out = []
    for line in lines:
        if len(line) <= width:
            out.append(line)
            continue
        indent = line[: len(line) - len(line.lstrip())]
        out += textwrap.wrap(
            line,
            width,
            initial_indent="",
            subsequent_indent=indent + CONTINUATION_INDENT,
            break_on_hyphens=False,
            break_long_words=False,
        ) or [line]
    return out


def command_line_weights_note(weights: str, request: PlanRequest) -> str | None:
    """Why a plan made with the command line's default weights differs from what a stack file plans (None: it does
    not: the checkpoint's own format was chosen)."""
    native = request.model.native_format
    if weights == native:
        return None
    return (
        f"weights: {weights} from --weights auto, the command line's default (the checkpoint is {native}); a "
        f"stack file serves the checkpoint's own {native} unless llmfleet:deployment.weights is auto. To plan as a "
        "stack does: --weights native."
    )


def stack_weights_note(weights: str, request: PlanRequest) -> str | None:
    """Why a stack's plan keeps the checkpoint's own weights where the command line might choose FP8 (None: the stack
    sets its weights)."""
    if request.deployment.weights is not None:
        return None
    return (
        f"weights: {weights}, the checkpoint's own: a stack file's default (a deployed fleet's numerics change only "
        "when its owner asks); `python -m sizing plan` defaults to --weights auto, which also weighs FP8; set "
        "llmfleet:deployment.weights: auto to plan as it does."
    )


def nearest_miss(d: dict) -> str:
    """Why a `memory --gpu` or `speed` answer does not fit, by how much, and what would: for stderr with exit 1."""
    layout = layout_label(
        d["tensor_parallel"], d["pipeline_parallel"], d.get("data_parallel", 1), d.get("expert_parallel", False)
    )
    where = f"{d.get('gpu')} with {layout}"
    b = d.get("breakdown") or {}
    if (b.get("unused_gib") or 0) < 0:
        return (
            f"does not fit.\nNearest miss: on {where}, --gpu-memory-utilization {b.get('gpu_memory_utilization'):g} "
            f"leaves {b['unused_gib'] + b.get('cuda_graph_gib', 0):.2f} GiB outside the budget for the "
            f"{b.get('cuda_graph_gib', 0):.2f} GiB CUDA graph pool\nTo fix: lower --gpu-memory-utilization."
        )
    if d.get("engine_starts") is False or (d.get("shortfall_gib") or 0) > 0:
        miss = f"the engine on {where} is {d.get('shortfall_gib', 0):.2f} GiB per GPU short of one full-length request"
    elif "required_kv_gib" in d:
        miss = (
            f"{d['batch']} request(s) of {d['seq_len']} tokens need {d['required_kv_gib']:.2f} GiB of KV cache per GPU "
            f"on {where}; the engine has {d['kv_cache_gib']:.2f} GiB (room for {d['max_concurrency']:.1f})"
        )
    else:
        miss = f"batch {d.get('batch')} exceeds the {d.get('max_batch')} that fit on {where}"
    return (
        f"does not fit.\nNearest miss: {miss}\nTo fix: raise --tp or --pp, lower --batch or the request length, "
        "use --kv-dtype fp8 or a smaller --weights format, or a larger GPU."
    )


def emit(text: str, end: str = "\n") -> None:
    """Print an answer to stdout; a reader that went away (`| head`) ends the output quietly and the exit code still
    says what the answer was (Python turns SIGPIPE into BrokenPipeError, which would otherwise end in a traceback)."""
    try:
        try:
            print(text, end=end, flush=True)
        except UnicodeEncodeError:  # a terminal that cannot show '→' or '×' (PYTHONIOENCODING=ascii) gets escapes
            encoding = getattr(sys.stdout, "encoding", None) or "ascii"
            print(text.encode(encoding, "backslashreplace").decode(encoding), end=end, flush=True)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the interpreter's final flush must not fail


def _kv_alternative_lines(p: Plan) -> list[str]:
    """The FP8-KV plan beside a 16-bit-KV one (never chosen: --kv-dtype fp8 allows it)."""
    k = p.kv_alternative
    if k is None:
        return []
    x, change = k.candidate, ("cheaper" if k.saving_share >= 0 else "dearer")
    return [
        f"  KV cache {k.kv_dtype} (not chosen; allow it with --kv-dtype {k.kv_dtype}): {x.instances} x "
        f"{x.instance_type}, "
        f"{x.parallel_label}, "
        f"{x.replicas} replica(s), ${x.hourly_cost_usd:,.2f}/h ({abs(k.saving_share):.0%} {change}), "
        f"{x.concurrency_per_replica:,.1f} users per replica, TPOT {x.tpot_ms:.1f} ms. Source: {k.source}"
    ]
