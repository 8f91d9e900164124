"""One traffic model: concurrency, request rate and token rate read together through Little's law (in flight = rate x
time in the system), and what the plan says when the figures given do not agree at the planned latency."""

from __future__ import annotations

from sizing.planner.pricing import Priced
from sizing.planner.request import PlanRequest
from sizing.planner.targets import in_flight_bound_s
from sizing.units import MS_PER_S

CONCURRENCY_AGREEMENT = 0.25
"""A concurrency given beside a rate agrees with it when the requests the rate keeps in flight at the planned latency
are within this share of it; beyond it the plan says which figure it planned for and what the other one implies."""
BOUND_BINDS = 0.99
"""The in-flight bound sets the plan when a replica at capacity spends at least this share of it per request."""


def traffic_warnings(req: PlanRequest, x: Priced) -> tuple[str, ...]:
    """What the plan did with a concurrency given beside a rate: the bound it set, or why it was slack."""
    w = req.workload
    rate, bound = w.request_rate, in_flight_bound_s(w)
    if not rate or bound is None or w.concurrency is None:
        return ()
    at = x.at_load
    in_flight = rate * at.time_in_system_s
    if x.fit.capacity.time_in_system_s >= BOUND_BINDS * bound:
        return (
            (
                f"concurrency={w.concurrency} at {rate:,.4g} req/s leaves each request {bound:,.2f} s in the system "
                f"(Little's law); the fleet is sized so that requests take no longer (TPOT {at.tpot_s * MS_PER_S:,.1f} "
                f"ms, TTFT {at.ttft_s * MS_PER_S:,.0f} ms at the planned load), tighter than the latency targets "
                "alone: "
                "more in flight would mean a slower fleet is enough"
            ),
        )
    if w.concurrency > (1 + CONCURRENCY_AGREEMENT) * in_flight:
        clients_rate = w.concurrency / at.time_in_system_s
        return (
            (
                f"concurrency={w.concurrency} is {w.concurrency / in_flight:,.1f}x the {in_flight:,.1f} requests "
                f"{rate:,.4g} req/s keeps in flight at the planned {at.time_in_system_s:,.2f} s per request (Little's "
                f"law); planned for the rate. {w.concurrency} clients each sending the next request as soon as "
                "the last "
                f"returns would be {clients_rate:,.0f} req/s: if that is the traffic, give that rate, or drop the rate "
                "to plan for the clients"
            ),
        )
    return ()
