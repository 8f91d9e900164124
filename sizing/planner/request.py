"""What the user asks for: the workload, the deployment constraints, and the whole plan request."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sizing.calibration.store import Calibration
from sizing.catalog.assumptions import Assumptions, default_assumptions
from sizing.catalog.formats import vllm_kv_cache_dtype
from sizing.catalog.gpus import find_gpu
from sizing.catalog.instances import all_instance_types
from sizing.catalog.selection import expand_instance_types, is_glob
from sizing.catalog.speculators import SpeculativeMethod
from sizing.errors import SizingError
from sizing.limits import (
    MAX_BATCH,
    MAX_CONTEXT_TOKENS,
    MAX_INSTANCE_TYPES,
    MAX_LATENCY_MS,
    MAX_NAME_CHARS,
    MAX_RATE,
    MAX_USD_PER_HOUR,
    MIN_LATENCY_MS,
    MIN_RATE,
    MIN_USD_PER_HOUR,
)
from sizing.live.facts import LiveFacts
from sizing.models.spec import ModelSpec
from sizing.numbers import Float, Int

WorkloadKind = Literal["interactive", "batch"]
PurchaseOption = Literal["on-demand", "spot", "mixed", "capacity-block"]


DEFAULT_CONCURRENCY = 32
"""Closed-loop clients a workload with neither a concurrency nor a rate is planned for."""
RATE_AGREEMENT = 0.01
"""requests_per_second x output_tokens and output_tokens_per_second may differ by this share (rounding) and still
describe one traffic; beyond it they contradict each other and the workload is refused."""
MAX_JOB_TOKENS = 10**15
"""Output tokens of one batch job (a quadrillion: far beyond any job, far below float trouble)."""
MAX_DEADLINE_HOURS = 24 * 366.0
"""A batch job's deadline, hours (a year)."""

MAX_LENGTH_MULTIPLE = 2
"""Default longest request as a multiple of the typical one: typical lengths are means or medians, and a fleet
configured at exactly the mean would refuse half its requests (vLLM rejects prompts over --max-model-len)."""


