"""Pre-flight: gather live facts for a fleet, from the disk cache or AWS, falling back to the embedded catalog."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.instances import all_instance_types
from sizing.live import cache
from sizing.live.facts import InstanceSpecFact, LiveFacts, Provenance, QuotaFact, embedded_facts, now_iso

SWITCH_ENV = "LLMFLEET_PREFLIGHT"
"""Set to 'off' to skip AWS entirely (the mocked preview does)."""

ClientFactory = Callable[[str], Any]
"""service name -> boto3 client."""


class PreflightOptions(BaseModel):
    """Pre-flight settings (stack config key llmfleet:preflight)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    enabled: bool = True
    """Check the account before planning (offerings, specs, spot prices, quotas)."""
    on_quota_shortfall: Literal["fail", "warn"] = "fail"
    """A quota below the fleet's ceiling fails the preview, or only warns."""
    cache_ttl_s: float = Field(default=cache.DEFAULT_TTL_S, ge=0)
    """How long cached answers stay fresh, seconds (0: always ask AWS)."""
    cache_dir: str | None = None
    """Cache folder (None: $LLMFLEET_CACHE_DIR or ~/.cache/llm-fleet)."""
    capacity_signals: bool = False
    """Also ask for spot placement scores and Capacity Block offerings (where the account has them)."""


def boto_clients(region: str) -> ClientFactory | str:
    """A client factory, or why there cannot be one."""
    try:
        import boto3
    except ImportError:
        return "boto3 is not installed"
    from sizing.live.aws import client_config

    session = boto3.Session(region_name=region)
    if session.get_credentials() is None:
        return "no AWS credentials"
    config = client_config()
    return lambda service: session.client(service, region_name=region, config=config)


def _aws_errors() -> tuple[type[BaseException], ...]:
    from botocore.exceptions import BotoCoreError, ClientError

    return (BotoCoreError, ClientError)


class _Gatherer:
    """Fetches each kind of fact once: from the cache when fresh, else from AWS."""

    def __init__(self, region: str, clients: ClientFactory, options: PreflightOptions) -> None:
        self.region, self.clients, self.options = region, clients, options
        self.cache_dir = Path(options.cache_dir) if options.cache_dir else cache.default_cache_dir()
        self.provenance: dict[str, Provenance] = {}
        self.notices: list[str] = []

    def fetch(self, kind: str, source: str, params: tuple, call: Callable[[], Any]) -> Any:
        key = (kind, self.region, params)
        hit = cache.read(self.cache_dir, key, self.options.cache_ttl_s) if self.options.cache_ttl_s else None
        if hit is not None:
            value, fetched_at = hit
            self.provenance[kind] = Provenance(origin="cached", as_of=fetched_at, source=source)
            return value
        try:
            value = call()
        except _aws_errors() as exc:
            self.notices.append(f"pre-flight: {source} failed ({type(exc).__name__}: {exc}); using the embedded catalog for {kind}")
            return None
        fetched_at = now_iso()
        cache.write(self.cache_dir, key, value, fetched_at)
        self.provenance[kind] = Provenance(origin="live", as_of=fetched_at, source=source)
        return value


def gather(region: str, subnet_ids: tuple[str, ...], instance_types: list[str] | None, options: PreflightOptions,
           clients: ClientFactory | None = None) -> LiveFacts:
    """Live facts for a fleet in `region` on these subnets (none: the zones a created VPC would use)."""
    if not options.enabled:
        return embedded_facts(region, "disabled in the stack config (llmfleet:preflight.enabled)")
    if os.environ.get(SWITCH_ENV, "").lower() == "off":
        return embedded_facts(region, f"skipped ({SWITCH_ENV}=off)")
    made = clients or boto_clients(region)
    if isinstance(made, str):
        return embedded_facts(region, made)
    from sizing.live import aws

    types = sorted(instance_types or [t.name for t in all_instance_types().values() if t.whole_gpus])
    g = _Gatherer(region, made, options)
    ec2 = made("ec2")
    zones = g.fetch("zones", "ec2:DescribeSubnets/DescribeAvailabilityZones", subnet_ids,
                    lambda: aws.fleet_zones(ec2, subnet_ids))
    if zones is None:
        return embedded_facts(region, g.notices[0].removeprefix("pre-flight: ") if g.notices else "AWS unreachable")
    offered = g.fetch("offerings", "ec2:DescribeInstanceTypeOfferings", (tuple(types), tuple(zones)),
                      lambda: aws.offerings(ec2, types, zones))
    specs = g.fetch("specs", "ec2:DescribeInstanceTypes", tuple(types), lambda: aws.instance_specs(ec2, types))
    spot = g.fetch("spot_prices", "ec2:DescribeSpotPriceHistory", (tuple(types), tuple(zones)),
                   lambda: aws.spot_prices(ec2, types, zones))
    quota = g.fetch("quotas", "service-quotas:ListServiceQuotas", (), lambda: aws.quotas(made("service-quotas")))
    return LiveFacts(
        region=region, zones=tuple(zones),
        offered_zones={t: tuple(z) for t, z in offered.items()} if offered is not None else None,
        spot_usd_per_hour=spot or {}, quotas={k: QuotaFact(**v) for k, v in (quota or {}).items()},
        specs={k: InstanceSpecFact(**v) for k, v in (specs or {}).items()},
        provenance=g.provenance, notices=tuple(g.notices),
    )


def capacity_signals(facts: LiveFacts, instance_type: str, instances: int, clients: ClientFactory) -> LiveFacts:
    """Add spot placement scores and Capacity Block offerings for the chosen type, where the account has them."""
    from sizing.live import aws

    ec2 = clients("ec2")
    signals = list(facts.capacity_signals)
    for ask in (lambda: aws.placement_scores(ec2, [instance_type], facts.region, instances),
                lambda: aws.capacity_blocks(ec2, instance_type, instances, 24)):
        try:
            signals += ask()
        except _aws_errors() as exc:
            signals.append(f"capacity signal unavailable ({type(exc).__name__})")
    return facts.model_copy(update={"capacity_signals": tuple(signals)})
