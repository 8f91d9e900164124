"""Fitting the speed model's efficiencies to measured load points, within physical bounds.

Each point is predicted by the steady-state load model (sizing/speed/load.py) under the arrival process its file
records (burst: closed-loop clients started together; poisson: open loop), with the engine's limits from the memory
model. Four values are fitted (FittedValues): decode bandwidth efficiency, decode and prefill compute efficiency, and
the host overhead per step, by minimising the squared log errors of throughput, ITL and TTFT (TTFT weighted less: it
holds the queueing the load model approximates), plus a weak pull towards the uncalibrated model for that engine
(its efficiencies with the engine's step_time_factor folded in), which keeps a value the points cannot see (decode
compute at batch 1, prefill without prompts) where the first-principles model puts it.

The search runs in log space without bounds; a fit whose best values lie outside the physical bounds (an efficiency
above 1: faster than the hardware's peak; a host overhead longer than the fastest measured step) is refused, because
then the model, not a constant, is wrong for this case.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property

from sizing.calibration.kinds import safe_name
from sizing.calibration.results import MeasuredPoint
from sizing.calibration.store import (
    Calibration,
    FittedValues,
    PointResidual,
    SourceFile,
)
from sizing.catalog.assumptions import Assumptions
from sizing.catalog.engines import EngineProfile
from sizing.errors import CalibrationRefused, InvalidInputError
from sizing.memory.budget import EngineSettings, memory_breakdown
from sizing.planner.replica import memory_batch_limit
from sizing.speed.load import EngineLimits, LoadPoint, ReplicaLoad, RequestShape
from sizing.speed.model import ReplicaSpeed
from sizing.units import MS_PER_S

FITTED = ("decode_bw_efficiency", "decode_compute_efficiency", "prefill_compute_efficiency", "decode_step_overhead_ms")
"""The assumptions a calibration fits, in the order of the search vector."""
EFFICIENCY_CEILING = 1.0
"""An efficiency is a share of the hardware's peak (gpus.csv: datasheet bandwidth and dense FLOP/s): above 1 is faster
than the hardware can go."""
OVERHEAD_FLOOR_MS = 0.01
"""Offset of the overhead's log scale, milliseconds (10 us: below any engine's step overhead), so 0 stays reachable."""
TTFT_WEIGHT = 0.25
"""Weight of a TTFT error against a throughput or ITL error (TTFT holds queueing the load model approximates)."""
PRIOR_WEIGHT = 0.01
"""Weight of the pull towards the uncalibrated model per fitted value (log scale): a 10x move costs what a 15% error
on one point does, so the points decide whatever they can see."""
MISSED_POINT_LOG_ERROR = 2.0
"""Log error charged to each metric of a point the model cannot reach (an open-loop rate above what it sustains)."""
SEARCH_STEPS = 600
"""Nelder-Mead iterations (four values converge in 150-300)."""
SEARCH_TOLERANCE = 1e-7
"""Stop when the simplex's losses differ by less than this."""
BOUNDED_MEDIAN_ERROR = 0.10
"""When the best fit lies past a bound, the search is repeated with every value held within its bounds; that fit is
kept if the median |error| of its points' throughput and ITL is at most this (the points did not need the out-of-bound
value, it only shaved the residual), and refused otherwise."""
MIN_POINTS = 2
"""A fit needs at least two load points (four values, three metrics each, and the prior)."""