class Workload(BaseModel):
    """The traffic one fleet must serve."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    concurrency: Int | None = Field(default=None, gt=0, le=MAX_BATCH)
    """Requests in flight at once. Without a rate: closed-loop clients, each sending its next request as soon as the
    last one completes (32, DEFAULT_CONCURRENCY, when no rate is given either). With a rate: the most the traffic ever
    has in flight, so each request must be answered within concurrency / rate seconds (Little's law)."""
    input_tokens: Int = Field(default=1024, gt=0, le=MAX_CONTEXT_TOKENS)
    """Prompt tokens per request (typical)."""
    output_tokens: Int = Field(default=256, gt=0, le=MAX_CONTEXT_TOKENS)
    """Generated tokens per request (typical)."""
    requests_per_second: Float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    """Sustained arrival rate to serve, requests/s."""
    output_tokens_per_second: Float | None = Field(default=None, ge=MIN_RATE, le=MAX_RATE)
    """Sustained generation rate to serve, output tokens/s for the whole fleet."""
    ttft_ms: Float | None = Field(default=None, ge=MIN_LATENCY_MS, le=MAX_LATENCY_MS)
    """Time-to-first-token target, milliseconds."""
    tpot_ms: Float | None = Field(default=None, ge=MIN_LATENCY_MS, le=MAX_LATENCY_MS)
    """Inter-token latency (time per output token) target, milliseconds."""
    ttft_p95_ms: Float | None = Field(default=None, ge=MIN_LATENCY_MS, le=MAX_LATENCY_MS)
    """95th-percentile time-to-first-token target, milliseconds."""
    tpot_p95_ms: Float | None = Field(default=None, ge=MIN_LATENCY_MS, le=MAX_LATENCY_MS)
    """95th-percentile target of a request's mean inter-token latency, milliseconds."""
    prefix_hit_rate: Float = Field(default=0.0, ge=0, lt=1)
    """Share of prompt tokens served from vLLM's prefix cache (shared system prompts); they cost no prefill."""
    max_input_tokens: Int | None = Field(default=None, gt=0, le=MAX_CONTEXT_TOKENS)
    """Longest prompt accepted (None: MAX_LENGTH_MULTIPLE x input_tokens, capped at the model's context)."""
    max_output_tokens: Int | None = Field(default=None, gt=0, le=MAX_CONTEXT_TOKENS)
    """Longest generation accepted (None: MAX_LENGTH_MULTIPLE x output_tokens, capped at the model's context)."""
    kind: WorkloadKind = "interactive"
    """interactive: users wait on it (never spot-only); batch: offline work (spot by default)."""
    headroom_replicas: Int = Field(default=0, ge=0, le=MAX_BATCH)
    """Spare failure domains beyond what the load needs (1 = N+1): one more instance for single-node replicas (all the
    replicas it hosts), one more replica for multi-node ones."""
    on_demand_floor: Float | None = Field(default=None, ge=0, le=1)
    """Share of the required replicas kept on demand (None: 1.0 for interactive, 0.0 for batch)."""
    max_model_len: Int | None = Field(default=None, gt=0, le=MAX_CONTEXT_TOKENS)
    """Longest request the engine accepts (None: max_input_tokens plus max_output_tokens, capped at the model's
    context)."""
    job_output_tokens: Int | None = Field(default=None, ge=1, le=MAX_JOB_TOKENS)
    """Batch: output tokens the whole job generates (its requests x output_tokens). Plans are then ranked by what the
    job costs: the fleet's hourly cost over the hours it runs, cold start included, Capacity Blocks by whole blocks."""
    deadline_hours: Float | None = Field(default=None, gt=0, le=MAX_DEADLINE_HOURS)
    """Batch: the job must finish within this many hours of the fleet's launch (needs job_output_tokens); the fleet is
    sized to generate job_output_tokens in the hours left after its cold start."""

    @model_validator(mode="after")
    def _traffic(self) -> "Workload":
        """Rates that describe different traffic are refused; a batch job's deadline needs its size."""
        r, t = self.requests_per_second, self.output_tokens_per_second
        if r and t and abs(r * self.output_tokens - t) > RATE_AGREEMENT * t:
            raise ValueError(
                f"requests_per_second={r:g} and output_tokens_per_second={t:g} describe different traffic: {r:g} "
                "req/s x "
                f"{self.output_tokens} output tokens = {r * self.output_tokens:,.0f} output tokens/s. To fix: give "
                "one of "
                "them (the other follows from output_tokens), or make them agree."
            )
        if self.deadline_hours is not None and self.job_output_tokens is None:
            raise ValueError(
                f"deadline_hours={self.deadline_hours:g} needs the job's size: set job_output_tokens "
                "(requests x output_tokens) too, or drop deadline_hours"
            )
        if self.job_output_tokens is not None and self.kind != "batch":
            raise ValueError(
                "job_output_tokens and deadline_hours describe a batch job: set kind='batch', or give the "
                "traffic as a rate (requests_per_second) for interactive work"
            )
        return self

    @property
    def request_rate(self) -> float | None:
        """The request rate the fleet must sustain, requests/s: requests_per_second, or output_tokens_per_second over
        output_tokens (None: traffic given as concurrency only)."""
        if self.requests_per_second:
            return self.requests_per_second
        if self.output_tokens_per_second:
            return self.output_tokens_per_second / self.output_tokens
        return None

    @property
    def rate_name(self) -> str:
        """The workload figure the request rate comes from ('' without one)."""
        return (
            "requests_per_second"
            if self.requests_per_second
            else "output_tokens_per_second"
            if self.output_tokens_per_second
            else ""
        )

    @property
    def clients(self) -> float:
        """Closed-loop clients when no rate is given: concurrency, or DEFAULT_CONCURRENCY (a rate never inherits it)."""
        return float(self.concurrency or DEFAULT_CONCURRENCY)

    @property
    def traffic_text(self) -> str:
        """The traffic as stated, e.g. '64 in flight at most, 50 req/s' or '32 concurrent (default)'."""
        rates = ", ".join(
            t
            for t in (
                f"{self.requests_per_second:g} req/s" if self.requests_per_second else "",
                f"{self.output_tokens_per_second:g} out tok/s" if self.output_tokens_per_second else "",
            )
            if t
        )
        job = (f"a job of {self.job_output_tokens:,} output tokens" if self.job_output_tokens else "") + (
            f" within {self.deadline_hours:g} h" if self.deadline_hours else ""
        )
        if rates or self.deadline_hours:
            return ", ".join(
                t for t in (f"{self.concurrency} in flight at most" if self.concurrency else "", rates, job) if t
            )
        clients = (
            f"{self.concurrency} concurrent" if self.concurrency else f"{DEFAULT_CONCURRENCY} concurrent (default)"
        )
        return clients + (f", {job}" if job else "")

    @model_validator(mode="after")
    def _lengths(self) -> "Workload":
        for name, longest, typical in (
            ("max_input_tokens", self.max_input_tokens, self.input_tokens),
            ("max_output_tokens", self.max_output_tokens, self.output_tokens),
        ):
            if longest is not None and longest < typical:
                raise ValueError(
                    f"{name}={longest} is below the typical length {typical}; raise it to at least {typical}"
                )
        if self.max_model_len is not None and self.max_model_len < self.longest_request_tokens:  # vLLM answers HTTP 400
            raise ValueError(
                f"max_model_len={self.max_model_len} is shorter than the longest request the workload accepts "
                f"(max_input_tokens + max_output_tokens = {self.longest_request_tokens}); raise max_model_len "
                f"to at least {self.longest_request_tokens}, or lower the longest lengths"
            )
        if self.kind == "interactive" and self.on_demand_floor == 0:
            raise ValueError(
                "interactive traffic is never spot-only: on_demand_floor must be above 0 (or use kind='batch')"
            )
        return self

    @property
    def request_tokens(self) -> int:
        """Tokens of one typical request, prompt plus output."""
        return self.input_tokens + self.output_tokens

    @property
    def longest_request_tokens(self) -> int:
        """The longest request the workload says it accepts: the longest prompt plus the longest output as given
        (typical lengths where no longest one is given)."""
        return (self.max_input_tokens or self.input_tokens) + (self.max_output_tokens or self.output_tokens)

    def engine_max_model_len(self, context_tokens: int) -> int:
        """The --max-model-len the fleet runs with, for a model whose context is `context_tokens`: the longest prompt
        plus the longest output (typical lengths drive speed; the longest ones only size one request's memory)."""
        if self.max_model_len:
            return self.max_model_len
        longest_in = self.max_input_tokens or MAX_LENGTH_MULTIPLE * self.input_tokens
        longest_out = self.max_output_tokens or MAX_LENGTH_MULTIPLE * self.output_tokens
        return max(self.request_tokens, min(longest_in + longest_out, context_tokens))

    @property
    def floor_share(self) -> float:
        """Share of required replicas kept on demand."""
        if self.on_demand_floor is not None:
            return self.on_demand_floor
        return 1.0 if self.kind == "interactive" else 0.0


class Deployment(BaseModel):
    """Where and how the fleet may run."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    region: str = Field(default="us-east-1", max_length=MAX_NAME_CHARS)
    """AWS region whose offerings and prices apply."""
    instance_types: tuple[str, ...] | None = Field(default=None, max_length=MAX_INSTANCE_TYPES)
    """Allow-list of instance types (None: every type in the catalog): API names, GPU names (every type with that GPU,
    aliases from gpus.csv) or shell-style globs such as 'p5.*'."""
    weights: str | None = None
    """Weight format by name; 'native' or None: the checkpoint's own; 'auto': the checkpoint's own and FP8 where the
    GPU has FP8 kernels and online quantization of a 16-bit checkpoint is sound (the command line's default). Stack
    files keep None: quantizing changes the model's outputs, so a deployed fleet moves to FP8 only when its owner
    asks."""
    kv_dtype: str = "auto"
    """KV cache dtype as vLLM's --kv-cache-dtype spells it: auto (the model dtype), fp8, fp8_e4m3 or fp8_e5m2 (other
    spellings of these are mapped; a 16-bit or fp32 cache is refused: it is 'auto')."""
    gpu_memory_utilization: Float | None = Field(default=None, gt=0, le=1)
    """--gpu-memory-utilization (None: the engine default)."""
    engine: str | None = None
    """Engine profile from sizing/data/engines.toml (None: the default)."""
    max_nodes_per_replica: Int = Field(default=4, ge=1, le=16)
    """Largest multi-node replica to consider."""
    speculative: SpeculativeMethod | None = None
    """Speculative decoding: 'eagle3' (an EAGLE-3 draft head) or 'mtp' (the model's own multi-token-prediction module),
    where sizing/data/speculators.csv catalogues one for the model and the engine's vLLM release runs it. Its mean
    acceptance length is an assumption the plan states; it changes TPOT, capacity and memory (None: none)."""
    purchase: PurchaseOption | None = None
    """Force a purchase option (None: chosen by workload kind). 'capacity-block': every instance in an EC2 Capacity
    Block at its catalog rate (types without one in the region are rejected); never chosen unless asked."""
    spare_purchase: Literal["on-demand", "spot"] | None = None
    """How the headroom (N+1 spare) is bought (None: on demand for interactive fleets, so the spare is there when a spot
    pool is dry; spot for batch). Needs headroom_replicas > 0: with no spare it is refused."""
    spot_usd_per_hour: dict[str, Float] | None = None
    """Spot prices per instance type given by hand; they win over live facts and the catalog's discount."""
    facts: LiveFacts | None = None
    """Pre-flight facts from the account: offerings in the fleet's zones and current spot prices (None: catalog
    only)."""

    @field_validator("instance_types")
    @classmethod
    def _names(cls, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for name in names or ():
            if len(name) > MAX_NAME_CHARS:
                raise ValueError(f"instance type {name[:40]!r}... is longer than {MAX_NAME_CHARS} characters")
        if names is None or not any(is_glob(n) or find_gpu(n) for n in names):
            return names  # API names: plan() refuses an unknown one, naming close matches
        try:
            return expand_instance_types(names)
        except SizingError as exc:  # pydantic reports a ValueError with the field's name
            raise ValueError(str(exc)) from None

    @field_validator("kv_dtype")
    @classmethod
    def _kv_dtype(cls, value: str) -> str:
        try:
            return vllm_kv_cache_dtype(value)
        except SizingError as exc:  # pydantic reports a ValueError with the field's name
            raise ValueError(str(exc)) from None

    @field_validator("spot_usd_per_hour")
    @classmethod
    def _prices(cls, prices: dict[str, float] | None) -> dict[str, float] | None:
        known = all_instance_types()
        for name, usd in (prices or {}).items():
            if name not in known:  # a misspelt type would be silently ignored, and the catalog's price used
                import difflib  # loaded on an error only (start-up time)

                close = difflib.get_close_matches(name, list(known), n=1)
                raise ValueError(
                    f"spot_usd_per_hour names {name[:60]!r}, not an instance type of the catalog"
                    + (f" (did you mean {close[0]!r}?)" if close else "")
                )
            if not MIN_USD_PER_HOUR <= usd <= MAX_USD_PER_HOUR:  # NaN fails too; allow_inf_nan refuses inf
                raise ValueError(
                    f"spot_usd_per_hour[{name!r}]={usd!r} must be a price from {MIN_USD_PER_HOUR:g} to "
                    f"{MAX_USD_PER_HOUR:g} USD per hour"
                )
        return prices

    def spare_purchase_for(self, kind: WorkloadKind) -> Literal["on-demand", "spot"]:
        """How the spare capacity is bought for this kind of workload."""
        return self.spare_purchase or ("on-demand" if kind == "interactive" else "spot")

    def spot_price(self, instance_type: str) -> tuple[float, str] | None:
        """A spot price that replaces the catalog's discount, and where it came from."""
        if self.spot_usd_per_hour and instance_type in self.spot_usd_per_hour:
            return self.spot_usd_per_hour[instance_type], "given"
        if self.facts and instance_type in self.facts.spot_usd_per_hour:
            origin = self.facts.provenance.get("spot_prices")
            return self.facts.spot_usd_per_hour[instance_type], origin.origin if origin else "live"
        return None


def spare_purchase_unused(workload: Workload, deployment: Deployment) -> bool:
    """spare_purchase says how the headroom spare is bought; with no headroom there is no spare, and it would be
    silently ignored (the split then has nothing to move). The CLI and the stack config refuse it, each in its words,
    and PlanRequest itself refuses it for a request built in code."""
    return deployment.spare_purchase is not None and workload.headroom_replicas == 0


class PlanRequest(BaseModel):
    """Everything plan() needs."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    model: ModelSpec
    """The model to serve."""
    workload: Workload = Workload()
    """The traffic."""
    deployment: Deployment = Deployment()
    """Where and how."""
    assumptions: Assumptions = Field(default_factory=default_assumptions)
    """Efficiencies and latencies."""
    calibration: Calibration | None = None
    """Efficiencies fitted to the user's own benchmarks (sizing/calibration/): candidates on its GPU in its weight
    format are sized with them instead of `assumptions` (and the engine's step-time factor is 1); the others as
    before."""

    @model_validator(mode="after")
    def _spare_purchase_needs_a_spare(self) -> "PlanRequest":
        """The CLI and stack boundaries say this in their own words; this catches a request built in code."""
        if spare_purchase_unused(self.workload, self.deployment):
            raise ValueError(
                f"deployment.spare_purchase={self.deployment.spare_purchase!r} has no spare to buy: "
                "workload.headroom_replicas is 0. To fix: set headroom_replicas >= 1 or drop spare_purchase."
            )
        return self

    def calibrated(self, gpu: str, weights: str) -> bool:
        """Whether a replica on `gpu` in `weights` is sized with the calibration."""
        return self.calibration is not None and self.calibration.applies_to(gpu, self.model.name, weights)

    def speed_assumptions(self, gpu: str, weights: str) -> tuple[Assumptions, float | None]:
        """(assumptions, step-time factor override) for a replica on `gpu` in `weights`: the calibration's where it
        applies (factor 1: it measured the engine), the request's otherwise (None: the engine profile's factor)."""
        if self.calibration is not None and self.calibrated(gpu, weights):
            return self.calibration.assumptions(self.assumptions), 1.0
        return self.assumptions, None

    @property
    def max_model_len(self) -> int:
        """The --max-model-len the fleet runs with: the workload's longest request, capped at the model's context."""
        return self.workload.engine_max_model_len(self.model.max_position_embeddings)
