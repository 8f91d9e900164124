"""Ranking feasible candidates, and saying why each alternative lost."""

from __future__ import annotations

from sizing.planner.pricing import Priced, candidate
from sizing.planner.request import PlanRequest
from sizing.planner.results import Alternative, Candidate

MAX_ALTERNATIVES = 8
"""How many losing candidates the plan lists (best per instance type first)."""


def _why_lost(alt: Candidate, choice: Candidate) -> str:
    delta = alt.hourly_cost_usd - choice.hourly_cost_usd
    pct = 100 * delta / choice.hourly_cost_usd if choice.hourly_cost_usd else 0.0
    if delta > 0.005:
        return f"costs ${delta:,.2f}/h more (+{pct:.0f}%)"
    return f"same cost, but uses {alt.total_gpus} GPUs vs {choice.total_gpus} or a slower TPOT ({alt.tpot_ms:.1f} ms)"


def alternatives(req: PlanRequest, ranked: list[Priced], choice: Candidate) -> tuple[Alternative, ...]:
    """The best candidate of each other instance type, plus up to two other layouts of the chosen type."""
    chosen_type = ranked[0].placement.instance.name
    seen, picked = {(chosen_type, ranked[0].fmt.name)}, []
    for x in ranked[1:]:  # best per instance type and weight format
        if (x.placement.instance.name, x.fmt.name) not in seen:
            seen.add((x.placement.instance.name, x.fmt.name))
            picked.append(x)
    picked += [x for x in ranked[1:] if x.placement.instance.name == chosen_type][:2]
    picked = sorted(picked, key=lambda x: x.rank_key)[:MAX_ALTERNATIVES]
    alts = [candidate(req, x) for x in picked]
    return tuple(Alternative(candidate=c, why_lost=_why_lost(c, choice)) for c in alts)
