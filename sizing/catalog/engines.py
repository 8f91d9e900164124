"""Serving-engine memory profiles (sizing/data/engines.toml)."""

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.files import read_toml
from sizing.errors import UnknownNameError

STEP_TIME_TABLE = "step_time_factor"
"""The engines.toml table holding each engine's speed bias."""


@cache
def _name_matches(substrings: tuple[str, ...], gpu_name: str) -> bool:
    """Whether a GPU name holds any of the substrings, case-insensitive (as vLLM matches torch's device name); asked
    for every replica sized, so remembered per name."""
    return any(name.lower() in gpu_name.lower() for name in substrings)


class EngineProfile(BaseModel):
    """How one serving-engine version budgets GPU memory at start-up. All memory in GiB per GPU."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    """Profile name, e.g. 'vllm-0.19'."""
    description: str
    """Engine and version the figures were taken from."""
    block_size_tokens: int = Field(gt=0)
    """KV cache block size in tokens; capacity is rounded down to whole blocks."""
    default_gpu_memory_utilization: float = Field(gt=0, le=1)
    """The engine's default --gpu-memory-utilization."""
    cuda_context_gib: float = Field(ge=0)
    """Non-torch memory with TP = 1 (CUDA context, allocator slack)."""
    nccl_buffers_gib: float = Field(ge=0)
    """Extra non-torch memory once TP > 1 (NCCL and custom all-reduce buffers)."""
    cuda_graph_pool_gib: float = Field(ge=0)
    """CUDA graph memory pool."""
    cuda_graph_outside_budget: bool
    """True when the graph pool is allocated after the KV budget, out of the unused share."""
    large_gpu_threshold_gib: float = Field(gt=0)
    """GPUs with at least this much visible memory get the larger scheduler defaults."""
    max_num_batched_tokens_large: int = Field(gt=0)
    """Default token budget per step on large GPUs."""
    max_num_batched_tokens_small: int = Field(gt=0)
    """Default token budget per step on small GPUs (V0: the floor under max_model_len)."""
    max_num_seqs_large: int = Field(gt=0)
    """Default maximum running sequences on large GPUs."""
    max_num_seqs_small: int = Field(gt=0)
    """Default maximum running sequences on small GPUs."""
    chunked_prefill_always: bool
    """V1 always uses a fixed token budget; V0 only for long contexts."""
    chunked_prefill_threshold_tokens: int = 0
    """V0: max_model_len above which chunked prefill is turned on."""
    chunked_prefill_batched_tokens: int = 0
    """V0: token budget with chunked prefill."""
    forward_mlp_factor: float = Field(ge=0)
    """Activation elements per token per unit of MLP width (per GPU) at the forward peak."""
    forward_hidden_factor: float = Field(ge=0)
    """Activation elements per token per unit of hidden size at the forward peak."""
    sampler_rows: Literal["max_num_seqs", "max_num_batched_tokens"]
    """How many logit rows the profiling run's sampler materialises."""
    sampler_bytes_per_logit: float = Field(ge=0)
    """Peak bytes per logit (vocab entry x row) during sampling, fitted to the engine's logs."""
    sliding_window_kv_savings: bool
    """Whether the engine stores only the window for sliding-window layers when counting concurrency."""
    step_time_factor: float = Field(gt=0)
    """Speed bias: this engine's step time over the speed model's (engines.toml [step_time_factor])."""
    version: str = ""
    """The engine release the profile describes, e.g. '0.34.0' ('' : a family of releases)."""
    image: str = ""
    """The serving image of that release the fleet runs (the default of FleetOptions.vllm_image; '' : none)."""
    efa_image: str = ""
    """An image of that release carrying libfabric and aws-ofi-nccl for multi-node replicas ('' : none known)."""
    large_tier_excluded_gpus: tuple[str, ...] = ()
    """GPU names (case-insensitive substrings, as vLLM matches torch's device name) kept on the small defaults even
    with the memory of the large tier."""
    huge_gpu_threshold_gib: float | None = Field(default=None, gt=0)
    """GPUs with at least this much visible memory get the largest defaults (None: no such tier)."""
    max_num_batched_tokens_huge: int | None = Field(default=None, gt=0)
    """Default token budget per step on the largest GPUs."""
    max_num_seqs_huge: int | None = Field(default=None, gt=0)
    """Default maximum running sequences on the largest GPUs."""
    kv_sizing: Literal["profiled", "extensible"] = "profiled"
    """profiled: the KV cache is the budget less the profiled peak (vLLM <= 0.33 default); extensible: sized from the
    memory free after warm-up and graph capture, less a margin (vLLM 0.34 default on CUDA)."""
    kv_margin_floor_gib: float = Field(default=0.0, ge=0)
    """extensible: smallest margin kept free beyond the transient peak."""
    kv_margin_peak_fraction: float = Field(default=0.0, ge=0)
    """extensible: margin as a share of the transient (activation) peak, when larger than the floor."""
    measured: tuple[str, ...] = ()
    """Constants of this profile measured on this release (start-up logs)."""
    carried_over: tuple[str, ...] = ()
    """Constants taken unchanged from an earlier release's measurements (not measured on this one)."""
    defaults_source: str = ""
    """Where the scheduler and memory defaults of this release were read."""

    def tier(self, gpu_name: str, visible_memory_gib: float) -> Literal["huge", "large", "small"]:
        """Which set of scheduler defaults a GPU gets (vLLM EngineArgs.get_batch_defaults)."""
        if self.huge_gpu_threshold_gib is not None and visible_memory_gib >= self.huge_gpu_threshold_gib:
            return "huge"
        excluded = _name_matches(self.large_tier_excluded_gpus, gpu_name)
        return "large" if visible_memory_gib >= self.large_gpu_threshold_gib and not excluded else "small"

    def max_num_seqs(self, visible_memory_gib: float, gpu_name: str = "") -> int:
        """Default --max-num-seqs for a GPU of this size (and name)."""
        tier = self.tier(gpu_name, visible_memory_gib)
        if tier == "huge" and self.max_num_seqs_huge:
            return self.max_num_seqs_huge
        return self.max_num_seqs_large if tier != "small" else self.max_num_seqs_small

    def max_num_batched_tokens(self, visible_memory_gib: float, max_model_len: int, gpu_name: str = "") -> int:
        """Default --max-num-batched-tokens for a GPU of this size (and name) and a max_model_len."""
        if self.chunked_prefill_always:
            tier = self.tier(gpu_name, visible_memory_gib)
            if tier == "huge" and self.max_num_batched_tokens_huge:
                return self.max_num_batched_tokens_huge
            return self.max_num_batched_tokens_large if tier != "small" else self.max_num_batched_tokens_small
        if max_model_len > self.chunked_prefill_threshold_tokens:
            return self.chunked_prefill_batched_tokens
        return max(max_model_len, self.max_num_batched_tokens_small)