@dataclass(frozen=True)
class Replica:
    """What was benchmarked: a replica's speed model (model, GPU, format, layout, KV, link, uncalibrated assumptions)
    and the engine that served it."""

    speed: ReplicaSpeed
    """The replica under the uncalibrated assumptions; a calibration replaces them (`with_assumptions`)."""
    profile: EngineProfile
    """The memory profile that sets the engine's limits (token budget, max_num_seqs)."""
    step_time_factor: float
    """The engine's speed bias (engines.toml), folded into the uncalibrated starting point."""
    max_num_batched_tokens: int | None = None
    """The token budget the engine ran with, when it differs from the profile's default."""

    @property
    def base(self) -> Assumptions:
        """The uncalibrated assumptions."""
        return self.speed.assumptions

    def with_assumptions(self, assumptions: Assumptions) -> ReplicaSpeed:
        """The same replica's speed model under other assumptions."""
        return replace(self.speed, assumptions=assumptions)

    def limits(self, shape: RequestShape, factor: float) -> EngineLimits:
        """The engine's limits at one request shape (KV cache and max_num_seqs, token budget)."""
        tokens = shape.input_tokens + shape.output_tokens
        s = self.speed
        settings = EngineSettings(
            max_model_len=tokens,
            kv_element_bytes=s.kv_element_bytes,
            max_num_batched_tokens=self.max_num_batched_tokens,
        )
        mem = memory_breakdown(s.model, s.gpu, s.fmt, s.layout, self.profile, settings)
        if not mem.fits:
            raise InvalidInputError(
                f"{s.model.name} in {s.fmt.name} does not start on {s.gpu.name} with "
                f"{s.layout.label} at {tokens} tokens per request (short by "
                f"{mem.shortfall_gib:.1f} "
                "GiB per GPU). To fix: give the --gpu, --tp and --weights the benchmark ran with."
            )
        running = max(1, memory_batch_limit(s.model, mem, s.kv_element_bytes, s.layout, self.profile, tokens))
        return EngineLimits(mem.max_num_batched_tokens, running, factor)

    def load(self, assumptions: Assumptions, shape: RequestShape, factor: float) -> ReplicaLoad:
        """The steady-state model of this replica under `assumptions`."""
        return ReplicaLoad(self.with_assumptions(assumptions), shape, self.limits(shape, factor))

    @cached_property
    def prior(self) -> Assumptions:
        """The uncalibrated model for this engine with its step_time_factor folded into the fitted values."""
        f, a = self.step_time_factor, self.base
        bw = a.decode_bw_efficiency or self.speed.gpu.decode_bw_efficiency
        return a.model_copy(
            update={
                "decode_bw_efficiency": min(bw / f, EFFICIENCY_CEILING),
                "decode_compute_efficiency": min(a.decode_compute_efficiency / f, EFFICIENCY_CEILING),
                "prefill_compute_efficiency": min(a.prefill_compute_efficiency / f, EFFICIENCY_CEILING),
                "decode_step_overhead_ms": a.decode_step_overhead_ms * f,
            }
        )


def shape_of(point: MeasuredPoint) -> RequestShape:
    """The point's mean request, in whole tokens."""
    return RequestShape(max(1, round(point.input_tokens)), max(1, round(point.output_tokens)))


def predict(load: ReplicaLoad, point: MeasuredPoint) -> LoadPoint | None:
    """The load model at the point's load, under the arrival process it records (None: a rate above what it
    sustains)."""
    if point.concurrency is not None:
        return load.burst_loop(point.concurrency) if point.arrivals == "burst" else load.closed_loop(point.concurrency)
    assert point.request_rate is not None
    return load.open_loop(point.request_rate)


def errors(predicted: LoadPoint | None, point: MeasuredPoint) -> tuple[float, float, float] | None:
    """(throughput, ITL, TTFT) as predicted / measured - 1; None when the model cannot reach the point."""
    if predicted is None:
        return None
    return (
        predicted.output_tokens_per_s / point.output_tokens_per_s - 1,
        predicted.tpot_s * MS_PER_S / point.itl_ms - 1,
        predicted.ttft_s * MS_PER_S / point.ttft_ms - 1,
    )


def _values(x: Sequence[float], prior: Assumptions, ceiling_ms: float | None = None) -> dict[str, float]:
    """Search vector (log ratios to the prior) -> fitted values; with `ceiling_ms`, held within the physical bounds
    (efficiencies at most EFFICIENCY_CEILING, the overhead at most ceiling_ms)."""
    out = {}
    for name, step in zip(FITTED, x, strict=True):
        start = float(getattr(prior, name))
        if name == "decode_step_overhead_ms":
            value = max((start + OVERHEAD_FLOOR_MS) * math.exp(min(step, 50.0)) - OVERHEAD_FLOOR_MS, 0.0)
            out[name] = min(value, ceiling_ms) if ceiling_ms is not None else value
        else:
            value = start * math.exp(min(step, 50.0))
            out[name] = min(value, EFFICIENCY_CEILING) if ceiling_ms is not None else value
    return out


