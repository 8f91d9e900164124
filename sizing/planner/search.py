"""The search: every placement of every allowed instance type in every weight format, each replica sized once
(memory, then speed at the targets), the feasible ones priced and ranked, the others rejected with their margin."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sizing.catalog.checkpoints import Checkpoint
from sizing.catalog.engines import EngineProfile, get_engine
from sizing.catalog.formats import WeightFormat
from sizing.catalog.instances import InstanceType, all_instance_types, get_instance_type, not_planned_types
from sizing.memory.budget import EngineSettings, MemoryBreakdown, kv_element_bytes
from sizing.models.spec import ModelSpec
from sizing.planner import speculative
from sizing.planner.bound import CheapestBound, cheapest_bound
from sizing.planner.checkpoint import checkpoint_for
from sizing.planner.formats import formats_to_try, requested_formats
from sizing.planner.job import deadline_miss
from sizing.planner.layouts import Placement, placements
from sizing.planner.pricing import Priced, node_cold_start_s, price
from sizing.planner.ranking import best, order
from sizing.planner.rejections import (
    fleet_size_rejection,
    format_rejection,
    instance_rejection,
    offering_rejection,
    reject,
)
from sizing.planner.replica import ReplicaFit, ReplicaMiss, fit_targets, replica_model
from sizing.planner.replica_memo import Same, shared_memos, shared_speed
from sizing.planner.request import Deployment, PlanRequest, Workload
from sizing.planner.results import Rejection
from sizing.planner.targets import Targets, targets_for
from sizing.speed.load import ReplicaLoad
from sizing.speed.model import ReplicaSpeed


def allowed_instances(req: PlanRequest) -> list[InstanceType]:
    names = req.deployment.instance_types
    if names:  # each type searched once; types the planner does not size are listed as rejected instead
        return [get_instance_type(n) for n in dict.fromkeys(names) if n.strip().lower() not in not_planned_types()]
    return list(all_instance_types().values())


class FitMemo:
    """Replica fits of one plan() call. A fit depends on the GPU, its link, the layout and whether PP crosses nodes,
    not on the instance size, so g5.xlarge ... g5.16xlarge share one."""

    def __init__(self, req: PlanRequest, engine: EngineProfile, fmt: WeightFormat) -> None:
        self.req, self.engine, self.fmt = req, engine, fmt
        self.spec = speculative.resolve(req.model, req.deployment.speculative, engine)
        self.spec_step = speculative.spec_decode(self.spec, req.assumptions) if self.spec else None
        self.kv_bytes = kv_element_bytes(req.deployment.kv_dtype, fmt)
        self.settings = EngineSettings(
            gpu_memory_utilization=req.deployment.gpu_memory_utilization,
            max_model_len=req.max_model_len,
            kv_element_bytes=self.kv_bytes,
        )
        w = req.workload
        context = (
            req.model,
            Same(fmt),
            Same(engine),
            self.settings,
            req.deployment.speculative,
            self.spec_step,
            w.input_tokens,
            w.output_tokens,
            w.prefix_hit_rate,
            w.request_tokens,
            req.assumptions,
            Same(req.calibration),
        )  # everything a replica model reads besides the placement (replica_memo)
        memos = shared_memos(context)
        self._models: dict[tuple, tuple[MemoryBreakdown, ReplicaLoad] | ReplicaMiss] = memos.models
        self._fits: dict[tuple, ReplicaFit | ReplicaMiss] = memos.fits
        self._placed: dict[tuple, dict[int, tuple[Placement, ReplicaFit | ReplicaMiss]]] = memos.placed
        self._rejections: dict[tuple[int, str], tuple[ReplicaMiss, Rejection]] = memos.rejections
        self._targets: tuple[Workload, Targets, tuple, dict[int, tuple[Placement, ReplicaFit | ReplicaMiss]]] | None
        self._targets = None

    def fit(self, p: Placement, w: Workload | None = None) -> ReplicaFit | ReplicaMiss:
        """The replica fit of a placement under the latency targets of `w` (default: the request's workload; the
        frontier asks for other TPOT targets of the same traffic). A placement asked again (the catalog's placements
        are the same objects from plan to plan) is found by identity, before any key is built."""
        w = w or self.req.workload
        if self._targets is None or self._targets[0] is not w:
            t = targets_for(w, self.req.assumptions)
            key = (*t.key, t.default_tpot)  # every field: a miss's words depend on default_tpot
            self._targets = (w, t, key, self._placed.setdefault(key, {}))
        _, targets, targets_key, placed = self._targets
        hit = placed.get(id(p))
        if hit is not None and hit[0] is p:  # the value holds the placement, so its id is not reused meanwhile
            return hit[1]
        found = self._fit(p, targets, targets_key)
        placed[id(p)] = (p, found)
        return found

    def rejection(self, p: Placement, miss: ReplicaMiss) -> Rejection:
        """The rejection a replica miss makes on the placement's instance type (made once: the misses are memoized,
        and every instance size of a GPU and layout shares one)."""
        key = (id(miss), p.instance.name)
        hit = self._rejections.get(key)
        if hit is None or hit[0] is not miss:
            hit = self._rejections[key] = (
                miss,
                reject(p.instance, p.layout, miss.kind, miss.reason, miss, self.fmt.name),
            )
        return hit[1]

    def _fit(self, p: Placement, targets: Targets, targets_key: tuple) -> ReplicaFit | ReplicaMiss:
        link = p.instance.gpu_link if p.layout.tp > 1 else "-"  # the link matters only to TP all-reduces
        layout = p.layout
        key = (Same(p.instance.gpu), link, layout.tp, layout.pp, layout.dp, layout.ep, p.nodes_per_replica > 1)
        if key not in self._models:
            req = self.req

            assumptions, factor = req.speed_assumptions(p.instance.gpu.name, self.fmt.name)

            def speed() -> ReplicaSpeed:
                parts = (
                    req.model,
                    p.instance.gpu,
                    self.fmt,
                    p.layout,
                    self.kv_bytes,
                    p.instance.gpu_link,
                    assumptions,
                    p.nodes_per_replica > 1,
                )
                key = (req.model, Same(p.instance.gpu), Same(self.fmt), *parts[3:])
                return shared_speed(key, partial(ReplicaSpeed, *parts))  # the same for every request shape

            settings = speculative.with_draft(self.settings, req.model, self.fmt, layout, self.spec)
            self._models[key] = replica_model(
                req.model,
                p.instance.gpu,
                self.fmt,
                p.layout,
                self.engine,
                settings,
                speed,
                req.workload,
                self.spec_step,
                factor,
            )
        fit_key = key + targets_key
        if fit_key not in self._fits:
            model = self._models[key]
            self._fits[fit_key] = model if isinstance(model, ReplicaMiss) else fit_targets(*model, targets)
        return self._fits[fit_key]


Unsized = Rejection | tuple[Placement, WeightFormat]
"""A candidate before sizing: refused outright, or a placement to size in a weight format."""


class PlanScope:
    """What the searches of one plan() share: each model and deployment's candidates before sizing (the instance
    types, formats and layouts refused outright, and the placements to size). The FP8-KV alternative's deployment
    differs from the plan's in its KV cache only, which no refusal and no placement reads, so the two share them; the
    frontier's four searches share theirs."""

    def __init__(self) -> None:
        self._known: list[tuple[ModelSpec, Deployment, tuple[Unsized, ...]]] = []

    def unsized(self, req: PlanRequest, formats: tuple[WeightFormat, ...]) -> tuple[Unsized, ...]:
        """The request's candidates before sizing, built once per model and deployment (KV cache aside)."""
        m, d = req.model, req.deployment
        for model, deployment, found in self._known:
            if model is m and _same_but_kv_cache(deployment, d):
                return found
        found = unsized(req, formats)
        self._known.append((m, d, found))
        return found


