"""EC2 vCPU quotas: which quota a fleet draws on, and what a shortfall says. Pure; no boto3."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sizing.catalog.instances import QuotaGroup, get_instance_type
from sizing.live.facts import LiveFacts

Market = Literal["on-demand", "spot"]

QUOTA_NAMES: dict[tuple[QuotaGroup, Market], str] = {
    ("P", "on-demand"): "Running On-Demand P instances",
    ("G", "on-demand"): "Running On-Demand G and VT instances",
    ("P", "spot"): "All P Spot Instance Requests",
    ("G", "spot"): "All G and VT Spot Instance Requests",
}
"""Service Quotas names of the EC2 vCPU quotas GPU fleets draw on (service code ec2)."""


@dataclass(frozen=True)
class QuotaCheck:
    """One quota against what the fleet needs at its ceiling."""

    name: str
    """Quota name."""
    code: str
    """Quota code ('' when unknown)."""
    needed_vcpus: int
    """vCPUs the fleet needs at its ceiling on this quota."""
    granted_vcpus: float | None
    """vCPUs granted (None: not known)."""
    region: str
    """Region."""

    @property
    def short(self) -> bool:
        """The grant is known and below the need."""
        return self.granted_vcpus is not None and self.granted_vcpus < self.needed_vcpus

    @property
    def request_command(self) -> str:
        """The exact command that asks AWS for the missing vCPUs."""
        return (
            f"aws service-quotas request-service-quota-increase --service-code ec2 --quota-code {self.code} "
            f"--desired-value {self.needed_vcpus} --region {self.region}"
        )

    @property
    def message(self) -> str:
        """What is short, by how much, and how to fix it."""
        return (
            f"EC2 quota {self.name!r} ({self.code}) in {self.region}: the fleet needs {self.needed_vcpus} vCPUs at its "
            f"ceiling, {self.granted_vcpus:g} are granted. To fix: {self.request_command}"
        )


def check_quotas(
    facts: LiveFacts, instance_type: str, on_demand_instances: int, spot_instances: int
) -> list[QuotaCheck]:
    """The quotas a fleet of this type draws on, at its ceiling (every replica, every node), on-demand and spot."""
    instance = get_instance_type(instance_type)
    vcpus = facts.specs[instance_type].vcpus if instance_type in facts.specs else instance.vcpus
    checks = []
    markets: tuple[tuple[Market, int], ...] = (("on-demand", on_demand_instances), ("spot", spot_instances))
    for market, count in markets:
        if count <= 0:
            continue
        name = QUOTA_NAMES[(instance.facts.quota_group, market)]
        fact = facts.quotas.get(name)
        checks.append(
            QuotaCheck(
                name=name,
                code=fact.code if fact else "",
                needed_vcpus=count * vcpus,
                granted_vcpus=fact.vcpus if fact else None,
                region=facts.region,
            )
        )
    return checks
