"""Sizing one replica: does it start, how many requests does it hold, and how fast is it at that batch."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from sizing.catalog.engines import EngineProfile
from sizing.catalog.formats import WeightFormat
from sizing.catalog.gpus import GpuSpec
from sizing.catalog.vllm_rules import startup_rule_note
from sizing.memory.budget import EngineSettings, MemoryBreakdown, memory_breakdown
from sizing.memory.kv import stage_kv_bytes_per_request
from sizing.memory.layout import Layout
from sizing.models.spec import ModelSpec
from sizing.planner.request import Workload
from sizing.speed.model import ReplicaSpeed

MissKind = Literal["memory", "tpot", "ttft"]


@dataclass(frozen=True)
class ReplicaFit:
    """A replica that starts and meets the latency targets."""

    memory: MemoryBreakdown
    """Per-GPU memory on the binding stage."""
    batch: int
    """Requests one replica serves at once within the targets."""
    tpot_s: float
    """Inter-token latency at that batch."""
    ttft_s: float
    """Time to first token at that batch."""
    output_tokens_per_s: float
    """Decode throughput at that batch."""
    requests_per_s: float
    """Completed requests per second at that batch (Little's law)."""


@dataclass(frozen=True)
class ReplicaMiss:
    """Why a replica cannot serve the workload, and by how much it misses."""

    kind: MissKind
    """memory, tpot or ttft."""
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


def memory_batch_limit(m: ModelSpec, mem: MemoryBreakdown, kv_element_bytes: int, layout: Layout, engine: EngineProfile,
                       request_tokens: int) -> int:
    """Requests of `request_tokens` the KV cache holds at once, capped by max_num_seqs. Data-parallel attention ranks
    each hold their own requests' cache and run their own scheduler, so the replica holds dp times one rank's."""
    per_request = stage_kv_bytes_per_request(m, kv_element_bytes, layout, request_tokens, engine.sliding_window_kv_savings)
    by_cache = int(mem.kv_cache_tokens * mem.kv_bytes_per_token // per_request[mem.pipeline_stage])
    return min(by_cache, mem.max_num_seqs) * layout.dp


def _memory_miss(mem: MemoryBreakdown, note: str = "") -> ReplicaMiss:
    return ReplicaMiss(
        kind="memory",
        reason=f"one {mem.max_model_len}-token request does not fit: needs {mem.shortfall_gib:.1f} GiB more per GPU{note}",
        relative_miss=mem.shortfall_gib / mem.visible_gib,
        remedy="lower max_model_len, use kv_dtype fp8 or a smaller weight format, or allow larger GPUs / more TP or PP",
    )


def size_replica(
    m: ModelSpec, gpu: GpuSpec, fmt: WeightFormat, layout: Layout, engine: EngineProfile, settings: EngineSettings,
    speed: ReplicaSpeed, w: Workload,
) -> ReplicaFit | ReplicaMiss:
    """Fit one replica to the workload: memory first, then the TPOT target, then the TTFT target."""
    mem = memory_breakdown(m, gpu, fmt, layout, engine, settings)
    if not mem.fits:
        return _memory_miss(mem, startup_rule_note(gpu, fmt))
    limit = memory_batch_limit(m, mem, settings.kv_element_bytes, layout, engine, w.request_tokens)
    i, o = w.input_tokens, w.output_tokens
    batch = limit
    if w.tpot_ms is not None:
        tpot_ms = w.tpot_ms
        batch = largest_batch(limit, lambda b: speed.tpot_s(b, i, o) * 1000 <= tpot_ms)
        if batch == 0:
            best = speed.tpot_s(1, i, o) * 1000
            return ReplicaMiss("tpot", f"misses TPOT by {best - tpot_ms:.1f} ms ({best:.1f} ms at batch 1 vs {tpot_ms:g} ms)",
                               (best - tpot_ms) / tpot_ms, "relax tpot_ms, or allow faster GPUs or more TP")
    chunk = mem.max_num_batched_tokens
    if w.ttft_ms is not None:
        ttft_ms = w.ttft_ms
        batch = largest_batch(batch, lambda b: speed.ttft_s(b, i, o, chunk) * 1000 <= ttft_ms)
        if batch == 0:
            best = speed.ttft_s(1, i, o, chunk) * 1000
            return ReplicaMiss("ttft", f"misses TTFT by {best - ttft_ms:.0f} ms ({best:.0f} ms at batch 1 vs {ttft_ms:g} ms)",
                               (best - ttft_ms) / ttft_ms, "relax ttft_ms, shorten prompts, or allow faster GPUs or more TP")
    tpot, ttft = speed.tpot_s(batch, i, o), speed.ttft_s(batch, i, o, chunk)
    return ReplicaFit(memory=mem, batch=batch, tpot_s=tpot, ttft_s=ttft,
                      output_tokens_per_s=batch / tpot, requests_per_s=batch / (ttft + o * tpot))