def _loss(
    replica: Replica, points: Sequence[MeasuredPoint], ceiling_ms: float | None = None
) -> Callable[[Sequence[float]], float]:
    shapes = [shape_of(p) for p in points]
    limits = {s: replica.limits(s, 1.0) for s in set(shapes)}

    def loss(x: Sequence[float]) -> float:
        values = _values(x, replica.prior, ceiling_ms)
        unbounded = replica.prior.model_construct(
            **{**replica.prior.model_dump(), **values}
        )  # the search may go past 1
        total = PRIOR_WEIGHT * sum(v * v for v in x)
        speed_memo: dict[RequestShape, ReplicaLoad] = {}
        for point, shape in zip(points, shapes, strict=True):
            if shape not in speed_memo:
                speed_memo[shape] = ReplicaLoad(replica.with_assumptions(unbounded), shape, limits[shape])
            errs = errors(predict(speed_memo[shape], point), point)
            if errs is None:
                total += 3 * MISSED_POINT_LOG_ERROR**2
                continue
            tok, itl, ttft = (math.log1p(max(e, -0.999)) for e in errs)
            total += tok * tok + itl * itl + TTFT_WEIGHT * ttft * ttft
        return total

    return loss


def nelder_mead(f: Callable[[Sequence[float]], float], start: Sequence[float], step: float = 0.5) -> list[float]:
    """Minimise f from `start` with the Nelder-Mead simplex (standard coefficients: reflection 1, expansion 2,
    contraction 1/2, shrink 1/2)."""
    n = len(start)
    simplex = [list(start)] + [[s + (step if i == j else 0.0) for j, s in enumerate(start)] for i in range(n)]
    scores = [f(v) for v in simplex]
    for _ in range(SEARCH_STEPS):
        order = sorted(range(n + 1), key=scores.__getitem__)
        simplex, scores = [simplex[i] for i in order], [scores[i] for i in order]
        if scores[-1] - scores[0] < SEARCH_TOLERANCE:
            break
        centre = [sum(v[j] for v in simplex[:-1]) / n for j in range(n)]
        worst = simplex[-1]
        reflected = [c + (c - w) for c, w in zip(centre, worst, strict=True)]
        r = f(reflected)
        if r < scores[0]:
            expanded = [c + 2 * (c - w) for c, w in zip(centre, worst, strict=True)]
            e = f(expanded)
            simplex[-1], scores[-1] = (expanded, e) if e < r else (reflected, r)
        elif r < scores[-2]:
            simplex[-1], scores[-1] = reflected, r
        else:
            contracted = [c + 0.5 * (w - c) for c, w in zip(centre, worst, strict=True)]
            k = f(contracted)
            if k < scores[-1]:
                simplex[-1], scores[-1] = contracted, k
            else:
                best = simplex[0]
                simplex = [best] + [[b + 0.5 * (v - b) for b, v in zip(best, vec, strict=True)] for vec in simplex[1:]]
                scores = [scores[0]] + [f(v) for v in simplex[1:]]
    return simplex[min(range(n + 1), key=scores.__getitem__)]


def out_of_bounds(values: dict[str, float], points: Sequence[MeasuredPoint]) -> list[str]:
    """The fitted values outside physical bounds, in words."""
    problems = [
        f"{name} = {values[name]:.3g} (above {EFFICIENCY_CEILING:g}: faster than the hardware's peak)"
        for name in FITTED[:3]
        if values[name] > EFFICIENCY_CEILING
    ]
    fastest = min(p.itl_ms for p in points)
    if values["decode_step_overhead_ms"] > fastest:
        problems.append(
            f"decode_step_overhead_ms = {values['decode_step_overhead_ms']:.3g} (longer than the fastest "
            f"measured step, {fastest:.3g} ms)"
        )
    return problems


