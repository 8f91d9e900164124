"""Ranking feasible candidates by what the workload pays for, and saying why each alternative lost.

- Batch work pays per token: candidates rank by the cost of the job when its size is given (the fleet's hourly cost
  over the hours it runs, whole Capacity Blocks), else by the cost per million output tokens.
- Interactive work pays by the hour: the cheapest first, except that hourly costs within RANK_COST_BAND of the cheapest
  count as equal, and among those fewer nodes per replica (a replica dies with any of its nodes) and then a shorter
  time in the system (TTFT + output x TPOT at the planned load) win; latencies within RANK_LATENCY_BAND are equal.
Then, as before: fewer GPUs, fewer PP stages, more requests/s at capacity, lower TPOT at capacity (Priced.rank_key)."""

from __future__ import annotations

from collections.abc import Callable

from sizing.planner.pricing import RANK_KEY_NAMES, Priced, candidate
from sizing.planner.request import PlanRequest
from sizing.planner.results import Alternative

MAX_ALTERNATIVES = 8
"""How many losing candidates the plan lists (best per instance type first)."""
RANK_COST_BAND = 0.05
"""Interactive hourly costs within 5% of the cheapest rank as equal: a price difference smaller than the catalog's own
drift between snapshots and far inside the load model's error (benchmarks/accuracy.py), so operations (nodes per
replica) and latency decide among them (issue 19: 4% cheaper must not beat one node over two)."""
RANK_LATENCY_BAND = 0.10
"""Times in the system within 10% of the best among equal-cost candidates with as few nodes rank as equal (then the
cheaper wins): below the load model's latency error, so it never buys a dearer plan for noise."""


def _cost_band(feasible: list[Priced]) -> tuple[list[Priced], list[Priced], Callable[[Priced], tuple]]:
    """The candidates whose hourly cost ranks as the cheapest's, the others, and the band's order key: fewer nodes per
    replica, then as fast as the fastest with as many nodes, then Priced.rank_key."""
    cheapest = min(x.costs.hourly_usd for x in feasible)
    band = [x for x in feasible if in_cost_band(x, cheapest)]
    rest = [x for x in feasible if not in_cost_band(x, cheapest)]
    fastest: dict[int, float] = {}
    for x in band:
        nodes = x.placement.nodes_per_replica
        fastest[nodes] = min(fastest.get(nodes, x.at_load.time_in_system_s), x.at_load.time_in_system_s)
    return (
        band,
        rest,
        lambda x: (
            x.placement.nodes_per_replica,
            not _as_fast(x, fastest[x.placement.nodes_per_replica]),
            x.rank_key,
        ),
    )


def _interactive_order(feasible: list[Priced]) -> list[Priced]:
    band, rest, key = _cost_band(feasible)
    return sorted(band, key=key) + sorted(rest, key=lambda x: x.rank_key)


def _batch_key(x: Priced) -> tuple:
    return (round(batch_cost(x), 6),) + x.rank_key[1:]


def in_cost_band(x: Priced, cheapest_usd_per_hour: float) -> bool:
    """The candidate's hourly cost ranks as equal to the cheapest's."""
    return x.costs.hourly_usd <= cheapest_usd_per_hour * (1 + RANK_COST_BAND)


def _as_fast(x: Priced, fastest_s: float) -> bool:
    return x.at_load.time_in_system_s <= fastest_s * (1 + RANK_LATENCY_BAND)


def batch_cost(x: Priced) -> float:
    """What a batch workload is ranked by: the job's cost, or the cost per million output tokens."""
    return x.job_cost_usd if x.job_cost_usd is not None else x.cost_per_million_tokens_usd


def order(req: PlanRequest, feasible: list[Priced]) -> list[Priced]:
    """The feasible candidates, best first, by what the workload pays for."""
    if not feasible:
        return []
    if req.workload.kind == "batch":
        return sorted(feasible, key=_batch_key)
    return _interactive_order(feasible)


def best(req: PlanRequest, feasible: list[Priced]) -> Priced:
    """order()'s first without ordering the rest (min() keeps the first of equal keys, as the stable sort does)."""
    if req.workload.kind == "batch":
        return min(feasible, key=_batch_key)
    band, _, key = _cost_band(feasible)
    return min(band, key=key)


def _pair(a: float, c: float, decimals: int, scale: float = 1.0) -> tuple[str, str]:
    """a and c (times `scale`) printed with `decimals` decimals, or more until they read differently (the ranking key
    compares them unrounded, so "37 vs 37" would explain nothing)."""
    for d in range(decimals, decimals + 6):
        sa, sc = f"{a * scale:,.{d}f}", f"{c * scale:,.{d}f}"
        if sa != sc:
            return sa, sc
    return f"{a * scale:,.{decimals + 6}f}", f"{c * scale:,.{decimals + 6}f}"


def _share(a: float, c: float) -> str:
    share = 100 * (a - c) / c if c else 0.0
    return f"{share:+.{0 if abs(share) >= 1 else 1}f}%"