@cache
def all_engines() -> dict[str, EngineProfile]:
    """Every engine profile, by name."""
    data = read_toml("engines.toml")
    factors = data[STEP_TIME_TABLE]
    return {
        name: EngineProfile(name=name, step_time_factor=factors[name], **values)
        for name, values in data.items()
        if name not in ("default", STEP_TIME_TABLE)
    }


def step_time_factor(engine_name: str) -> float:
    """The named speed bias of an engine (engines.toml [step_time_factor]), including reference engines that have no
    memory profile here (TensorRT-LLM versions the calibration data were measured on)."""
    factors = read_toml("engines.toml")[STEP_TIME_TABLE]
    if engine_name not in factors:
        raise UnknownNameError(
            "engine", engine_name, factors, "add it to [step_time_factor] in sizing/data/engines.toml."
        )
    return float(factors[engine_name])


def default_engine_name() -> str:
    """The profile the planner uses unless told otherwise."""
    return read_toml("engines.toml")["default"]["name"]


def get_engine(name: str | None = None) -> EngineProfile:
    """An engine profile by name (None: the default)."""
    name = name or default_engine_name()
    if name not in all_engines():
        raise UnknownNameError("engine profile", name, all_engines(), "pick a profile from sizing/data/engines.toml.")
    return all_engines()[name]


def engine_and_factor(name: str | None) -> tuple[EngineProfile, float, str]:
    """(memory profile, step-time factor, engine name) for `speed` and `calibrate --engine`: every engine with a
    step-time factor is accepted; one without a memory profile here (a TensorRT-LLM or NIM version the calibration data
    were measured on) keeps the default profile's memory and scheduler limits."""
    name = name or default_engine_name()
    factor = step_time_factor(name)
    return (all_engines()[name] if name in all_engines() else get_engine()), factor, name
