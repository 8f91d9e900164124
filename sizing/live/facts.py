"""LiveFacts: what pre-flight learned, and where each fact came from. Plain data; no boto3."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.instances import catalog_prices_as_of
from sizing.limits import MAX_USD_PER_HOUR, MIN_USD_PER_HOUR

FactOrigin = Literal["live", "cached", "embedded"]
SpotPrice = Annotated[float, Field(ge=MIN_USD_PER_HOUR, le=MAX_USD_PER_HOUR, allow_inf_nan=False)]
"""A spot price, USD per hour: finite and at least MIN_USD_PER_HOUR (a cached -1, 0, 1e-320, NaN or inf is refused,
never priced)."""


class Provenance(BaseModel):
    """Where a fact came from and when."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    origin: FactOrigin
    """live: fetched now; cached: fetched earlier and still fresh; embedded: the catalog shipped with the code."""
    as_of: str
    """When it was fetched (ISO 8601, UTC), or the catalog's snapshot date."""
    source: str
    """The API or file it came from."""


class QuotaFact(BaseModel):
    """One EC2 vCPU quota as granted to the account."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    name: str
    """Service Quotas name, e.g. 'Running On-Demand P instances'."""
    code: str
    """Quota code, e.g. 'L-417A185B'."""
    vcpus: float = Field(ge=0, allow_inf_nan=False)
    """Granted vCPUs."""


class InstanceSpecFact(BaseModel):
    """An instance type as DescribeInstanceTypes reports it."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    instance_type: str
    """API name."""
    gpus: float = Field(ge=0, le=1024, allow_inf_nan=False)
    """GPU count (fractional for partitions)."""
    gpu_name: str
    """GPU model name."""
    gpu_memory_mib: int = Field(ge=0)
    """Memory per GPU, MiB."""
    vcpus: int = Field(gt=0)
    """Default vCPUs."""
    efa: bool
    """EFA support."""
    network_cards: int = Field(ge=1)
    """Maximum network cards."""


class LiveFacts(BaseModel):
    """Everything pre-flight learned for one region."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    region: str
    """Region."""
    zones: tuple[str, ...] = ()
    """Availability zones of the fleet's subnets."""
    offered_zones: dict[str, tuple[str, ...]] | None = None
    """Per instance type, the fleet's zones it is offered in (None: unknown, the catalog's region list applies)."""
    spot_usd_per_hour: dict[str, SpotPrice] = {}
    """Current lowest spot price per instance type across the fleet's zones."""
    quotas: dict[str, QuotaFact] = {}
    """EC2 vCPU quotas by name."""
    specs: dict[str, InstanceSpecFact] = {}
    """DescribeInstanceTypes facts per instance type."""
    capacity_signals: tuple[str, ...] = ()
    """Optional signals (spot placement scores, Capacity Block offerings)."""
    provenance: dict[str, Provenance] = {}
    """Per fact kind (offerings, specs, spot_prices, quotas): where it came from."""
    notices: tuple[str, ...] = ()
    """One-line notices for the user (fallbacks, skipped checks, catalog drift): every plan made with these facts shows
    them among its warnings."""


def now_iso() -> str:
    """The current time, ISO 8601 UTC, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def embedded_facts(region: str, reason: str) -> LiveFacts:
    """Facts from the embedded catalog only, with a notice saying why and how old the catalog is."""
    as_of = catalog_prices_as_of()
    embedded = Provenance(
        origin="embedded", as_of=as_of, source="sizing/data (instances.csv, prices.csv, families.csv)"
    )
    return LiveFacts(
        region=region,
        provenance={k: embedded for k in ("offerings", "specs", "spot_prices", "quotas")},
        notices=(f"pre-flight: {reason}; using the embedded catalog (prices as of {as_of}); quotas not checked",),
    )
