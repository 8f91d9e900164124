"""AWS GPU instance types, per-region on-demand prices and per-family spot facts (sizing/data/*.csv)."""

from functools import cache
from typing import Literal, cast

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.files import as_bool, optional_float, read_csv
from sizing.catalog.gpus import GpuSpec, get_gpu
from sizing.errors import InvalidInputError, UnknownGpuError, UnknownNameError

GpuLink = Literal["nvswitch", "pcie", "none"]
QuotaGroup = Literal["P", "G"]


class FamilyFacts(BaseModel):
    """Facts shared by every size of one instance family (p5, g6e...)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    family: str
    """Family name, e.g. 'p5'."""
    quota_group: QuotaGroup
    """EC2 vCPU quota group (P or G); on-demand and spot have separate quotas."""
    spot_discount: float = Field(ge=0, lt=1)
    """Typical fraction below the on-demand price."""
    interruption_band: str
    """AWS Spot Instance Advisor band, e.g. '<5%'."""
    interruptions_per_month: float = Field(ge=0)
    """Expected spot interruptions per instance-month."""
    spot_capacity: Literal["plentiful", "scarce"]
    """How readily spot requests are filled."""
    weights_load_gb_per_s: float = Field(gt=0)
    """How fast a fresh node loads weights, GB/s (decimal)."""
    source: str
    """Where the figures come from."""
    as_of: str
    """Date of the figures."""


class InstanceType(BaseModel):
    """One AWS GPU instance type."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    """API name, e.g. 'p5.48xlarge'."""
    family: str
    """Instance family, a row of families.csv."""
    gpu: GpuSpec
    """The GPU model."""
    gpus: float = Field(gt=0)
    """GPUs per instance (fractional for g6f vGPU slices)."""
    vcpus: int = Field(gt=0)
    """vCPUs (what the EC2 quotas count)."""
    memory_gib: float = Field(gt=0)
    """Host RAM, GiB."""
    network_gbps: float = Field(gt=0)
    """Network bandwidth, Gbit/s."""
    efa: bool
    """Elastic Fabric Adapter support (needed for multi-node replicas)."""
    gpu_link: GpuLink
    """How the GPUs inside the instance talk: NVSwitch, PCIe, or none (one GPU)."""
    od_usd_per_hour: dict[str, float]
    """On-demand price per region, USD per instance-hour; a missing region is not offered."""
    not_offered_reason: dict[str, str]
    """Why the type is not offered in a region, for regions in the catalog that lack it."""
    capacity_block_usd_per_hour: dict[str, float] = {}
    """EC2 Capacity Block effective rate per region, USD per instance-hour (capacity_blocks.csv); missing: none
    known."""
    price_as_of: str
    """Date of the price snapshot."""

    @property
    def whole_gpus(self) -> int:
        """GPUs usable by a serving engine (0 for a fractional vGPU)."""
        return int(self.gpus) if self.gpus >= 1 else 0

    @property
    def facts(self) -> FamilyFacts:
        """Family facts (quota group, spot)."""
        return all_families()[self.family]


@cache
def all_families() -> dict[str, FamilyFacts]:
    """Every instance family in the catalog."""
    return {
        r["family"]: FamilyFacts.model_validate(r)  # the CSV columns are the fields; pydantic converts and checks them
        for r in read_csv("families.csv")
    }


@cache
def all_regions() -> tuple[str, ...]:
    """Regions the price catalog covers."""
    return tuple(sorted({r["region"] for r in read_csv("prices.csv")}))


@cache
def all_instance_types() -> dict[str, InstanceType]:
    """Every instance type in the catalog, by name."""
    prices: dict[str, dict[str, float]] = {}
    missing: dict[str, dict[str, str]] = {}
    as_of: dict[str, str] = {}
    for r in read_csv("prices.csv"):
        price = optional_float(r["od_usd_per_hour"])
        if as_bool(r["offered"]) and price is not None:
            prices.setdefault(r["instance_type"], {})[r["region"]] = price
        else:
            missing.setdefault(r["instance_type"], {})[r["region"]] = r["source"]
        as_of[r["instance_type"]] = r["as_of"]
    blocks: dict[str, dict[str, float]] = {}
    for r in read_csv("capacity_blocks.csv"):
        blocks.setdefault(r["instance_type"], {})[r["region"]] = float(r["usd_per_hour"])
    return {
        r["instance_type"]: InstanceType(
            name=r["instance_type"],
            family=r["family"],
            gpu=get_gpu(r["gpu"]),
            gpus=float(r["gpus"]),
            vcpus=int(r["vcpus"]),
            memory_gib=float(r["memory_gib"]),
            network_gbps=float(r["network_gbps"]),
            efa=as_bool(r["efa"]),
            gpu_link=cast(GpuLink, r["gpu_link"]),
            od_usd_per_hour=prices.get(r["instance_type"], {}),
            not_offered_reason=missing.get(r["instance_type"], {}),
            price_as_of=as_of.get(r["instance_type"], r["as_of"]),
            capacity_block_usd_per_hour=blocks.get(r["instance_type"], {}),
        )
        for r in read_csv("instances.csv")
    }


class NotPlanned(BaseModel):
    """An AWS accelerated instance type the planner does not size (Neuron, Qualcomm, AMD, arm64 hosts), and why."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    instance_type: str
    """API name, e.g. 'inf2.xlarge'."""
    family: str
    """Instance family."""
    accelerator: str
    """Accelerator model, e.g. 'AWS Inferentia2'."""
    accelerators: int = Field(ge=0)
    """Accelerators per instance."""
    regions: tuple[str, ...]
    """Regions with an on-demand price (empty: Capacity Blocks only, listed in every region)."""
    reason: str
    """Why the planner does not consider it."""


