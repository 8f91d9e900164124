"""Speed and cost assumptions (sizing/data/assumptions.toml); every one can be overridden."""

from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sizing.catalog.files import read_toml
from sizing.errors import InvalidInputError
from sizing.limits import (
    MAX_CONTEXT_TOKENS,
    MAX_LATENCY_MS,
    MAX_PARALLEL,
    MAX_RATE,
    MAX_SECONDS,
    MIN_LATENCY_MS,
    MIN_RATE,
    MIN_SHARE,
)

MAX_ACCEPTANCE_LENGTH = 17.0
"""Most tokens one speculative step can yield: 16 draft tokens (speculators.csv bound) plus the target's own."""
HOURS_IN_LONGEST_MONTH = 31 * 24
"""Upper bound of hours_per_month."""
MIN_HOURS_PER_MONTH = 1.0
"""Lower bound of hours_per_month (interruption rates are per month and divided by it)."""


class Assumptions(BaseModel):
    """Named, sourced efficiencies and latencies. Defaults come from sizing/data/assumptions.toml."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    prefill_compute_efficiency: float = Field(ge=MIN_SHARE, le=1)
    """Share of dense tensor peak a prefill achieves."""
    decode_compute_efficiency: float = Field(ge=MIN_SHARE, le=1)
    """Share of dense peak for the batched matmuls of a decode step."""
    decode_step_overhead_ms: float = Field(ge=0, le=MAX_LATENCY_MS)
    """Host-side time per decode step (scheduling, sampling, kernel launches), milliseconds."""
    allreduce_latency_us_nvswitch: float = Field(ge=0, le=MAX_LATENCY_MS)
    """One small all-reduce over NVLink/NVSwitch, microseconds."""
    allreduce_latency_us_pcie: float = Field(ge=0, le=MAX_LATENCY_MS)
    """One small all-reduce over PCIe, microseconds."""
    pcie_gpus_per_switch: int = Field(ge=1, le=MAX_PARALLEL)
    """GPUs behind one PCIe switch; a larger PCIe TP group crosses switches."""
    allreduce_pcie_cross_switch_bandwidth_share: float = Field(ge=MIN_SHARE, le=1)
    """Share of link bandwidth a PCIe ring all-reduce keeps once the TP group crosses PCIe switches."""
    pp_hop_latency_us_intra_node: float = Field(ge=0, le=MAX_LATENCY_MS)
    """Passing activations to the next pipeline stage inside a node, microseconds."""
    pp_hop_latency_us_inter_node: float = Field(ge=0, le=MAX_LATENCY_MS)
    """Same across nodes, microseconds."""
    instance_boot_s: float = Field(ge=0, le=MAX_SECONDS)
    """Seconds from EC2 launch to the user data running (boot, GPU driver, fabric manager)."""
    container_pull_s: float = Field(ge=0, le=MAX_SECONDS)
    """Seconds to pull the serving image on a fresh node."""
    download_nic_efficiency: float = Field(ge=MIN_SHARE, le=1)
    """Share of the NIC line rate one node's weight download reaches."""
    instance_store_gb_per_s: float = Field(ge=MIN_RATE, le=MAX_RATE)
    """Sequential rate of one local NVMe SSD, GB/s (10^9 bytes)."""
    engine_init_s: float = Field(ge=0, le=MAX_SECONDS)
    """Seconds of engine start-up after the weights load (profiling, KV allocation, graph capture)."""
    hours_per_month: float = Field(ge=MIN_HOURS_PER_MONTH, le=HOURS_IN_LONGEST_MONTH)
    """Hours in a billing month."""
    moe_routing_independence: float = Field(ge=0, le=1)
    """Share of a batch's extra tokens whose expert routing is independent of the others (1: real traffic; 0: every
    sequence routes alike, as in fixed-batch benchmarks of synthetic prompts)."""
    moe_layer_latency_us: float = Field(ge=0, le=MAX_LATENCY_MS)
    """Fixed kernel time of one MoE layer per decode step (router, top-k, token sort, grouped GEMMs), microseconds."""
    mla_layer_latency_us: float = Field(ge=0, le=MAX_LATENCY_MS)
    """Fixed kernel time of one MLA attention layer per decode step (latent and absorbed projections), microseconds."""
    moe_prefill_gemm_half_tokens: float | None = Field(default=None, ge=0, le=MAX_CONTEXT_TOKENS)
    """Tokens per expert at which a routed expert's grouped GEMM reaches half its long-matrix rate in prefill (None, as
    in plan locks written before it existed: experts costed as one long GEMM)."""
    spot_unfilled_share_scarce: float = Field(ge=0, le=1)
    """Share of spot requests left unfilled in a scarce pool (families.csv spot_capacity = scarce); est., see the
    toml."""
    spot_unfilled_share_plentiful: float = Field(ge=0, le=1)
    """Share of spot requests left unfilled in a plentiful pool."""
    interactive_max_utilization: float | None = Field(default=None, ge=MIN_SHARE, le=1)
    """Largest share of a replica's maximum sustainable request rate an interactive plan loads it to (None or 1: no
    ceiling, as in plans locked before it existed; assumptions.toml sets it)."""
    interactive_default_tpot_ms: float | None = Field(default=None, ge=MIN_LATENCY_MS, le=MAX_LATENCY_MS)
    """Mean TPOT ceiling of an interactive workload that gives no TPOT target (human reading speed), milliseconds (None:
    none, as in plans locked before it existed; assumptions.toml sets it)."""
    speculative_acceptance_length: float | None = Field(default=None, ge=1, le=MAX_ACCEPTANCE_LENGTH)
    """Mean tokens a sequence gains per speculative-decoding step (None: the draft's figure in speculators.csv)."""
    decode_bw_efficiency: float | None = Field(default=None, ge=MIN_SHARE, le=1)
    """Override of every GPU's decode bandwidth efficiency (None: per-GPU value from gpus.csv)."""


@cache
def default_assumptions() -> Assumptions:
    """The assumptions in sizing/data/assumptions.toml."""
    return Assumptions(**read_toml("assumptions.toml"))


def with_overrides(overrides: dict[str, str | float] | None) -> Assumptions:
    """Default assumptions with some values replaced; unknown keys are an error that lists the valid ones."""
    base = default_assumptions()
    if not overrides:
        return base
    valid = sorted(Assumptions.model_fields)
    for key in overrides:
        if key not in valid:
            from sizing.errors import UnknownNameError

            raise UnknownNameError(
                "assumption", key, valid, "use KEY=VALUE with a key from sizing/data/assumptions.toml."
            )
    try:
        return Assumptions(**{**base.model_dump(), **{k: _number(k, v) for k, v in overrides.items()}})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}={overrides.get(str(e['loc'][0]), e['input'])!r}: {e['msg']}"
            for e in exc.errors()
        )
        raise InvalidInputError(
            f"Bad assumption override: {problems}. To fix: give a finite number in the range named "
            "(the field's docstring in sizing/catalog/assumptions.py says its unit)."
        ) from None


def _number(key: str, value: str | float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InvalidInputError(f"Assumption {key}={value!r} is not a number. To fix: e.g. {key}=0.5.") from None