def _same_but_kv_cache(a: Deployment, b: Deployment) -> bool:
    return a is b or a.model_copy(update={"kv_dtype": b.kv_dtype}) == b


def search(
    req: PlanRequest, memos: dict[str, FitMemo], best_only: bool = False, scope: PlanScope | None = None
) -> tuple[list[Priced], list[Rejection], dict[str, Checkpoint]]:
    """Every placement of every allowed instance type in every weight format tried: the feasible ones priced and
    ranked, the rejected ones, and each format's checkpoint. `memos` (one per format) is filled here and may be reused
    by a request with the same model, traffic shape and deployment settings (the frontier). `best_only`: the caller
    reads the first ranked candidate only (or, with none feasible, the rejections), so placements that cannot rank
    first are skipped unsized (sizing/planner/bound.py) and only the first is ranked. `scope`: the plan's searches
    share their candidates before sizing (PlanScope)."""
    engine = get_engine(req.deployment.engine)
    formats = requested_formats(req.model, req.deployment.weights)
    for fmt in formats:
        if fmt.name not in memos:  # (made only when missing: the frontier's searches reuse the plan's)
            memos[fmt.name] = FitMemo(req, engine, fmt)
    checkpoints = {fmt.name: checkpoint_for(req.model, fmt) for fmt in formats}
    outcomes: list[Priced | Rejection | Unsized | None] = list(
        scope.unsized(req, formats) if scope is not None else unsized(req, formats)
    )
    _size(req, outcomes, memos, checkpoints, cheapest_bound(req, best_only))
    feasible = [x for x in outcomes if isinstance(x, Priced)]
    rejected = [x for x in outcomes if isinstance(x, Rejection)]
    return ([best(req, feasible)] if best_only and feasible else order(req, feasible)), rejected, checkpoints


