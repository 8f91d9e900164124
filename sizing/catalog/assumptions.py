"""Speed and cost assumptions (sizing/data/assumptions.toml); every one can be overridden."""

from __future__ import annotations

from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.files import read_toml
from sizing.errors import InvalidInputError


class Assumptions(BaseModel):
    """Named, sourced efficiencies and latencies. Defaults come from sizing/data/assumptions.toml."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    prefill_compute_efficiency: float = Field(gt=0, le=1)
    """Share of dense tensor peak a prefill achieves."""
    decode_compute_efficiency: float = Field(gt=0, le=1)
    """Share of dense peak for the batched matmuls of a decode step."""
    decode_step_overhead_ms: float = Field(ge=0)
    """Host-side time per decode step (scheduling, sampling, kernel launches), milliseconds."""
    allreduce_latency_us_nvswitch: float = Field(ge=0)
    """One small all-reduce over NVLink/NVSwitch, microseconds."""
    allreduce_latency_us_pcie: float = Field(ge=0)
    """One small all-reduce over PCIe, microseconds."""
    pp_hop_latency_us_intra_node: float = Field(ge=0)
    """Passing activations to the next pipeline stage inside a node, microseconds."""
    pp_hop_latency_us_inter_node: float = Field(ge=0)
    """Same across nodes, microseconds."""
    container_pull_s: float = Field(ge=0)
    """Seconds to pull the serving image on a fresh node."""
    download_nic_efficiency: float = Field(gt=0, le=1)
    """Share of the NIC line rate one node's weight download reaches."""
    instance_store_gbps: float = Field(gt=0)
    """Sequential rate of one local NVMe SSD, GB/s (10^9 bytes)."""
    engine_init_s: float = Field(ge=0)
    """Seconds of engine start-up after the weights load (profiling, KV allocation, graph capture)."""
    hours_per_month: float = Field(gt=0)
    """Hours in a billing month."""
    spot_unfilled_share_scarce: float = Field(ge=0, le=1)
    """Share of spot requests left unfilled in a scarce pool (families.csv spot_capacity = scarce); est., see the toml."""
    spot_unfilled_share_plentiful: float = Field(ge=0, le=1)
    """Share of spot requests left unfilled in a plentiful pool."""
    decode_bw_efficiency: float | None = Field(default=None, gt=0, le=1)
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

            raise UnknownNameError("assumption", key, valid, "use KEY=VALUE with a key from sizing/data/assumptions.toml.")
    try:
        return Assumptions(**{**base.model_dump(), **{k: float(v) for k, v in overrides.items()}})
    except (ValueError, TypeError) as exc:
        raise InvalidInputError(f"Bad assumption override {overrides!r}: {exc}. To fix: give numbers in range.") from None
