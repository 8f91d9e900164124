"""Steady state of one replica under load: continuous batching with chunked prefill, solved in closed form.

Every engine step decodes the running sequences and prefills prompt chunks, up to `max_num_batched_tokens` tokens in
all (vLLM V1 and TensorRT-LLM in-flight batching both work this way). At a request rate lam with a mean step time T,
Little's law puts d = lam * O * T sequences in the decode phase and p = lam * P * T prompt tokens in each step
(P: prompt tokens not served from the prefix cache, O: output tokens; the step that finishes a prompt also yields its
first token, so a request holds a decode slot for O steps). Taken with d as the unknown the fixed point between
concurrency, rate and step time is explicit:

    p = d * P / O,    T = step(d decodes, p prefill tokens),    lam = d / (O * T),    output tokens/s = d / T

and every quantity grows monotonically with d, so a closed loop (N clients) or an open loop (rate R) is one bisection
on d, and a latency target is another. No simulation.

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
estimate at low N (benchmark clients with identical request lengths also tend to arrive in waves, which this model
does not reproduce).

Saturation: the running batch is capped by the KV cache / max_num_seqs (`max_running`) and by the token budget
(d + p <= max_num_batched_tokens). In a closed loop past the slot cap, the extra clients wait for a slot: throughput
stays at the cap and TTFT grows by (N - N_cap) / lam_cap. An open loop past the cap has no steady state.

Engine bias: the step times come from sizing/speed/model.py, whose efficiencies are checked against TensorRT-LLM
figures; `step_time_factor` (engines.toml, one per engine) scales every step for the engine actually served.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sizing.speed.model import ReplicaSpeed

P95_Z = 1.645
"""Standard normal quantile of 0.95 (TPOT p95 of a request's mean over many steps)."""
P95_EXP = math.log(20)
"""p95 / mean of an exponential distribution (TTFT waiting-time tail)."""
BISECTION_STEPS = 12
"""Halvings of the decode-batch interval: 2^-12 of it (a quarter of a request at 1,024 slots), the result kept on the
side that meets the condition."""
BUDGET_HEADROOM = 0.999
"""The token-budget cap is approached, not reached (at the cap the prompt queue is unbounded)."""
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
class EngineLimits:
    """The engine settings that bound a step and the running batch."""

    max_num_batched_tokens: int
    """Token budget of one step (decodes plus prefill chunks)."""
    max_running: int
    """Sequences the KV cache and max_num_seqs admit at once."""
    step_time_factor: float = 1.0
    """Engine bias: the served engine's step time over the model's (engines.toml)."""


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

    def meets(self, tpot_s: float | None, ttft_s: float | None, tpot_p95_s: float | None, ttft_p95_s: float | None) -> bool:
        """Whether every given latency target holds."""
        pairs = ((tpot_s, self.tpot_s), (ttft_s, self.ttft_s), (tpot_p95_s, self.tpot_p95_s), (ttft_p95_s, self.ttft_p95_s))
        return all(target is None or value <= target for target, value in pairs)


class ReplicaLoad:
    """The steady-state model of one replica for one request shape (memoize one per placement)."""

    def __init__(self, speed: ReplicaSpeed, shape: RequestShape, limits: EngineLimits) -> None:
        self.speed, self.shape, self.limits = speed, shape, limits
        o, p = shape.output_tokens, shape.prefill_tokens
        by_budget = BUDGET_HEADROOM * limits.max_num_batched_tokens / (1 + p / o)
        self.slot_bound = limits.max_running <= by_budget
        self.max_decodes = float(min(limits.max_running, by_budget))
        """Largest steady decode batch: KV / max_num_seqs slots, or the token budget shared with the prompts."""
        self._memo: dict[float, LoadPoint] = {}
        self._token_s = speed.prefill_token_s(shape.input_tokens) * limits.step_time_factor

    def _decode_s(self, decodes: float) -> float:
        return self.speed.step_s(decodes, self.shape.context_tokens) * self.limits.step_time_factor

    def at_decodes(self, d: float) -> LoadPoint:
        """Steady state with `d` sequences decoding (0 < d <= max_decodes), no slot queue."""
        if d in self._memo:
            return self._memo[d]
        o, p = self.shape.output_tokens, self.shape.prefill_tokens
        decode = self._decode_s(d)  # = speed.mixed_step_s(...) x factor, with the prefill term added here
        prefill_part = self._token_s * d * p / o
        step = decode + prefill_part
        rate = d / (o * step)
        free = max(self.limits.max_num_batched_tokens - d, 1.0)
        chunks = math.ceil(p / free)
        own = chunks * decode + self._token_s * p
        rho = min(max(prefill_part / step, d * p / o / free), BUDGET_HEADROOM)
        ttft = own / (1 - rho)
        one_prompt_s = prefill_part * o / d if d > 0 else 0.0  # the step time one prompt's tokens add
        point = LoadPoint(
            concurrency=rate * ttft + d, requests_per_s=rate, output_tokens_per_s=d / step, tpot_s=step,
            tpot_p95_s=step + P95_Z * math.sqrt(d) * one_prompt_s / o, ttft_s=ttft, ttft_p95_s=own + P95_EXP * (ttft - own),
            running_batch=d, prefill_share=prefill_part / step, saturated=not self.slot_bound and d >= self.max_decodes,
        )
        self._memo[d] = point
        return point

    def _largest_d(self, ok) -> float:
        """Largest d in (0, max_decodes] with ok(at_decodes(d)), ok monotone (True then False); 0 when none."""
        hi = self.max_decodes
        if ok(self.at_decodes(hi)):
            return hi
        lo = 0.0
        for _ in range(BISECTION_STEPS):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if ok(self.at_decodes(mid)) else (lo, mid)
        return lo

    def peak(self) -> LoadPoint:
        """The replica at its largest steady decode batch."""
        return self.at_decodes(self.max_decodes)

    def closed_loop(self, clients: float) -> LoadPoint:
        """N clients, each sending its next request when the previous one completes."""
        top = self.peak()
        if clients <= top.concurrency:
            d = self._largest_d(lambda x: x.concurrency <= clients)
            return self.at_decodes(d) if d > 0 else self.at_decodes(self._smallest_d())
        wait = (clients - top.concurrency) / top.requests_per_s
        return LoadPoint(
            concurrency=clients, requests_per_s=top.requests_per_s, output_tokens_per_s=top.output_tokens_per_s,
            tpot_s=top.tpot_s, tpot_p95_s=top.tpot_p95_s, ttft_s=top.ttft_s + wait, ttft_p95_s=top.ttft_p95_s + wait,
            running_batch=top.running_batch, prefill_share=top.prefill_share, saturated=True,
        )

    def _smallest_d(self) -> float:
        return self.max_decodes / 2**BISECTION_STEPS

    def max_request_rate(self) -> float:
        """Largest sustainable arrival rate, requests/s."""
        return self.peak().requests_per_s

    def open_loop(self, rate: float) -> LoadPoint | None:
        """Poisson arrivals at `rate` requests/s (None: above the sustainable rate)."""
        if rate > self.max_request_rate():
            return None
        return self.at_decodes(max(self._largest_d(lambda x: x.requests_per_s <= rate), self._smallest_d()))

    def capacity(self, tpot_s: float | None = None, ttft_s: float | None = None, tpot_p95_s: float | None = None,
                 ttft_p95_s: float | None = None) -> LoadPoint | None:
        """The heaviest steady load that meets the targets (None: not even a lone request does)."""
        d = self._largest_d(lambda x: x.meets(tpot_s, ttft_s, tpot_p95_s, ttft_p95_s))
        return self.at_decodes(d) if d > 0 else None

    def saturation_concurrency(self) -> float:
        """Clients at which throughput reaches SATURATION_THROUGHPUT_SHARE of the replica's maximum."""
        target = SATURATION_THROUGHPUT_SHARE * self.peak().output_tokens_per_s
        d = self._largest_d(lambda x: x.output_tokens_per_s <= target)
        return self.at_decodes(max(d, self._smallest_d())).concurrency
