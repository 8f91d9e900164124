"""Ranking feasible candidates, and saying why each alternative lost."""

from __future__ import annotations

from sizing.planner.pricing import RANK_KEY_NAMES, Priced, candidate
from sizing.planner.request import PlanRequest
from sizing.planner.results import Alternative

MAX_ALTERNATIVES = 8
"""How many losing candidates the plan lists (best per instance type first)."""


def _why_lost(alt: Priced, choice: Priced) -> str:
    """The first element of the ranking key on which the alternative lost, in words (the key the choice was made by)."""
    for i, (name, a, c) in enumerate(zip(RANK_KEY_NAMES, alt.rank_key, choice.rank_key)):
        if a == c:
            continue
        if i == 0:
            return f"costs ${a - c:,.2f}/h more (+{100 * (a - c) / c:.0f}%)" if c else f"costs ${a - c:,.2f}/h more"
        prefix = "same cost" if i == 1 else "same cost and GPUs"
        if i == 4:  # stored negated: more spare capacity ranks first
            return f"{prefix}, but its fleet holds {-a:,.0f} users within the targets vs {-c:,.0f}"
        if i == 5:
            return f"{prefix}, but TPOT at capacity {1000 * a:.1f} ms vs {1000 * c:.1f} ms"
        return f"{prefix}, but {a:g} {name} vs {c:g}"
    return "ties with the choice on every ranking criterion; listed second"


def alternatives(req: PlanRequest, ranked: list[Priced]) -> tuple[Alternative, ...]:
    """The best candidate of each other instance type, plus up to two other layouts of the chosen type."""
    chosen_type = ranked[0].placement.instance.name
    seen, picked = {(chosen_type, ranked[0].fmt.name)}, []
    for x in ranked[1:]:  # best per instance type and weight format
        if (x.placement.instance.name, x.fmt.name) not in seen:
            seen.add((x.placement.instance.name, x.fmt.name))
            picked.append(x)
    picked += [x for x in ranked[1:] if x.placement.instance.name == chosen_type][:2]
    picked = sorted(picked, key=lambda x: x.rank_key)[:MAX_ALTERNATIVES]
    return tuple(Alternative(candidate=candidate(req, x), why_lost=_why_lost(x, ranked[0])) for x in picked)
