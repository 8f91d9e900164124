"""Pre-flight: gather live facts for a fleet, from the disk cache or AWS, falling back to the embedded catalog."""

import functools
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from sizing.catalog.instances import all_instance_types
from sizing.live import cache
from sizing.live.drift import drift_warnings
from sizing.live.facts import InstanceSpecFact, LiveFacts, Provenance, QuotaFact, SpotPrice, embedded_facts, now_iso
from sizing.numbers import Float
from sizing.redact import redact

SWITCH_ENV = "LLMFLEET_PREFLIGHT"
"""Set to 'off' to skip AWS entirely (the mocked preview does)."""

ClientFactory = Callable[[str], Any]
"""service name -> boto3 client."""


class PreflightOptions(BaseModel):
    """Pre-flight settings (stack config key llmfleet:preflight)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    enabled: bool = True
    """Check the account before planning (offerings, specs, spot prices, quotas)."""
    on_quota_shortfall: Literal["fail", "warn"] = "fail"
    """A quota below the fleet's ceiling fails the preview, or only warns."""
    cache_ttl_s: Float = Field(default=cache.DEFAULT_TTL_S, ge=0)
    """How long cached answers stay fresh, seconds (0: always ask AWS)."""
    cache_dir: str | None = None
    """Cache folder (None: $LLMFLEET_CACHE_DIR or ~/.cache/llm-fleet)."""
    capacity_signals: bool = False
    """Also ask for spot placement scores and Capacity Block offerings (where the account has them)."""


DEADLINE_S = 30.0
"""All of pre-flight's AWS calls together get this long; past it, the embedded catalog is used (a stalling endpoint
must not hold a preview for minutes)."""
FAILURE_TTL_S = 300.0
"""After an AWS fault, pre-flight uses the embedded catalog without asking AWS again for this long."""
FAILURE_KIND = "failure"
"""Cache kind recording the last AWS fault of a region."""

NAME_MAX_CHARS = 64
"""Longest zone or instance type name taken from AWS or the cache (the longest today are under 30)."""
ZoneName = Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z0-9]+)+$", max_length=NAME_MAX_CHARS)]
"""An Availability, Local or Wavelength Zone name (us-east-1a, us-west-2-lax-1a, us-east-1-wl1-bos-wlz-1: lower-case
letters, digits and hyphens; https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/using-regions-availability-zones.html).
A cached name with spaces, control characters or Markdown is refused before it can reach a terminal or a PR report."""
TypeName = Annotated[str, Field(pattern=r"^[a-z0-9-]+\.[a-z0-9-]+$", max_length=NAME_MAX_CHARS)]
"""An EC2 instance type name, family.size (p5.48xlarge, u-6tb1.metal;
https://docs.aws.amazon.com/ec2/latest/instancetypes/instance-type-names.html)."""

FACT_SHAPES: dict[str, TypeAdapter] = {
    "zones": TypeAdapter(list[ZoneName]),
    "offerings": TypeAdapter(dict[TypeName, list[ZoneName]]),
    "specs": TypeAdapter(dict[TypeName, InstanceSpecFact]),
    "spot_prices": TypeAdapter(dict[TypeName, SpotPrice]),
    "quotas": TypeAdapter(dict[str, QuotaFact]),
}
"""What each kind of fact must look like, cached or live, before it is used: finite, positive prices included."""


def boto_clients(region: str) -> ClientFactory | str:
    """A client factory, or why there cannot be one (no boto3, no credentials, a bad profile or endpoint)."""
    try:
        import boto3
    except ImportError:
        return "boto3 is not installed"
    from sizing.live.aws import client_config

    try:
        session = boto3.Session(region_name=region)
        if session.get_credentials() is None:
            return "no AWS credentials"
        config = client_config()
        session.client("ec2", region_name=region, config=config)  # a malformed AWS_ENDPOINT_URL fails here
    except Exception as exc:  # noqa: BLE001 - ProfileNotFound, a malformed endpoint, an unreadable config file...
        return f"AWS setup failed ({_describe(exc)})"
    return lambda service: session.client(service, region_name=region, config=config)


def _describe(exc: BaseException) -> str:
    return redact(f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}")