def fit(replica: Replica, points: Sequence[MeasuredPoint]) -> FittedValues:
    """The efficiencies that best reproduce `points`, or CalibrationRefused naming the out-of-bound values."""
    if len(points) < MIN_POINTS:
        raise InvalidInputError(
            f"{len(points)} load point given; a calibration needs at least {MIN_POINTS}. To fix: "
            "benchmark at two or more concurrencies or rates, e.g. --max-concurrency 1, 4 and 16."
        )
    best = nelder_mead(_loss(replica, points), [0.0] * len(FITTED))
    values = _values(best, replica.prior)
    problems = out_of_bounds(values, points)
    if problems:
        ceiling = min(p.itl_ms for p in points)
        bounded = _values(nelder_mead(_loss(replica, points, ceiling), [0.0] * len(FITTED)), replica.prior, ceiling)
        spread = _median_error(replica, FittedValues(**bounded), points)
        if spread <= BOUNDED_MEDIAN_ERROR:
            return FittedValues(**bounded)
        problems.append(f"held within the bounds the fit leaves a median error of {100 * spread:.0f}%")
    if problems:
        raise CalibrationRefused(
            f"The best fit to these {len(points)} points needs values outside physical bounds: {'; '.join(problems)}.",
            "the model does not describe this (GPU, model, format, engine): a constant cannot fix it",
            "check that --gpu, --tp, --weights and --model are what the benchmark ran, and that the result files are "
            "of one deployment; otherwise plan without a calibration and report the files with the project.",
        )
    return FittedValues(**values)


def _median_error(replica: Replica, fitted: FittedValues, points: Sequence[MeasuredPoint]) -> float:
    """Median |predicted / measured - 1| of the points' throughput and ITL under `fitted`."""
    rows = residuals(replica, fitted, points)
    return statistics.median(abs(e) for r in rows for e in (r.output_tokens_per_s_error, r.itl_error))


def residuals(replica: Replica, fitted: FittedValues, points: Sequence[MeasuredPoint]) -> list[PointResidual]:
    """Every point against the calibrated model."""
    assumptions = replica.base.model_copy(update=fitted.model_dump())
    out = []
    for p in points:
        shape = shape_of(p)
        errs = errors(predict(replica.load(assumptions, shape, 1.0), p), p) or (math.inf,) * 3
        out.append(
            PointResidual(
                file=p.source,
                index=p.index,
                arrivals=p.arrivals,
                load=p.concurrency if p.concurrency is not None else p.request_rate or 0.0,
                input_tokens=shape.input_tokens,
                output_tokens=shape.output_tokens,
                output_tokens_per_s_error=min(errs[0], 1e6),
                itl_error=min(errs[1], 1e6),
                ttft_error=min(errs[2], 1e6),
            )
        )
    return out


def calibrate(
    replica: Replica, points: Sequence[MeasuredPoint], engine: str, engine_version: str, created: str
) -> Calibration:
    """The calibration of `replica` from `points`: fitted values, every point's residual and the files' digests."""
    fitted = fit(replica, points)
    rows = residuals(replica, fitted, points)
    spread = [abs(e) for r in rows for e in (r.output_tokens_per_s_error, r.itl_error)]
    files: dict[str, SourceFile] = {}
    for p in points:
        key = p.sha256
        seen = files.get(key)
        files[key] = SourceFile(file=p.source, sha256=p.sha256, tool=p.tool, points=(seen.points + 1) if seen else 1)
    s = replica.speed
    return Calibration(
        format_version=1,
        created=created,
        gpu=s.gpu.name,
        model=safe_name(s.model.name),
        weights=s.fmt.name,
        engine=engine,
        engine_version=engine_version,
        tensor_parallel=s.layout.tp,
        fitted=fitted,
        median_abs_error=statistics.median(spread),
        max_abs_error=max(spread),
        sources=tuple(files.values()),
        points=tuple(rows),
    )
