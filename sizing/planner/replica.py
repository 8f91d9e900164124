"""Sizing one replica: does it start, how many requests does it hold, and how fast is it at that batch."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sizing.catalog.engines import EngineProfile
from sizing.catalog.formats import WeightFormat
from sizing.catalog.gpus import GpuSpec
from sizing.catalog.vllm_rules import startup_rule_note
from sizing.memory.budget import EngineSettings, MemoryBreakdown, memory_breakdown, with_draft_kv
from sizing.memory.kv import stage_kv_bytes_per_request
from sizing.memory.layout import Layout
from sizing.models.spec import ModelSpec
from sizing.planner.request import Workload
from sizing.planner.targets import Targets
from sizing.speed.load import EngineLimits, LoadPoint, ReplicaLoad, RequestShape, SpecDecode
from sizing.speed.model import ReplicaSpeed
from sizing.units import MS_PER_S

MissKind = Literal["memory", "tpot", "ttft", "latency"]


@dataclass(frozen=True)
class ReplicaFit:
    """A replica that starts and meets the latency targets, with its steady-state model."""

    memory: MemoryBreakdown
    """Per-GPU memory on the binding stage."""
    load: ReplicaLoad
    """Steady-state model of the replica at the workload's request shape."""
    capacity: LoadPoint
    """The heaviest steady load that meets every latency target."""
    batch: int
    """Requests one replica holds at once at that load (its --max-num-seqs)."""

    @property
    def tpot_s(self) -> float:
        """Mean inter-token latency at capacity."""
        return self.capacity.tpot_s

    @property
    def ttft_s(self) -> float:
        """Mean time to first token at capacity."""
        return self.capacity.ttft_s

    @property
    def output_tokens_per_s(self) -> float:
        """Output tokens per second at capacity."""
        return self.capacity.output_tokens_per_s

    @property
    def requests_per_s(self) -> float:
        """Completed requests per second at capacity."""
        return self.capacity.requests_per_s

    @property
    def concurrency(self) -> float:
        """Clients one replica serves at capacity (closed loop)."""
        return self.capacity.concurrency


@dataclass(frozen=True)
class ReplicaMiss:
    """Why a replica cannot serve the workload, and by how much it misses."""

    kind: MissKind
    """memory, tpot, ttft, or latency (a request's whole time in the system, bounded by concurrency / rate)."""
    reason: str
    """The miss in words, with its margin."""
    relative_miss: float
    """How far off, as a fraction of what is available (for ranking the nearest miss)."""
    remedy: str
    """What would make it fit."""


def largest_batch(limit: int, ok: Callable[[int], bool]) -> int:
    """Largest b in [1, limit] with ok(b), assuming ok is monotone (True then False); 0 if ok(1) fails."""
    if limit < 1 or not ok(1):
        return 0
    lo, hi = 1, limit
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if ok(mid) else (lo, mid - 1)
    return lo


