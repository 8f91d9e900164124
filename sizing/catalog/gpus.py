"""GPU specifications (sizing/data/gpus.csv)."""

from functools import cache
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.files import as_bool, optional_float, read_csv
from sizing.errors import UnknownGpuError
from sizing.units import BYTES_PER_GIB

Interconnect = Literal["nvswitch", "pcie", "unified"]
ComputeDtype = Literal["fp32", "bf16", "fp16", "fp8", "int8"]


class GpuSpec(BaseModel):
    """One GPU model, as the serving engine sees it."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    """Catalog name, e.g. 'H100-SXM-80GB'."""
    aliases: tuple[str, ...] = ()
    """Other accepted names ('H100')."""
    provisionable: bool
    """True when AWS sells it; False for local hardware that can be evaluated but never provisioned."""
    marketed_memory_gb: float = Field(gt=0)
    """Memory as marketed, decimal GB (10^9 bytes)."""
    visible_memory_gib: float = Field(gt=0)
    """Memory torch reports (what vLLM budgets from), GiB."""
    hbm_bandwidth_gbps: float = Field(gt=0)
    """Peak memory bandwidth, GB/s (10^9 bytes per second)."""
    dense_tflops: dict[str, float]
    """Peak dense tensor throughput per compute dtype, TFLOPS (10^12/s). A missing dtype is not supported."""
    decode_bw_efficiency: float = Field(gt=0, le=1)
    """Fraction of peak bandwidth a bandwidth-bound decode step achieves."""
    interconnect: Interconnect
    """GPU-to-GPU path inside one machine."""
    link_bandwidth_gbps: float = Field(gt=0)
    """GPU-to-GPU bandwidth per GPU per direction, GB/s."""
    compute_capability: float | None = None
    """CUDA compute capability (None: not an NVIDIA GPU)."""
    source: str
    """Where the figures come from."""
    as_of: str
    """Date of the figures."""

    @property
    def visible_memory_bytes(self) -> float:
        """Visible memory in bytes."""
        return self.visible_memory_gib * BYTES_PER_GIB

    def tflops(self, dtype: str) -> float:
        """Dense TFLOPS for a compute dtype, falling back to fp16 (e.g. FP8 weights on a GPU without FP8 run as
        W8A16)."""
        if dtype in self.dense_tflops:
            return self.dense_tflops[dtype]
        for fallback in ("bf16", "fp16", "fp32"):
            if fallback in self.dense_tflops:
                return self.dense_tflops[fallback]
        raise KeyError(dtype)


def _row_to_gpu(row: dict[str, str]) -> GpuSpec:
    tflops = {}
    for dtype in ("fp32", "bf16", "fp16", "fp8", "int8"):
        column = f"{dtype}_dense_tops" if dtype == "int8" else f"{dtype}_dense_tflops"
        value = optional_float(row[column])
        if value is not None:
            tflops[dtype] = value
    return GpuSpec(
        name=row["gpu"],
        aliases=tuple(a for a in row["aliases"].split(";") if a),
        provisionable=as_bool(row["provisionable"]),
        marketed_memory_gb=float(row["marketed_memory_gb"]),
        visible_memory_gib=float(row["visible_memory_gib"]),
        hbm_bandwidth_gbps=float(row["hbm_bandwidth_gbps"]),
        dense_tflops=tflops,
        decode_bw_efficiency=float(row["decode_bw_efficiency"]),
        interconnect=cast(Interconnect, row["interconnect"]),
        link_bandwidth_gbps=float(row["link_bandwidth_gbps"]),
        compute_capability=optional_float(row["compute_capability"]),
        source=row["source"],
        as_of=row["as_of"],
    )


@cache
def all_gpus() -> dict[str, GpuSpec]:
    """Every GPU in the catalog, by name."""
    return {row["gpu"]: _row_to_gpu(row) for row in read_csv("gpus.csv")}


@cache
def _index() -> dict[str, str]:
    index = {}
    for gpu in all_gpus().values():
        for name in (gpu.name, *gpu.aliases):
            index[name.lower()] = gpu.name
    return index


def find_gpu(name: str) -> GpuSpec | None:
    """A GPU by name or alias (case-insensitive), or None."""
    key = _index().get(name.strip().lower())
    return all_gpus()[key] if key else None


def get_gpu(name: str) -> GpuSpec:
    """A GPU by name or alias; raises UnknownGpuError with suggestions."""
    gpu = find_gpu(name)
    if gpu is None:
        valid = [n for g in all_gpus().values() for n in (g.name, *g.aliases)]
        raise UnknownGpuError("GPU", name, valid, "pass a GPU name from sizing/data/gpus.csv or an AWS instance type.")
    return gpu