def _by_key(alt: Priced, choice: Priced, prefix: str) -> str:
    """The first element of Priced.rank_key after cost on which the alternative lost, in words, with both values."""
    for i, (name, a, c) in enumerate(zip(RANK_KEY_NAMES, alt.rank_key, choice.rank_key, strict=True)):
        if i == 0 or a == c:
            continue
        prefix += " and GPUs" if i > 1 else ""
        if i == 4:  # stored negated: more spare capacity ranks first
            rate = _pair(-a, -c, 1)
            return f"{prefix}, but its fleet serves {rate[0]} req/s at capacity vs {rate[1]}"
        if i == 5:
            tpot = _pair(a, c, 1, 1000)
            return f"{prefix}, but TPOT at capacity {tpot[0]} ms vs {tpot[1]} ms"
        return f"{prefix}, but {a:g} {name} vs {c:g}"
    return "ties with the choice on what it pays, GPUs, nodes, PP, requests/s at capacity and TPOT; found after it"


def _hourly_why(alt: Priced, choice: Priced, cheapest: float) -> str:
    a, c = alt.costs.hourly_usd, choice.costs.hourly_usd
    if not in_cost_band(alt, cheapest):
        more = _pair(a - c, 0.0, 2)[0]
        return f"costs ${more}/h more ({_share(a, c)})" if c else f"costs ${more}/h more"
    cost = (
        f"the same hourly cost (${c:,.2f}/h)"
        if round(a, 6) == round(c, 6)
        else f"within {RANK_COST_BAND:.0%} of the cheapest (${_pair(a, c, 2)[0]}/h vs ${_pair(a, c, 2)[1]}/h, "
        "equal for ranking)"
    )
    an, cn = alt.placement.nodes_per_replica, choice.placement.nodes_per_replica
    if an != cn:
        return f"{cost}, but {an} nodes per replica vs {cn} (a replica stops with any of its nodes)"
    fastest = min(alt.at_load.time_in_system_s, choice.at_load.time_in_system_s)
    if not _as_fast(alt, fastest) and _as_fast(choice, fastest):
        t = _pair(alt.at_load.time_in_system_s, choice.at_load.time_in_system_s, 2)
        ttft = _pair(alt.at_load.ttft_s, choice.at_load.ttft_s, 0, 1000)
        return f"{cost}, but a request takes {t[0]} s vs {t[1]} s in the system (TTFT {ttft[0]} ms vs {ttft[1]} ms)"
    if a != c:
        more = _pair(a - c, 0.0, 2)[0]
        return (
            f"costs ${more}/h more ({_share(a, c)}) with as many nodes per replica and a time in the system within "
            f"{RANK_LATENCY_BAND:.0%}"
        )
    return _by_key(alt, choice, "same cost")


def _batch_why(alt: Priced, choice: Priced) -> str:
    a, c = batch_cost(alt), batch_cost(choice)
    if round(a, 6) == round(c, 6):
        return _by_key(alt, choice, "same cost of the job" if alt.job_cost_usd is not None else "same cost per token")
    if alt.job_cost_usd is not None and choice.job_cost_usd is not None and alt.job_hours and choice.job_hours:
        more = _pair(a - c, 0.0, 2)[0]
        return (
            f"the job costs ${more} more ({_share(a, c)}): {alt.job_hours:,.1f} h at ${alt.costs.hourly_usd:,.2f}/h vs "
            f"{choice.job_hours:,.1f} h at ${choice.costs.hourly_usd:,.2f}/h"
        )
    more = _pair(a - c, 0.0, 2)[0]
    return f"costs ${more} more per million output tokens ({_share(a, c)})"


def why_lost(req: PlanRequest, alt: Priced, choice: Priced, cheapest_usd_per_hour: float) -> str:
    """Why the choice beat the alternative, by the measure the workload is ranked on."""
    if req.workload.kind == "batch":
        return _batch_why(alt, choice)
    return _hourly_why(alt, choice, cheapest_usd_per_hour)


def alternatives(req: PlanRequest, ranked: list[Priced]) -> tuple[Alternative, ...]:
    """The best candidate of each other instance type, plus up to two other layouts of the chosen type (`ranked` is in
    order())."""
    position = {id(x): i for i, x in enumerate(ranked)}
    chosen_type = ranked[0].placement.instance.name
    seen, picked = {(chosen_type, ranked[0].fmt.name)}, []
    for x in ranked[1:]:  # best per instance type and weight format
        if (x.placement.instance.name, x.fmt.name) not in seen:
            seen.add((x.placement.instance.name, x.fmt.name))
            picked.append(x)
    listed = {id(x) for x in picked}  # a candidate of the chosen type is listed once (two formats on one type)
    picked += [x for x in ranked[1:] if x.placement.instance.name == chosen_type and id(x) not in listed][:2]
    picked = sorted(picked, key=lambda x: position[id(x)])[:MAX_ALTERNATIVES]
    cheapest = min(x.costs.hourly_usd for x in ranked)
    return tuple(
        Alternative(candidate=candidate(req, x), why_lost=why_lost(req, x, ranked[0], cheapest)) for x in picked
    )