def memory_batch_limit(
    m: ModelSpec,
    mem: MemoryBreakdown,
    kv_element_bytes: int,
    layout: Layout,
    engine: EngineProfile,
    request_tokens: int,
    settings: EngineSettings | None = None,
) -> int:
    """Requests of `request_tokens` the KV cache holds at once, capped by max_num_seqs. Data-parallel attention ranks
    each hold their own requests' cache and run their own scheduler, so the replica holds dp times one rank's. A
    speculative draft's cache layers (in `settings`) count too."""
    per_request = stage_kv_bytes_per_request(
        m, kv_element_bytes, layout, request_tokens, engine.sliding_window_kv_savings
    )
    if settings is not None:
        per_request = with_draft_kv(m, settings, layout, per_request, request_tokens)
    by_cache = int(mem.kv_cache_tokens * mem.kv_bytes_per_token // per_request[mem.pipeline_stage])
    return min(by_cache, mem.max_num_seqs) * layout.dp


def _memory_miss(mem: MemoryBreakdown, note: str = "") -> ReplicaMiss:
    if mem.unused_gib < 0:  # the request fits; the CUDA graph pool outside the budget does not
        return ReplicaMiss(
            kind="memory",
            reason=f"--gpu-memory-utilization {mem.gpu_memory_utilization:g} leaves "
            f"{mem.unused_gib + mem.cuda_graph_gib:.2f} "
            f"GiB outside the budget for a {mem.cuda_graph_gib:.2f} GiB CUDA graph pool: vLLM would run out of "
            "memory capturing graphs",
            relative_miss=mem.shortfall_gib / mem.visible_gib,
            remedy="lower gpu_memory_utilization",
        )
    return ReplicaMiss(
        kind="memory",
        reason=f"one {mem.max_model_len}-token request does not fit: needs {mem.shortfall_gib:.1f} GiB more per "
        f"GPU{note}",
        relative_miss=mem.shortfall_gib / mem.visible_gib,
        remedy="lower max_model_len, use kv_dtype fp8 or a smaller weight format, or allow larger GPUs / more TP or PP",
    )


def replica_load(
    speed: ReplicaSpeed,
    mem: MemoryBreakdown,
    limit: int,
    engine: EngineProfile,
    w: Workload,
    spec: SpecDecode | None = None,
    step_time_factor: float | None = None,
) -> ReplicaLoad:
    """The steady-state model of one replica for the workload's typical request (with a speculative draft, if any;
    `step_time_factor`: the engine's speed bias when it is not the profile's own, e.g. 1 under a calibration)."""
    shape = RequestShape(w.input_tokens, w.output_tokens, w.prefix_hit_rate)
    budget = mem.max_num_batched_tokens * speed.layout.dp  # every data-parallel attention rank schedules its own tokens
    factor = engine.step_time_factor if step_time_factor is None else step_time_factor
    return ReplicaLoad(speed, shape, EngineLimits(budget, limit, factor, spec))


def _latency_miss(load: ReplicaLoad, t: Targets) -> ReplicaMiss:
    """The limit a lone request already misses, by how much."""
    lone = load.at_decodes(load.smallest_d())  # where capacity() found the target missed (a lighter load may meet it)
    tpot = "TPOT (reading-speed default)" if t.default_tpot else "TPOT"
    checks: list[tuple[MissKind, str, float | None, float]] = [
        ("tpot", tpot, t.tpot_s, lone.tpot_s),
        ("tpot", "TPOT p95", t.tpot_p95_s, lone.tpot_p95_s),
        ("ttft", "TTFT", t.ttft_s, lone.ttft_s),
        ("ttft", "TTFT p95", t.ttft_p95_s, lone.ttft_p95_s),
        ("latency", "time in the system (concurrency / rate)", t.time_in_system_s, lone.time_in_system_s),
    ]
    given = [(k, lab, target, v) for k, lab, target, v in checks if target is not None]
    kind, label, target, value = max(given, key=lambda c: c[3] / c[2])
    remedy = {
        "tpot": "relax tpot_ms, or allow faster GPUs or more TP",
        "ttft": "relax ttft_ms, shorten prompts, or allow faster GPUs or more TP",
        "latency": "raise concurrency (more requests may be in flight) or lower the rate, or allow faster GPUs",
    }[kind]
    return ReplicaMiss(
        kind,
        f"misses {label} by {(value - target) * MS_PER_S:,.1f} ms ({value * MS_PER_S:,.1f} ms for a "
        f"lone request vs {target * MS_PER_S:,.6g} ms)",
        (value - target) / target,
        remedy,
    )


def replica_model(
    m: ModelSpec,
    gpu: GpuSpec,
    fmt: WeightFormat,
    layout: Layout,
    engine: EngineProfile,
    settings: EngineSettings,
    speed: ReplicaSpeed | Callable[[], ReplicaSpeed],
    w: Workload,
    spec: SpecDecode | None = None,
    step_time_factor: float | None = None,
) -> tuple[MemoryBreakdown, ReplicaLoad] | ReplicaMiss:
    """Whether the replica starts (memory), and its steady-state model at the workload's request shape. Independent
    of the latency targets, so one serves every target a plan tries. `speed` may be a factory, called only when the
    replica starts (the planner's hot path)."""
    mem = memory_breakdown(m, gpu, fmt, layout, engine, settings)
    if not mem.fits:
        return _memory_miss(mem, startup_rule_note(gpu, fmt))
    limit = memory_batch_limit(m, mem, settings.kv_element_bytes, layout, engine, w.request_tokens, settings)
    return mem, replica_load(
        speed if isinstance(speed, ReplicaSpeed) else speed(), mem, limit, engine, w, spec, step_time_factor
    )


def fit_targets(mem: MemoryBreakdown, load: ReplicaLoad, t: Targets) -> ReplicaFit | ReplicaMiss:
    """The heaviest steady load of a replica that meets the targets (latency, mean and p95; time in the system; the
    utilization ceiling)."""
    cap = load.capacity(t.tpot_s, t.ttft_s, t.tpot_p95_s, t.ttft_p95_s, t.time_in_system_s, t.max_utilization)
    if cap is None:
        return _latency_miss(load, t)
    batch = max(1, min(load.limits.max_running, math.ceil(cap.concurrency)))
    return ReplicaFit(memory=mem, load=load, capacity=cap, batch=batch)
