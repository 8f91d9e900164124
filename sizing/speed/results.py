"""What `python -m sizing speed` answers, as typed results: their dump is the command's JSON. Imported by `memory` and
`speed` only (building the models costs start-up time `plan` need not pay)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict

from sizing.calibration.store import Calibration, FittedValues
from sizing.memory.results import ModelLine


class CalibrationUsed(BaseModel):
    """The calibration a `speed` answer was sized with, as its JSON and text name it."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", use_attribute_docstrings=True)

    file: str
    """The calibration file, as given (--calibration)."""
    summary: str
    """One line: what it is fitted to and how well."""
    created: str
    """The day it was fitted, YYYY-MM-DD."""
    engine: str
    """The engine whose benchmarks it was fitted to."""
    engine_version: str
    """That engine's version."""
    median_abs_error: float
    """Median absolute relative error over its points (0.05 = 5%)."""
    max_abs_error: float
    """Worst absolute relative error over its points."""
    fitted: FittedValues
    """The fitted efficiencies that replace the assumptions."""

    @classmethod
    def of(cls, cal: Calibration, path: str) -> "CalibrationUsed":
        """What an answer sized with `cal`, read from `path`, says about it."""
        return cls(
            file=path,
            summary=cal.summary,
            created=cal.created,
            engine=cal.engine,
            engine_version=cal.engine_version,
            median_abs_error=cal.median_abs_error,
            max_abs_error=cal.max_abs_error,
            fitted=cal.fitted,
        )


class ReplicaOnGpu(ModelLine):
    """One replica of the model on a GPU, with the engine and calibration its figures come from."""

    gpu: str
    """GPU name (an instance type given with --gpu is read as its GPU)."""
    tensor_parallel: int
    """Tensor-parallel degree (--tp)."""
    pipeline_parallel: int
    """Pipeline-parallel degree (--pp)."""
    data_parallel: int
    """Data-parallel attention ranks (--dp, MoE only)."""
    expert_parallel: bool
    """Experts spread over the ranks (--ep, MoE only)."""
    engine_refusal: str | None
    """The vLLM rule the layout or format breaks (named), or None."""
    fits: bool
    """The answer is one the engine would serve: it starts, no rule refuses it, and the batch fits."""
    input_tokens: int
    """Prompt tokens per request."""
    output_tokens: int
    """Output tokens per request."""
    engine: str
    """The serving engine whose step-time factor and memory profile the figures use (sizing/data/engines.toml)."""
    calibration: CalibrationUsed | None
    """The calibration whose fitted efficiencies replaced the assumptions, or None (first principles)."""


class SpeedAtBatch(ReplicaOnGpu):
    """`speed --batch N|max`: `batch` sequences decoding together, no arrivals."""

    batch: int
    """Running sequences (the largest meeting --tpot-ms under --batch max)."""
    max_batch: int
    """The largest batch the KV cache and the scheduler allow."""
    ttft_ms: float
    """Time to first token of a prompt arriving while the batch decodes, milliseconds."""
    prefill_ms: float
    """Prefill of one prompt alone, milliseconds."""
    tpot_ms: float
    """Time per output token at this batch, milliseconds."""
    output_tokens_per_second: float
    """Output tokens per second over the batch while it decodes."""
    bandwidth_ceiling_tokens_per_second: float
    """Batch-1 decode ceiling set by memory bandwidth, tokens per second."""
    saturated_output_tokens_per_second: float
    """Offline throughput with every slot busy, each request's prefill included, output tokens per second."""


class SteadyState(ReplicaOnGpu):
    """`speed --concurrency C` or `--request-rate R`: the replica at steady state under arrivals."""

    prefix_hit_rate: float
    """Share of prompt tokens served from the prefix cache."""
    arrivals: Literal["poisson", "burst"]
    """The arrival process the figures assume: Poisson (production) or burst (benchmark clients starting together)."""
    output_tokens_per_second: float
    """Output tokens per second at steady state."""
    requests_per_second: float
    """Completed requests per second."""
    tpot_ms: float
    """Mean time per output token, milliseconds."""
    ttft_ms: float
    """Mean time to first token, milliseconds (queueing included)."""
    tpot_p95_ms: float
    """95th percentile of a request's mean time per output token, milliseconds."""
    ttft_p95_ms: float
    """95th percentile time to first token, milliseconds."""
    running_batch: float
    """Sequences decoding per engine step, on average."""
    prefill_share: float
    """Share of step time spent on prompt tokens."""
    saturated: bool
    """Requests queue for a slot or the token budget."""
    max_running: int
    """The most sequences the KV cache and the scheduler let run at once."""
    max_requests_per_second: float
    """The largest sustainable arrival rate, requests per second."""
    saturation_concurrency: float
    """Clients at which throughput nears the replica's maximum."""


class ClosedLoopSpeed(SteadyState):
    """`speed --concurrency C`: clients each sending a request when their previous one completes."""

    concurrency: float
    """Closed-loop clients (--concurrency)."""


class OpenLoopSpeed(SteadyState):
    """`speed --request-rate R`: Poisson arrivals at a fixed rate."""

    request_rate: float
    """Arrival rate, requests per second (--request-rate)."""


SpeedResult = SpeedAtBatch | ClosedLoopSpeed | OpenLoopSpeed
"""What `speed` answers: at a batch, or at steady state under a closed or an open loop."""
