"""Steady state of one replica under load: continuous batching with chunked prefill, solved in closed form.

Every engine step decodes the running sequences and prefills prompt chunks, up to `max_num_batched_tokens` tokens in
all (vLLM V1 and TensorRT-LLM in-flight batching both work this way). At a request rate lam with a mean step time T,
Little's law puts d = lam * O * T sequences in the decode phase and p = lam * P * T prompt tokens in each step
(P: prompt tokens not served from the prefix cache, O: output tokens; the step that finishes a prompt also yields its
first token, so a request holds a decode slot for O steps). Taken with d as the unknown the fixed point between
concurrency, rate and step time is explicit:

    p = d * P / O,    T = step(d decodes, p prefill tokens),    lam = d / (O * T),    output tokens/s = d / T

and every quantity grows monotonically with d, so a closed loop (N clients) or an open loop (rate R) is one root-find
on d (a few regula falsi steps), and a latency target is another. No simulation.

Latency:
- TPOT (mean) is the mean step time T. Its p95 is the p95 of one request's mean inter-token time: the prompts whose
  chunks land in the O steps of a request are a Poisson count with mean d, each adding its prefill time, so the
  request's mean ITL is normal with sd sqrt(d) * prefill_time_of_one_prompt / O (central limit).
- TTFT (mean) = wait for a sequence slot (only when KV capacity or max_num_seqs is full) + the prompt's own prefill
  (ceil(P / free budget) steps carrying its chunks next to the running decodes) stretched by the other prompts
  prefilled at the same time. Chunked prefill shares the step's compute among all waiting prompts, so the stretch is
  the M/G/1 processor-sharing one, 1 / (1 - rho), with rho the busier of the prefill share of step time and the share
  of the free token budget the prompts use (the budget is a hard cap: at rho = 1 prompts queue without bound).
- TTFT p95: the delay beyond the own prefill is taken as exponential (the heavy-traffic M/G/1 tail), so its p95 is
  ln(20) = 3.0 times its mean; the slot wait of a saturated closed loop is FCFS over a full engine and counted the same.
The same formulas serve both loops: with N clients the arrivals are not Poisson, so the waiting terms are an upper
estimate at low N.

Burst arrivals (`burst_loop`): benchmark clients with identical lengths that start together (GenAI-Perf and AIPerf
concurrency mode, `vllm bench serve --max-concurrency C` at an infinite rate) do not arrive at random. The first wave of
N prompts is prefilled in g = ceil(N x P / budget) groups, and each group keeps its phase: its next prompts arrive
together when its requests end. Per group period of L = max(c + O - 1, g x c) steps (c: steps one group's prompts
take), g x c steps carry one group's prompts next to the others' decodes and the rest decode all N. So the prompts land
in TTFT (the group's own prefill steps) and ITL holds only the other groups' prefills, g - 1 per O - 1 tokens. With
g = 1 ITL is the pure decode step: the Poisson model's prefill stretch of ITL is absent, as measured
(tests/sizing/test_load_calibration.py). Engines that run each prompt as a whole context step, driven by benchmark
clients with identical request lengths, see prompts arrive in waves and wait for the whole wave; this model does not
reproduce that (NIM 1.8, with chunked context, matches it: tests/sizing/test_load_calibration.py).

Saturation: the running batch is capped by the KV cache / max_num_seqs (`max_running`) and by the token budget
(d + p <= max_num_batched_tokens). In a closed loop past the slot cap, the extra clients wait for a slot: throughput
stays at the cap and TTFT grows by (N - N_cap) / lam_cap. An open loop past the cap has no steady state.

Engine bias: the step times come from sizing/speed/model.py, whose efficiencies are checked against TensorRT-LLM
figures; `step_time_factor` (engines.toml, one per engine) scales every step for the engine actually served.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from sizing.speed.model import ReplicaSpeed

P95_Z = 1.645
"""Standard normal quantile of 0.95 (TPOT p95 of a request's mean over many steps)."""
P95_EXP = math.log(20)
"""p95 / mean of an exponential distribution (TTFT waiting-time tail)."""
BISECTION_STEPS = 12
"""Root-finding resolution: 2^-12 of the decode-batch interval (a quarter of a request at 1,024 slots); the result is
kept on the side that meets the condition."""
ROOT_TOLERANCE = 1e-3
"""A root is close enough once the feasible end is within 0.1% of the target."""
MAX_ROOT_STEPS = 40
"""Safety cap on root-finding steps (Illinois converges in well under ten on these smooth curves)."""
BUDGET_HEADROOM = 0.999
"""The token-budget cap is approached, not reached (at the cap the prompt queue is unbounded)."""
CONCURRENCY, RATE, TOKENS, TPOT, TPOT_P95, TTFT, TTFT_P95, PREFILL_SHARE, TIME_IN_SYSTEM = range(9)
"""Positions in ReplicaLoad._eval's tuple."""
SATURATION_THROUGHPUT_SHARE = 0.9
"""Saturation point: the concurrency at which throughput reaches this share of the replica's maximum."""


@dataclass(frozen=True)
class RequestShape:
    """One typical request."""

    input_tokens: int
    """Prompt tokens."""
    output_tokens: int
    """Generated tokens."""
    prefix_hit_rate: float = 0.0
    """Share of prompt tokens found in the prefix cache (0..1); they cost no prefill."""

    @property
    def prefill_tokens(self) -> int:
        """Prompt tokens that must be computed (at least one: the last token's logits)."""
        return max(1, round(self.input_tokens * (1.0 - self.prefix_hit_rate)))

    @property
    def context_tokens(self) -> int:
        """Mean cache length a decode step reads: the whole prompt plus half the output."""
        return self.input_tokens + self.output_tokens // 2


@dataclass(frozen=True)
class SpecDecode:
    """Speculative decoding (vLLM --speculative-config): each step a draft proposes `draft_tokens` per sequence, one
    target pass verifies them all, and a sequence gains `tokens_per_step` tokens on average (accepted drafts plus the
    target's own). The step costs the target pass over 1 + draft_tokens tokens per sequence (ReplicaSpeed.verify_step_s:
    the weights and experts those tokens touch, their matmuls, each sequence's cache read once) and draft_tokens
    sequential draft passes, each one decoder layer of the target's shape (`draft_layers`) plus the host overhead."""

    draft_tokens: int
    """Draft tokens proposed per sequence per step (vLLM num_speculative_tokens)."""
    tokens_per_step: float
    """Mean tokens a sequence gains per step (the mean acceptance length, an assumption)."""
    draft_layers: int = 1
    """Decoder layers of the target's shape one draft pass runs."""


@dataclass(frozen=True)
class EngineLimits:
    """The engine settings that bound a step and the running batch."""

    max_num_batched_tokens: int
    """Token budget of one step (decodes plus prefill chunks)."""
    max_running: int
    """Sequences the KV cache and max_num_seqs admit at once."""
    step_time_factor: float = 1.0
    """Engine bias: the served engine's step time over the model's (engines.toml)."""
    spec: SpecDecode | None = None
    """Speculative decoding, if the replica runs a draft."""


@dataclass(frozen=True)
class LoadPoint:
    """Steady state of one replica at one load."""

    concurrency: float
    """Requests in the replica (queued, prefilling or decoding)."""
    requests_per_s: float
    """Completed requests per second."""
    output_tokens_per_s: float
    """Generated tokens per second."""
    tpot_s: float
    """Mean inter-token time (mean step time)."""
    tpot_p95_s: float
    """p95 over requests of their mean inter-token time."""
    ttft_s: float
    """Mean time to first token."""
    ttft_p95_s: float
    """p95 time to first token."""
    running_batch: float
    """Mean sequences decoding per step."""
    prefill_share: float
    """Share of step time spent on prompt tokens."""
    saturated: bool
    """Requests wait for KV or sequence slots, or the token budget is full."""

    @property
    def time_in_system_s(self) -> float:
        """Mean time a request spends in the replica, arrival to last token (Little's law: concurrency / rate)."""
        return self.concurrency / self.requests_per_s if self.requests_per_s else math.inf


def _excess_over(limits: list[tuple[int, float]]) -> Callable[[tuple[float, ...]], float]:
    """Relative excess of an _eval tuple over the tightest of the (position, target) limits (-1: no limit)."""
    if not limits:
        return lambda x: -1.0
    if len(limits) == 1:
        ((i, t),) = limits
        return lambda x: x[i] / t - 1
    return lambda x: max(x[i] / t for i, t in limits) - 1


class ReplicaLoad:
    """The steady-state model of one replica for one request shape (memoize one per placement)."""

    def __init__(self, speed: ReplicaSpeed, shape: RequestShape, limits: EngineLimits) -> None:
        self.speed, self.shape, self.limits = speed, shape, limits
        o, p = shape.output_tokens, shape.prefill_tokens
        spec = limits.spec
        self._gain = spec.tokens_per_step if spec else 1.0  # tokens a sequence gains per step
        self._step_tokens = 1 + (spec.draft_tokens if spec else 0)  # budget tokens a decoding sequence takes per step
        by_budget = BUDGET_HEADROOM * limits.max_num_batched_tokens / (self._step_tokens + self._gain * p / o)
        self.slot_bound = limits.max_running <= by_budget
        self.max_decodes = float(min(limits.max_running, by_budget))
        """Largest steady decode batch: KV / max_num_seqs slots, or the token budget shared with the prompts."""
        self._memo: dict[float, tuple[float, ...]] = {}
        self._loops: dict[tuple[str, float], LoadPoint] = {}  # closed_loop and open_loop points already solved
        self._token_s = speed.prefill_token_s(shape.input_tokens) * limits.step_time_factor
        self._prefill_tokens = p
        self._affine = self._affine_decode()

    def _affine_decode(self) -> tuple[float, float, float] | None:
        """(from_d, intercept, slope) when the decode step is affine in the batch over [from_d, max_decodes], else
        None. It is for dense models without data-parallel ranks: every term of ReplicaSpeed._step_parts is then a
        constant or proportional to the batch (with PP from d = pp on, where the pipeline is full), so two points
        give the line (tests/sizing/test_speed.py checks it). Only a shortcut: the values are the model's own."""
        pp = self.speed.layout.pp
        ctx, top, start = self.shape.context_tokens, self.max_decodes, float(pp if pp > 1 else 0)
        if top <= start + 1 or self.speed.model.moe is not None or self.speed.layout.dp > 1:
            return None  # MoE (touched experts) and data-parallel ranks (whole sequences per rank) are not affine
        y0, y_top = self.speed.step_s(start, ctx), self.speed.step_s(top, ctx)
        slope = (y_top - y0) / (top - start)
        return start, y0 - slope * start, slope

    def _decode_s(self, decodes: float) -> float:
        f = self.limits.step_time_factor
        if self._affine is not None and decodes >= self._affine[0]:
            base = (self._affine[1] + self._affine[2] * decodes) * f
        else:
            base = self.speed.step_s(decodes, self.shape.context_tokens) * f
        spec = self.limits.spec
        if spec is None:
            return base
        overhead = self.speed.host_overhead_s * f
        layer = max(base - overhead, 0.0) / self.speed.model.num_layers  # one decoder layer of the target at this batch
        verify = self.speed.verify_step_s(decodes, self.shape.context_tokens, self._step_tokens) * f
        return verify + spec.draft_tokens * (spec.draft_layers * layer + overhead)

    def decode_step_s(self, decodes: float) -> float:
        """Step time of `decodes` running sequences without prompt tokens (engine factor applied)."""
        return self._decode_s(decodes)

    @property
    def prefill_token_time_s(self) -> float:
        """Step time one prompt token adds (engine factor applied)."""
        return self._token_s

    def _eval(self, d: float) -> tuple[float, ...]:
        """(concurrency, requests/s, output tokens/s, TPOT, TPOT p95, TTFT, TTFT p95, prefill share, time in the system)
        at `d` decodes; the time a request spends in the replica is concurrency / rate = TTFT + O x TPOT."""
        hit = self._memo.get(d)
        if hit is not None:
            return hit
        o, p, g = self.shape.output_tokens, self._prefill_tokens, self._gain
        decode = self._decode_s(d)  # the step of speed.mixed_step_s x factor, its prefill term added below
        prefill_part = self._token_s * d * g * p / o
        step = decode + prefill_part
        rate = d * g / (o * step)
        free = max(self.limits.max_num_batched_tokens - d * self._step_tokens, 1.0)
        chunks = math.ceil(p / free)
        own = chunks * decode + self._token_s * p
        rho = min(max(prefill_part / step, d * g * p / o / free), BUDGET_HEADROOM)
        ttft = own / (1 - rho)
        one_prompt_s = self._token_s * p  # the step time one prompt's tokens add, spread over its chunks
        out = (
            rate * ttft + d,
            rate,
            d * g / step,
            step / g,
            step / g + P95_Z * math.sqrt(d) * one_prompt_s / o,
            ttft,
            own + P95_EXP * (ttft - own),
            prefill_part / step,
            ttft + o * step / g,
        )
        self._memo[d] = out
        return out

    def at_decodes(self, d: float) -> LoadPoint:
        """Steady state with `d` sequences decoding (0 < d <= max_decodes), no slot queue."""
        n, rate, tokens, tpot, tpot95, ttft, ttft95, share, _ = self._eval(d)
        return LoadPoint(
            concurrency=n,
            requests_per_s=rate,
            output_tokens_per_s=tokens,
            tpot_s=tpot,
            tpot_p95_s=tpot95,
            ttft_s=ttft,
            ttft_p95_s=ttft95,
            running_batch=d,
            prefill_share=share,
            saturated=not self.slot_bound and d >= self.max_decodes,
        )

    def _largest_d(self, excess: Callable[[tuple[float, ...]], float], hi: float | None = None) -> float:
        """Largest d in (0, hi] (default max_decodes) whose relative excess over a target, excess(_eval(d)), is at
        most 0; excess grows with d. 0 when even the smallest d exceeds. Illinois regula falsi on the bracket (the
        excesses are smooth, so it needs a handful of steps where bisection needs a dozen); the answer is the bracket's
        feasible end, within ROOT_TOLERANCE of the target or 2^-BISECTION_STEPS of hi."""
        hi = self.max_decodes if hi is None else hi
        e_hi = excess(self._eval(hi))
        if e_hi <= 0:
            return hi
        lo = self.smallest_d()
        e_lo = excess(self._eval(lo))
        if e_lo > 0:
            return 0.0
        width, side = hi / 2**BISECTION_STEPS, 0
        for _ in range(MAX_ROOT_STEPS):
            if hi - lo <= width or e_lo >= -ROOT_TOLERANCE:
                break
            mid = min(max((lo * e_hi - hi * e_lo) / (e_hi - e_lo), lo + width / 2), hi - width / 2)
            e_mid = excess(self._eval(mid))
            if e_mid <= 0:
                lo, e_lo = mid, e_mid
                e_hi, side = (e_hi / 2 if side == -1 else e_hi), -1
            else:
                hi, e_hi = mid, e_mid
                e_lo, side = (e_lo / 2 if side == 1 else e_lo), 1
        return lo

    def _tpot_bound(self, tpot_s: float) -> float:
        """Largest d whose mean TPOT is within `tpot_s`, solved exactly when the decode step is affine (TPOT is then
        affine in d too); max_decodes otherwise (the bisection finds it)."""
        if self._affine is None or self.limits.spec is not None:
            return self.max_decodes
        start, c0, c1 = self._affine
        f, k = self.limits.step_time_factor, self._token_s * self._prefill_tokens / self.shape.output_tokens
        d = (tpot_s - f * c0) / (f * c1 + k)
        return min(self.max_decodes, d) if d >= start else self.max_decodes

    def peak(self) -> LoadPoint:
        """The replica at its largest steady decode batch."""
        return self.at_decodes(self.max_decodes)

    def closed_loop(self, clients: float) -> LoadPoint:
        """N clients, each sending its next request when the previous one completes."""
        found = self._loops.get(("closed", clients))
        if found is None:
            found = self._loops[("closed", clients)] = self._closed_loop(clients)
        return found

    def _closed_loop(self, clients: float) -> LoadPoint:
        top = self.peak()
        if clients <= top.concurrency:
            d = self._largest_d(lambda x: x[CONCURRENCY] / clients - 1)
            return self.at_decodes(d) if d > 0 else self.at_decodes(self.smallest_d())
        wait = (clients - top.concurrency) / top.requests_per_s
        return LoadPoint(
            concurrency=clients,
            requests_per_s=top.requests_per_s,
            output_tokens_per_s=top.output_tokens_per_s,
            tpot_s=top.tpot_s,
            tpot_p95_s=top.tpot_p95_s,
            ttft_s=top.ttft_s + wait,
            ttft_p95_s=top.ttft_p95_s + wait,
            running_batch=top.running_batch,
            prefill_share=top.prefill_share,
            saturated=True,
        )

    def burst_loop(self, clients: float) -> LoadPoint:
        """N closed-loop clients with identical lengths that start together (see the module docstring): every time is
        deterministic, so the p95s equal the means, except the wait for a slot past the KV / max_num_seqs cap."""
        budget, p, o = float(self.limits.max_num_batched_tokens), self._prefill_tokens, self.shape.output_tokens
        running = min(clients, float(self.limits.max_running))
        groups = max(1, math.ceil(running * p / budget))
        per_group = running / groups
        others = running - per_group if groups > 1 else 0.0
        chunks = max(1, math.ceil(per_group * p / max(budget - others, 1.0)))
        period = max(chunks + o - 1, groups * chunks)
        prefill_step = self._decode_s(others) + per_group * p / chunks * self._token_s
        decode_step = self._decode_s(running)
        cycle = groups * chunks * prefill_step + (period - groups * chunks) * decode_step
        behind = (period - (chunks + o - 1)) * cycle / period  # prefill-bound: a group waits for the others' prompts
        own = chunks * prefill_step + behind
        itl = (cycle - own) / (o - 1) if o > 1 else decode_step
        rate = running / cycle
        wait = (clients - running) / rate
        return LoadPoint(
            concurrency=clients,
            requests_per_s=rate,
            output_tokens_per_s=running * o / cycle,
            tpot_s=itl,
            tpot_p95_s=itl,
            ttft_s=own + wait,
            ttft_p95_s=own + wait,
            running_batch=running,
            prefill_share=groups * chunks * per_group * p / chunks * self._token_s / cycle,
            saturated=clients > running or groups * chunks > chunks + o - 1,
        )

    def smallest_d(self) -> float:
        """The lightest steady load the searches consider (capacity() checks the targets here first)."""
        return self.max_decodes / 2**BISECTION_STEPS

    def max_request_rate(self) -> float:
        """Largest sustainable arrival rate, requests/s."""
        return self.peak().requests_per_s

    def open_loop(self, rate: float) -> LoadPoint | None:
        """Poisson arrivals at `rate` requests/s (None: above the sustainable rate)."""
        if rate > self.max_request_rate():
            return None
        found = self._loops.get(("open", rate))
        if found is None:
            d = max(self._largest_d(lambda x: x[RATE] / rate - 1), self.smallest_d())
            found = self._loops[("open", rate)] = self.at_decodes(d)
        return found

    def capacity(
        self,
        tpot_s: float | None = None,
        ttft_s: float | None = None,
        tpot_p95_s: float | None = None,
        ttft_p95_s: float | None = None,
        time_in_system_s: float | None = None,
        max_utilization: float | None = None,
    ) -> LoadPoint | None:
        """The heaviest steady load that meets the targets (None: not even a lone request does): latency targets, a
        bound on a request's whole time in the replica (TTFT + O x TPOT), and a ceiling on the share of the replica's
        largest sustainable request rate."""
        rate_cap = max_utilization * self.max_request_rate() if max_utilization is not None else None
        limits = [
            (i, t)
            for i, t in (
                (TPOT, tpot_s),
                (TTFT, ttft_s),
                (TPOT_P95, tpot_p95_s),
                (TTFT_P95, ttft_p95_s),
                (TIME_IN_SYSTEM, time_in_system_s),
                (RATE, rate_cap),
            )
            if t is not None
        ]
        hi = self._tpot_bound(tpot_s) if tpot_s is not None else self.max_decodes
        if hi <= 0:
            return None
        d = self._largest_d(_excess_over(limits), hi)
        return self.at_decodes(d) if d > 0 else None

    def saturation_concurrency(self) -> float:
        """Clients at which throughput reaches SATURATION_THROUGHPUT_SHARE of the replica's maximum."""
        target = SATURATION_THROUGHPUT_SHARE * self.peak().output_tokens_per_s
        d = self._largest_d(lambda x: x[TOKENS] / target - 1)
        return self.at_decodes(max(d, self.smallest_d())).concurrency
