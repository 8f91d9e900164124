"""Ranking feasible candidates, and saying why each alternative lost."""

from __future__ import annotations

from sizing.planner.pricing import RANK_KEY_NAMES, Priced, candidate
from sizing.planner.request import PlanRequest
from sizing.planner.results import Alternative

MAX_ALTERNATIVES = 8
"""How many losing candidates the plan lists (best per instance type first)."""


def _pair(a: float, c: float, decimals: int, scale: float = 1.0) -> tuple[str, str]:
    """a and c (times `scale`) printed with `decimals` decimals, or more until they read differently (the ranking key
    compares them unrounded, so "37 vs 37" would explain nothing)."""
    for d in range(decimals, decimals + 6):
        sa, sc = f"{a * scale:,.{d}f}", f"{c * scale:,.{d}f}"
        if sa != sc:
            return sa, sc
    return f"{a * scale:,.{decimals + 6}f}", f"{c * scale:,.{decimals + 6}f}"


def _why_lost(alt: Priced, choice: Priced) -> str:
    """The first element of the ranking key on which the alternative lost, in words, with both values (the key the
    choice was made by)."""
    for i, (name, a, c) in enumerate(zip(RANK_KEY_NAMES, alt.rank_key, choice.rank_key)):
        if a == c:
            continue
        if i == 0:
            more = _pair(a - c, 0.0, 2)[0]
            share = 100 * (a - c) / c if c else 0.0
            return f"costs ${more}/h more (+{share:.{0 if share >= 1 else 1}f}%)" if c else f"costs ${more}/h more"
        prefix = "same cost" if i == 1 else "same cost and GPUs"
        if i == 4:  # stored negated: more spare capacity ranks first
            held = _pair(-a, -c, 0)
            return f"{prefix}, but its fleet holds {held[0]} users within the targets vs {held[1]}"
        if i == 5:
            tpot = _pair(a, c, 1, 1000)
            return f"{prefix}, but TPOT at capacity {tpot[0]} ms vs {tpot[1]} ms"
        return f"{prefix}, but {a:g} {name} vs {c:g}"
    return "ties with the choice on cost, GPUs, nodes, PP, users held and TPOT; found after it"


def alternatives(req: PlanRequest, ranked: list[Priced]) -> tuple[Alternative, ...]:
    """The best candidate of each other instance type, plus up to two other layouts of the chosen type."""
    chosen_type = ranked[0].placement.instance.name
    seen, picked = {(chosen_type, ranked[0].fmt.name)}, []
    for x in ranked[1:]:  # best per instance type and weight format
        if (x.placement.instance.name, x.fmt.name) not in seen:
            seen.add((x.placement.instance.name, x.fmt.name))
            picked.append(x)
    picked += [x for x in ranked[1:] if x.placement.instance.name == chosen_type and x not in picked][:2]
    picked = sorted(picked, key=lambda x: x.rank_key)[:MAX_ALTERNATIVES]
    return tuple(Alternative(candidate=candidate(req, x), why_lost=_why_lost(x, ranked[0])) for x in picked)