@cache
def not_planned_types() -> dict[str, NotPlanned]:
    """Accelerated instance types listed only to say why they are not planned (sizing/data/not_planned.csv)."""
    return {
        r["instance_type"]: NotPlanned(
            instance_type=r["instance_type"],
            family=r["family"],
            accelerator=r["accelerator"],
            accelerators=int(r["accelerators"]),
            regions=tuple(x for x in r["regions"].split(";") if x),
            reason=r["reason"],
        )
        for r in read_csv("not_planned.csv")
    }


def catalog_prices_as_of(instances: list[InstanceType] | None = None) -> str:
    """Date of the oldest price snapshot among these instance types (default: the whole catalog)."""
    return min(i.price_as_of for i in (instances if instances is not None else all_instance_types().values()))


def _refuse_not_planned(name: str) -> None:
    """A clear error for an accelerated type the planner lists only as not planned (Neuron, Qualcomm, AMD...)."""
    known = not_planned_types().get(name.strip().lower())
    if known is not None:
        raise InvalidInputError(
            f"{name!r} has {known.accelerators} x {known.accelerator}: {known.reason}. "
            "To fix: pass an NVIDIA GPU instance type from sizing/data/instances.csv."
        )


def get_instance_type(name: str) -> InstanceType:
    """An instance type by API name; raises UnknownGpuError with suggestions."""
    found = all_instance_types().get(name.strip().lower())
    if found is None:
        _refuse_not_planned(name)
        raise UnknownGpuError(
            "instance type",
            name,
            all_instance_types().keys(),
            "pass an AWS GPU instance type from sizing/data/instances.csv.",
        )
    return found


def check_region(region: str) -> str:
    """The region if the price catalog covers it; raises UnknownNameError otherwise."""
    if region not in all_regions():
        raise UnknownNameError(
            "region", region, all_regions(), "pick a covered region, or add its prices to sizing/data/prices.csv."
        )
    return region


def resolve_gpu_or_instance(name: str) -> tuple[GpuSpec, InstanceType | None]:
    """A GPU name or an AWS instance type, as (GPU, instance or None)."""
    from sizing.catalog.gpus import all_gpus, find_gpu

    gpu = find_gpu(name)
    if gpu is not None:
        return gpu, None
    instance = all_instance_types().get(name.strip().lower())
    if instance is not None:
        return instance.gpu, instance
    _refuse_not_planned(name)
    valid = [n for g in all_gpus().values() for n in (g.name, *g.aliases)] + list(all_instance_types())
    raise UnknownGpuError(
        "GPU or instance type", name, valid, "pass a GPU (gpus.csv) or an AWS instance type (instances.csv)."
    )
