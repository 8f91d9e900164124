"""The limits a replica is sized under: the workload's latency targets, and the ones the plan adds and says so.

- Little's law (one traffic model): a rate given with a concurrency bounds a request's time in the system to
  concurrency / rate, since in flight = rate x time in the system. The fleet is sized for the rate under that bound.
- Interactive replicas are planned at most at `interactive_max_utilization` of their largest sustainable request rate.
- An interactive workload with no TPOT target gets `interactive_default_tpot_ms` (human reading speed).
Each added limit is named in the plan (Plan.assumed_limits) with its figure and source."""

from __future__ import annotations

from dataclasses import dataclass

from sizing.catalog.assumptions import Assumptions
from sizing.planner.request import Workload
from sizing.units import MS_PER_S, S_PER_MS


@dataclass(frozen=True)
class Targets:
    """Everything a replica's capacity must meet, in seconds (None: no such limit)."""

    tpot_s: float | None
    """Mean inter-token latency."""
    ttft_s: float | None
    """Mean time to first token."""
    tpot_p95_s: float | None
    """p95 of a request's mean inter-token latency."""
    ttft_p95_s: float | None
    """p95 time to first token."""
    time_in_system_s: float | None
    """A request's whole time in the replica (TTFT + output x TPOT): concurrency / rate when both are given."""
    max_utilization: float | None
    """Share of the replica's largest sustainable request rate it may be planned at."""
    default_tpot: bool
    """tpot_s is the reading-speed default, not the workload's own."""

    @property
    def key(self) -> tuple:
        """Hashable identity (fits are memoized per targets)."""
        return (self.tpot_s, self.ttft_s, self.tpot_p95_s, self.ttft_p95_s, self.time_in_system_s, self.max_utilization)

    @property
    def any_latency(self) -> bool:
        """Some latency limit applies (else the replica is sized at saturation)."""
        return any(
            t is not None for t in (self.tpot_s, self.ttft_s, self.tpot_p95_s, self.ttft_p95_s, self.time_in_system_s)
        )


def _seconds(ms: float | None) -> float | None:
    return ms * S_PER_MS if ms is not None else None


def in_flight_bound_s(w: Workload) -> float | None:
    """Little's law: with at most `concurrency` requests in flight at `rate` requests/s, each may spend at most
    concurrency / rate seconds in the system (None unless both are given)."""
    rate = w.request_rate
    return w.concurrency / rate if w.concurrency and rate else None


def targets_for(w: Workload, a: Assumptions) -> Targets:
    """The workload's targets plus the limits the plan adds."""
    interactive = w.kind == "interactive"
    default_tpot = (
        interactive and w.tpot_ms is None and w.tpot_p95_ms is None and a.interactive_default_tpot_ms is not None
    )
    ceiling = a.interactive_max_utilization
    return Targets(
        tpot_s=_seconds(a.interactive_default_tpot_ms if default_tpot else w.tpot_ms),
        ttft_s=_seconds(w.ttft_ms),
        tpot_p95_s=_seconds(w.tpot_p95_ms),
        ttft_p95_s=_seconds(w.ttft_p95_ms),
        time_in_system_s=in_flight_bound_s(w),
        max_utilization=ceiling if interactive and ceiling is not None and ceiling < 1 else None,
        default_tpot=default_tpot,
    )


def assumed_limits(w: Workload, a: Assumptions) -> tuple[str, ...]:
    """The limits the plan adds to the workload's, in words with their figures and sources."""
    t, out = targets_for(w, a), []
    if t.default_tpot and a.interactive_default_tpot_ms:
        out.append(
            f"TPOT <= {a.interactive_default_tpot_ms:g} ms: no TPOT target was given, so interactive replicas are "
            f"held to {MS_PER_S / a.interactive_default_tpot_ms:g} tokens/s per user, faster than people read "
            "(assumption interactive_default_tpot_ms; Databricks, LLM Inference Performance Engineering, 2023)"
        )
    if t.max_utilization is not None:
        out.append(
            f"each replica at most {t.max_utilization:.0%} of its largest sustainable request rate (assumption "
            "interactive_max_utilization: MLPerf's latency-bound Server scenario reaches 74-88% of Offline)"
        )
    if t.time_in_system_s is not None:
        out.append(
            f"each request in the system at most {t.time_in_system_s:,.2f} s: {w.concurrency} in flight at "
            f"{w.request_rate:,.4g} req/s (Little's law: in flight = rate x time in the system)"
        )
    return tuple(out)
