"""The AWS calls of pre-flight. boto3/botocore are imported inside the functions that need them, never at module load.

Every client gets botocore's standard retry mode and bounded timeouts, so throttling is retried and a preview never
hangs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sizing.live.facts import InstanceSpecFact, QuotaFact
from sizing.live.quotas import QUOTA_NAMES

MAX_ATTEMPTS = 5
"""botocore standard mode: exponential backoff with jitter on throttling and transient errors."""
CONNECT_TIMEOUT_S = 3
READ_TIMEOUT_S = 10
TYPES_PER_CALL = 100
"""DescribeInstanceTypes accepts at most 100 names per call."""
LINUX = "Linux/UNIX"
ZONES_CREATED = 2
"""A created VPC uses the first two available zones (components/network.py builds its subnets from this)."""


def client_config() -> Any:
    """botocore Config with standard retries and bounded timeouts."""
    from botocore.config import Config

    return Config(
        retries={"mode": "standard", "max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )


def fleet_zones(ec2: Any, subnet_ids: tuple[str, ...]) -> list[str]:
    """Zones of the given subnets, or the first available zones a created VPC would use."""
    if subnet_ids:
        subnets = ec2.describe_subnets(SubnetIds=list(subnet_ids))["Subnets"]
        return sorted({s["AvailabilityZone"] for s in subnets})
    zones = ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["available"]}])["AvailabilityZones"]
    return sorted(z["ZoneName"] for z in zones)[:ZONES_CREATED]


def offerings(ec2: Any, instance_types: list[str], zones: list[str]) -> dict[str, list[str]]:
    """Per instance type, the zones (of those given) that offer it."""
    found: dict[str, list[str]] = {t: [] for t in instance_types}
    paginator = ec2.get_paginator("describe_instance_type_offerings")
    for page in paginator.paginate(
        LocationType="availability-zone",
        Filters=[{"Name": "instance-type", "Values": instance_types}, {"Name": "location", "Values": zones}],
    ):
        for offer in page["InstanceTypeOfferings"]:
            found.setdefault(offer["InstanceType"], []).append(offer["Location"])
    return {t: sorted(set(z)) for t, z in found.items()}


def instance_specs(ec2: Any, instance_types: list[str]) -> dict[str, dict]:
    """DescribeInstanceTypes facts (GPUs, GPU memory, vCPUs, EFA, network cards) per type."""
    specs = {}
    for start in range(0, len(instance_types), TYPES_PER_CALL):
        batch = instance_types[start : start + TYPES_PER_CALL]
        for page in ec2.get_paginator("describe_instance_types").paginate(InstanceTypes=batch):
            for it in page["InstanceTypes"]:
                gpus = (it.get("GpuInfo") or {}).get("Gpus") or [{}]
                net = it.get("NetworkInfo", {})
                specs[it["InstanceType"]] = InstanceSpecFact(
                    instance_type=it["InstanceType"],
                    gpus=sum(g.get("Count", 0) for g in gpus),
                    gpu_name=gpus[0].get("Name", ""),
                    gpu_memory_mib=gpus[0].get("MemoryInfo", {}).get("SizeInMiB", 0),
                    vcpus=it["VCpuInfo"]["DefaultVCpus"],
                    efa=bool(net.get("EfaSupported")),
                    network_cards=net.get("MaximumNetworkCards", 1),
                ).model_dump()
    return specs


def spot_prices(ec2: Any, instance_types: list[str], zones: list[str]) -> dict[str, float]:
    """Current spot price per type: the latest price in each zone, the lowest across the fleet's zones."""
    latest: dict[tuple[str, str], tuple[datetime, float]] = {}
    paginator = ec2.get_paginator("describe_spot_price_history")
    for page in paginator.paginate(
        InstanceTypes=instance_types, ProductDescriptions=[LINUX], StartTime=datetime.now(UTC)
    ):
        for p in page["SpotPriceHistory"]:
            if zones and p["AvailabilityZone"] not in zones:
                continue
            key = (p["InstanceType"], p["AvailabilityZone"])
            if key not in latest or p["Timestamp"] > latest[key][0]:
                latest[key] = (p["Timestamp"], float(p["SpotPrice"]))
    prices: dict[str, float] = {}
    for (itype, _), (_, price) in latest.items():
        prices[itype] = min(price, prices.get(itype, price))
    return prices


def quotas(service_quotas: Any) -> dict[str, dict]:
    """The GPU-relevant EC2 vCPU quotas, looked up by name (codes differ in no region, names are what AWS documents)."""
    wanted = set(QUOTA_NAMES.values())
    found = {}
    for page in service_quotas.get_paginator("list_service_quotas").paginate(ServiceCode="ec2"):
        for q in page["Quotas"]:
            if q["QuotaName"] in wanted:
                found[q["QuotaName"]] = QuotaFact(
                    name=q["QuotaName"], code=q["QuotaCode"], vcpus=q["Value"]
                ).model_dump()
    return found


def placement_scores(ec2: Any, instance_types: list[str], region: str, target_instances: int) -> list[str]:
    """Spot placement scores (1-10) for the types in the region, as capacity signals."""
    response = ec2.get_spot_placement_scores(
        InstanceTypes=instance_types,
        TargetCapacity=max(1, target_instances),
        TargetCapacityUnitType="units",
        RegionNames=[region],
    )
    return [
        f"spot placement score {s['Score']}/10 for {target_instances} x {'/'.join(instance_types)} in {s['Region']}"
        for s in response.get("SpotPlacementScores", [])
    ]


def capacity_blocks(ec2: Any, instance_type: str, count: int, hours: int) -> list[str]:
    """Capacity Block offerings for the type, as capacity signals."""
    response = ec2.describe_capacity_block_offerings(
        InstanceType=instance_type, InstanceCount=count, CapacityDurationHours=hours
    )
    return [
        f"Capacity Block: {o['InstanceCount']} x {o['InstanceType']} in {o['AvailabilityZone']} from {o['StartDate']} "
        f"for {o['CapacityBlockDurationHours']} h at ${float(o['UpfrontFee']):,.2f}"
        for o in response.get("CapacityBlockOfferings", [])
    ]
