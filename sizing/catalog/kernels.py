"""Kernel paths (sizing/data/kernels.toml): which vLLM kernels run a weight format on a GPU generation, and the factors
by which they fall short of the speed model's defaults (checked on Hopper)."""

from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.files import read_toml
from sizing.catalog.formats import WeightFormat
from sizing.catalog.gpus import GpuSpec

Maturity = Literal["native", "fallback", "immature"]

KERNELS_FILE = "kernels.toml"
"""The data file of this module."""
MAX_KERNEL_FACTOR = 2.0
"""Largest efficiency factor a path may claim: a kernel faster than twice the defaults would mean the defaults are
wrong, not the kernel."""


class Generation(BaseModel):
    """A GPU generation: a range of CUDA compute capabilities."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    """Key in kernels.toml, e.g. 'hopper'."""
    min_capability: float = Field(ge=0)
    """Lowest compute capability of the generation (inclusive)."""
    max_capability: float = Field(gt=0)
    """End of the range (exclusive)."""
    description: str
    """The generation in words, with its GPUs."""


class KernelPath(BaseModel):
    """The kernels one weight format runs on one GPU generation, and their efficiency against the defaults."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    generation: str
    """Generation key (kernels.toml [generations])."""
    weights: str
    """Weight format name (weight_formats.csv)."""
    kernel: str
    """The kernels vLLM selects, in words."""
    maturity: Maturity
    """native, fallback (weight-only or emulated) or immature (measured well below the hardware)."""
    prefill_dtype: str = ""
    """Tensor-core dtype the matmuls run in ('' : the format's compute_dtype)."""
    decode_bw_factor: float = Field(default=1.0, gt=0, le=MAX_KERNEL_FACTOR)
    """Share of the GPU's decode bandwidth efficiency that weight reads reach on this path."""
    prefill_efficiency_factor: float = Field(default=1.0, gt=0, le=MAX_KERNEL_FACTOR)
    """Share of prefill_compute_efficiency (of the prefill_dtype peak) the matmuls reach on this path."""
    moe_layer_latency_us: float | None = Field(default=None, ge=0)
    """Fixed kernel time of one MoE layer per step on this path, microseconds (None: the assumption's value)."""
    source: str = ""
    """Where the row's kernel choice and numbers come from."""
    as_of: str = ""
    """Date of the row."""

    @property
    def warns(self) -> bool:
        """Plans on this path carry a warning (weight-only fallbacks and immature kernels)."""
        return self.maturity != "native"

    def compute_dtype(self, fmt: WeightFormat) -> str:
        """The tensor-core dtype prefill and batched decode matmuls run in."""
        return self.prefill_dtype or fmt.compute_dtype

    def warning(self, gpu: GpuSpec) -> str:
        """What a plan on this path should know, with the source."""
        what = (
            "runs weight-only (smaller, not faster than 16-bit)"
            if self.maturity == "fallback"
            else "runs on kernels measured well below the hardware"
        )
        return f"{self.weights} on {gpu.name} ({self.generation}) {what}: {self.kernel}. Source: {self.source}"


@cache
def generations() -> dict[str, Generation]:
    """Every generation, by key."""
    return {name: Generation(name=name, **values) for name, values in read_toml(KERNELS_FILE)["generations"].items()}


@cache
def _paths() -> dict[tuple[str, str], KernelPath]:
    return {(p["generation"], p["weights"]): KernelPath(**p) for p in read_toml(KERNELS_FILE)["path"]}


def generation_of(gpu: GpuSpec) -> Generation | None:
    """The GPU's generation (None: not an NVIDIA GPU, or older than the table)."""
    return _generation_at(gpu.compute_capability)


def _generation_at(cc: float | None) -> Generation | None:
    if cc is None:
        return None
    return next((g for g in generations().values() if g.min_capability <= cc < g.max_capability), None)


def kernel_path(gpu: GpuSpec, fmt: WeightFormat) -> KernelPath:
    """The kernel path of `fmt` on `gpu`: the table's row, or the format's native kernels at the defaults."""
    return _kernel_path(gpu.compute_capability, fmt.name)


@cache
def _kernel_path(compute_capability: float | None, weights: str) -> KernelPath:
    """kernel_path by what it reads (every replica's speed model asks, a few hundred times a plan)."""
    gen = _generation_at(compute_capability)
    name = gen.name if gen else "other"
    row = _paths().get((name, weights))
    return row or KernelPath(generation=name, weights=weights, kernel="the format's native kernels", maturity="native")