def _within(deadline: float, call: Callable[[], Any]) -> Any:
    """call() in a daemon thread, given until the monotonic `deadline`; raises TimeoutError past it."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed back to the caller's thread
            result["error"] = exc

    worker = threading.Thread(target=run, daemon=True, name="llmfleet-preflight")
    worker.start()
    worker.join(max(0.0, deadline - time.monotonic()))
    if worker.is_alive():
        raise TimeoutError("no answer within the pre-flight deadline")
    if "error" in result:
        raise result["error"]
    return result["value"]


class _Gatherer:
    """Fetches each kind of fact once: from the cache when fresh and sound, else from AWS until the first fault, which
    is said once; from then on (and for FAILURE_TTL_S in later runs) the embedded catalog stands in."""

    def __init__(self, region: str, clients: ClientFactory, options: PreflightOptions, deadline_s: float) -> None:
        self.region, self.clients, self.options = region, clients, options
        self.cache_dir = Path(options.cache_dir) if options.cache_dir else cache.default_cache_dir()
        self.provenance: dict[str, Provenance] = {}
        self.notices: list[str] = []
        self.fault: str | None = None
        self.deadline = time.monotonic() + deadline_s

    def _cached(self, key: tuple, ttl_s: float, validate: Callable[[Any], Any]) -> tuple[Any, str] | None:
        if not ttl_s:
            return None
        try:
            return cache.read(self.cache_dir, key, ttl_s, validate)
        except cache.CorruptEntry as exc:
            self.notices.append(f"pre-flight: {exc}; asking AWS again")
            return None

    def recent_fault(self) -> str | None:
        """Why AWS failed in a run shortly before this one, if it did."""
        hit = self._cached(
            (FAILURE_KIND, self.region),
            min(FAILURE_TTL_S, self.options.cache_ttl_s),
            TypeAdapter(Annotated[str, Field(max_length=500)]).validate_python,
        )
        return f"{hit[0]} at {hit[1]}; not retried for {FAILURE_TTL_S:.0f} s" if hit else None

    def fetch(self, kind: str, source: str, params: tuple, call: Callable[[], Any]) -> Any:
        key = (kind, self.region, params)
        shape = FACT_SHAPES[kind]
        hit = self._cached(key, self.options.cache_ttl_s, shape.validate_python)
        if hit is not None:
            value, fetched_at = hit
            self.provenance[kind] = Provenance(origin="cached", as_of=fetched_at, source=source)
            return value
        if self.fault:
            return None
        try:
            value = shape.validate_python(_within(self.deadline, call))
        except Exception as exc:  # noqa: BLE001 - unreachable, stalled, throttled past retries, garbage: all fall back
            self.fault = f"{source} failed ({_describe(exc)})"
            self.notices.append(f"pre-flight: {self.fault}; using the embedded catalog for the facts not yet fetched")
            cache.write(self.cache_dir, (FAILURE_KIND, self.region), self.fault, now_iso())
            return None
        fetched_at = now_iso()
        cache.write(self.cache_dir, key, shape.dump_python(value, mode="json"), fetched_at)
        self.provenance[kind] = Provenance(origin="live", as_of=fetched_at, source=source)
        return value


def gather(
    region: str,
    subnet_ids: tuple[str, ...],
    instance_types: list[str] | None,
    options: PreflightOptions,
    clients: ClientFactory | None = None,
    deadline_s: float = DEADLINE_S,
) -> LiveFacts:
    """Live facts for a fleet in `region` on these subnets (none: the zones a created VPC would use), within one
    overall deadline; any AWS fault falls back to the embedded catalog with one notice."""
    if not options.enabled:
        return embedded_facts(region, "disabled in the stack config (llmfleet:preflight.enabled)")
    if os.environ.get(SWITCH_ENV, "").lower() == "off":
        return embedded_facts(region, f"skipped ({SWITCH_ENV}=off)")
    made = clients or boto_clients(region)
    if isinstance(made, str):
        return embedded_facts(region, made)
    from sizing.live import aws

    types = sorted(instance_types or [t.name for t in all_instance_types().values() if t.whole_gpus])
    made = functools.cache(made)  # one client per service
    g = _Gatherer(region, made, options, deadline_s)
    recent = g.recent_fault()
    if recent:
        return embedded_facts(region, f"AWS failed recently ({recent})")
    zones = g.fetch(
        "zones",
        "ec2:DescribeSubnets/DescribeAvailabilityZones",
        subnet_ids,
        lambda: aws.fleet_zones(made("ec2"), subnet_ids),
    )
    if zones is None:
        return embedded_facts(region, (g.fault or "AWS unreachable") + "".join(f"; {n}" for n in g.notices[:-1]))
    offered = g.fetch(
        "offerings",
        "ec2:DescribeInstanceTypeOfferings",
        (tuple(types), tuple(zones)),
        lambda: aws.offerings(made("ec2"), types, zones),
    )
    specs = g.fetch("specs", "ec2:DescribeInstanceTypes", tuple(types), lambda: aws.instance_specs(made("ec2"), types))
    spot = g.fetch(
        "spot_prices",
        "ec2:DescribeSpotPriceHistory",
        (tuple(types), tuple(zones)),
        lambda: aws.spot_prices(made("ec2"), types, zones),
    )
    quota = g.fetch("quotas", "service-quotas:ListServiceQuotas", (), lambda: aws.quotas(made("service-quotas")))
    facts = LiveFacts(
        region=region,
        zones=tuple(zones),
        offered_zones={t: tuple(z) for t, z in offered.items()} if offered is not None else None,
        spot_usd_per_hour=spot or {},
        quotas=quota or {},
        specs=specs or {},
        provenance=g.provenance,
        notices=tuple(g.notices),
    )
    drift = tuple(f"pre-flight: {warning}" for warning in drift_warnings(facts))  # shown with the plan's warnings
    return facts.model_copy(update={"notices": facts.notices + drift}) if drift else facts


def capacity_signals(facts: LiveFacts, instance_type: str, instances: int, clients: ClientFactory) -> LiveFacts:
    """Add spot placement scores and Capacity Block offerings for the chosen type, where the account has them."""
    from sizing.live import aws

    ec2 = clients("ec2")
    signals = list(facts.capacity_signals)
    for ask in (
        lambda: aws.placement_scores(ec2, [instance_type], facts.region, instances),
        lambda: aws.capacity_blocks(ec2, instance_type, instances, 24),
    ):
        try:
            signals += _within(time.monotonic() + DEADLINE_S / 2, ask)
        except Exception as exc:  # noqa: BLE001 - a signal is optional: any fault only says it is unavailable
            signals.append(f"capacity signal unavailable ({type(exc).__name__})")
    return facts.model_copy(update={"capacity_signals": tuple(signals)})