def unsized(req: PlanRequest, formats: tuple[WeightFormat, ...]) -> tuple[Unsized, ...]:
    """Every candidate in the search's order (which the ranking's ties keep): the instance types, formats and layouts
    refused outright, and the placements to size. The workload and the KV cache are not read."""
    d = req.deployment
    out: list[Unsized] = []
    for instance in allowed_instances(req):
        refusal = instance_rejection(instance, d) or offering_rejection(instance, d)
        if refusal:
            out.append(refusal)
            continue
        for fmt in formats_to_try(req.model, formats, instance, d.max_nodes_per_replica):
            refusal = format_rejection(instance, fmt, req.model)
            if refusal:
                out.append(refusal)
                continue
            found, refused = placements(req.model, instance, d.max_nodes_per_replica, fmt)
            out += [reject(r.instance, r.layout, "layout", r.reason, weights=fmt.name) for r in refused]
            out += [(p, fmt) for p in found]
    return tuple(out)


def _size(
    req: PlanRequest,
    outcomes: list[Priced | Rejection | Unsized | None],
    memos: dict[str, FitMemo],
    checkpoints: dict[str, Checkpoint],
    bound: CheapestBound | None,
) -> None:
    """Size and price each placement in place: in the search's order, or with a `bound` cheapest cost floor first,
    until the floor passes the bound (the rest are left None: they cannot rank first)."""
    todo = [(i, x) for i, x in enumerate(outcomes) if isinstance(x, tuple)]
    floors = [bound.floor_usd_per_hour(x[0]) for _, x in todo] if bound is not None else []
    sequence = sorted(range(len(todo)), key=floors.__getitem__) if bound is not None else range(len(todo))
    cold: dict[tuple[str, str], float] = {}  # _cold_start_s
    for n, k in enumerate(sequence):  # sorted() is stable: equal floors keep the search's order
        i, (p, fmt) = todo[k]
        if bound is not None and bound.past(floors[k]):
            for rest in sequence[n:]:
                outcomes[todo[rest][0]] = None
            return
        out = _outcome(
            req, p, memos[fmt.name], partial(_cold_start_s, req, p.instance, fmt, checkpoints[fmt.name], cold)
        )
        outcomes[i] = out
        if bound is not None and isinstance(out, Priced):
            bound.offer(out)


def _cold_start_s(
    req: PlanRequest, instance: InstanceType, fmt: WeightFormat, checkpoint: Checkpoint, known: dict
) -> float:
    """The node's cold start in seconds, computed once per instance type and format (`known`) and only for a replica
    that fits."""
    key = (instance.name, fmt.name)
    if key not in known:
        known[key] = node_cold_start_s(req, instance, checkpoint)
    return known[key]


def _outcome(req: PlanRequest, p: Placement, memo: FitMemo, cold_s: Callable[[], float]) -> Priced | Rejection:
    """One placement sized and priced, or why it is rejected. `cold_s`: the node's cold start, seconds (asked only of
    a replica that fits)."""
    fmt = memo.fmt
    no_pp = speculative.pipeline_refusal(memo.spec, p.layout)
    if no_pp:
        return reject(p.instance, p.layout, "layout", no_pp, weights=fmt.name)
    fit = memo.fit(p, req.workload)
    if isinstance(fit, ReplicaMiss):
        return memo.rejection(p, fit)
    cold = cold_s()
    late = deadline_miss(req.workload, cold)
    if late:
        return reject(p.instance, p.layout, "deadline", late, weights=fmt.name)
    priced = price(req, p, fit, cold, fmt)
    return fleet_size_rejection(priced) or priced
