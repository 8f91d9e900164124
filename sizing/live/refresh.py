"""Regenerate the embedded instance catalog (sizing/data/instances.csv, prices.csv, capacity_blocks.csv) from AWS.

Sources: DescribeInstanceTypes, DescribeInstanceTypeOfferings per region, the public EC2 price list (pricing:GetProducts
on the us-east-1 endpoint: Linux, shared tenancy, no pre-installed software, capacitystatus Used; one paginated query
per instance type answers every region) and DescribeCapacityBlockOfferings (the Capacity Block rate: fee / hours).

    python -m sizing.live.refresh --out sizing/data                  # every region of the current catalog
    python -m sizing.live.refresh --regions us-east-1 eu-west-1 --no-capacity-blocks

Known AWS data errors are corrected by HAND_FIXES, each with its reason. boto3 is imported only when this runs."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import date
from pathlib import Path
from typing import Any

from sizing.catalog.files import DATA_DIR
from sizing.catalog.instances import all_families, all_regions

GPU_NAMES = {
    ("A100", 40960): "A100-SXM-40GB",
    ("A100", 81920): "A100-SXM-80GB",
    ("H100", 81920): "H100-SXM-80GB",
    ("H200", 144384): "H200-SXM-141GB",
    ("B200", 183359): "B200-180GB",
    ("A10G", 22888): "A10G-24GB",
    ("L4", 22888): "L4-24GB",
    ("L40S", 45776): "L40S-48GB",
    ("T4", 15360): "T4-16GB",
}
"""(API GPU name, MiB per GPU) -> gpus.csv row. Partitioned GPUs report the partition's memory, so name alone
decides."""
GPU_BY_NAME = {
    "A10G": "A10G-24GB",
    "L4": "L4-24GB",
    "L40S": "L40S-48GB",
    "T4": "T4-16GB",
    "H100": "H100-SXM-80GB",
    "H200": "H200-SXM-141GB",
    "B200": "B200-180GB",
    "B300": "B300-288GB",
    "GB200": "GB200-186GB",
    "RTX PRO 6000": "RTX-PRO-6000-96GB",
    "RTX PRO Server 6000": "RTX-PRO-6000-96GB",
}
NVSWITCH_FAMILIES = ("p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300", "p6e-gb200")
"""Families whose multi-GPU sizes connect GPUs through NVSwitch (the API does not say)."""
HAND_FIXES: dict[str, dict[str, Any]] = {
    "p5.4xlarge": {"gpus": 1, "reason": "some DescribeInstanceTypes versions report 0 GPUs; the size has one H100"},
}
"""Corrections to known AWS data errors."""
PRICING_REGION = "us-east-1"
"""The Pricing API answers from us-east-1 (and ap-south-1) only."""
PRICE_FILTERS = (
    ("operatingSystem", "Linux"),
    ("tenancy", "Shared"),
    ("preInstalledSw", "NA"),
    ("capacitystatus", "Used"),
)
"""The price list rows of a plain Linux on-demand instance (not Windows, dedicated hosts, SQL images or
reservations)."""
CAPACITY_BLOCK_FAMILIES = ("p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300")
"""Families AWS sells as Capacity Blocks for ML (EC2 User Guide, "Capacity Blocks for ML: supported instance types")."""
CAPACITY_BLOCK_PROBE_HOURS = 24
"""Block length asked for when reading the rate (the shortest AWS sells; the rate is the same for any length)."""


def _gpus(it: dict) -> float:
    """GPU count; a partitioned GPU (g6f) counts as its fraction of one GPU."""
    info = (it.get("GpuInfo") or {}).get("Gpus") or []
    count = sum(g.get("Count", 0) for g in info)
    partition = min((g.get("GpuPartitionSize", 1.0) for g in info), default=1.0)
    return count * partition if partition < 1 else count


def _gpu_name(it: dict) -> str:
    info = ((it.get("GpuInfo") or {}).get("Gpus") or [{}])[0]
    name, mib = info.get("Name", ""), info.get("MemoryInfo", {}).get("SizeInMiB", 0)
    return GPU_NAMES.get((name, mib)) or GPU_BY_NAME.get(name, name)


def instance_row(it: dict, as_of: str) -> dict[str, str]:
    """One instances.csv row from a DescribeInstanceTypes record, hand fixes applied."""
    name = it["InstanceType"]
    family = name.split(".")[0]
    gpus = HAND_FIXES.get(name, {}).get("gpus", _gpus(it))
    link = "none" if gpus <= 1 else ("nvswitch" if family in NVSWITCH_FAMILIES else "pcie")
    net = it.get("NetworkInfo", {})
    bandwidth = (
        str(net.get("NetworkPerformance", "0")).split()[-2] if "Gigabit" in str(net.get("NetworkPerformance")) else "0"
    )
    source = "AWS EC2 DescribeInstanceTypes" + (
        f"; hand fix: {HAND_FIXES[name]['reason']}" if name in HAND_FIXES else ""
    )
    return {
        "instance_type": name,
        "family": family,
        "gpu": _gpu_name(it),
        "gpus": f"{gpus:g}",
        "vcpus": str(it["VCpuInfo"]["DefaultVCpus"]),
        "memory_gib": f"{it['MemoryInfo']['SizeInMiB'] / 1024:g}",
        "network_gbps": bandwidth,
        "efa": str(bool(net.get("EfaSupported"))).lower(),
        "gpu_link": link,
        "source": source,
        "as_of": as_of,
    }


def describe_gpu_types(ec2: Any) -> list[dict]:
    """DescribeInstanceTypes records of every size of the catalog's GPU families."""
    patterns = [f"{family}.*" for family in all_families()]
    records = []
    for page in ec2.get_paginator("describe_instance_types").paginate(
        Filters=[{"Name": "instance-type", "Values": patterns}]
    ):
        records += page["InstanceTypes"]
    return sorted(records, key=lambda it: it["InstanceType"])


def region_offerings(ec2: Any, instance_types: list[str]) -> set[str]:
    """The types offered in the client's region."""
    offered = set()
    for page in ec2.get_paginator("describe_instance_type_offerings").paginate(
        LocationType="region", Filters=[{"Name": "instance-type", "Values": instance_types}]
    ):
        offered |= {o["InstanceType"] for o in page["InstanceTypeOfferings"]}
    return offered


def price_list(pricing: Any, instance_type: str) -> dict[str, float]:
    """On-demand USD per hour of one instance type in every region that lists it (regionCode -> price)."""
    filters = [
        {"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in (("instanceType", instance_type), *PRICE_FILTERS)
    ]
    prices: dict[str, float] = {}
    for page in pricing.get_paginator("get_products").paginate(
        ServiceCode="AmazonEC2", Filters=filters, FormatVersion="aws_v1"
    ):
        for item in page.get("PriceList", []):
            product = json.loads(item)
            region = product.get("product", {}).get("attributes", {}).get("regionCode")
            price = _on_demand_usd(product)
            if region and price is not None:
                prices[region] = price
    return prices


def _on_demand_usd(product: dict) -> float | None:
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dimension in term["priceDimensions"].values():
            price = float(dimension["pricePerUnit"]["USD"])
            if price > 0:
                return price
    return None


def capacity_block_rate(ec2: Any, instance_type: str) -> float | None:
    """The lowest Capacity Block rate on offer for one instance, USD per hour (upfront fee / block hours), or None."""
    offers = ec2.describe_capacity_block_offerings(
        InstanceType=instance_type, InstanceCount=1, CapacityDurationHours=CAPACITY_BLOCK_PROBE_HOURS
    )
    rates = [
        float(o["UpfrontFee"]) / o["CapacityBlockDurationHours"]
        for o in offers.get("CapacityBlockOfferings", [])
        if o.get("CurrencyCode", "USD") == "USD" and o.get("CapacityBlockDurationHours")
    ]
    return min(rates) if rates else None


def _csv(rows: list[dict[str, str]], columns: list[str], header: str) -> str:
    out = io.StringIO()
    out.write(header)
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _header(name: str, snapshot: str | None = None) -> str:
    """The explanatory comment lines of the current file, kept in the regenerated one; 'Snapshot' lines say where this
    snapshot comes from and when, so they are replaced."""
    lines = [line for line in (DATA_DIR / name).read_text().splitlines(keepends=True) if line.startswith("#")]
    if snapshot is None:
        return "".join(lines)
    return "".join(line for line in lines if not line.startswith("# Snapshot:")) + f"# Snapshot: {snapshot}\n"


def _price_rows(pricing: Any, names: list[str], offered: dict[str, set[str]], as_of: str) -> list[dict[str, str]]:
    listed = {name: price_list(pricing, name) for name in names}
    rows = []
    for name in names:
        for region, types in offered.items():
            price = listed[name].get(region) if name in types else None
            why = "not in DescribeInstanceTypeOfferings" if name not in types else "no on-demand listing"
            rows.append(
                {
                    "instance_type": name,
                    "region": region,
                    "offered": str(price is not None).lower(),
                    "od_usd_per_hour": f"{price:g}" if price is not None else "",
                    "source": "AWS Pricing API (public EC2 price list)" if price is not None else why,
                    "as_of": as_of,
                }
            )
    return rows


def _capacity_block_rows(
    clients: Any, names: list[str], offered: dict[str, set[str]], as_of: str
) -> list[dict[str, str]]:
    rows = []
    for region in offered:
        ec2 = clients("ec2", region)
        for name in names:
            rate = capacity_block_rate(ec2, name) if name.split(".")[0] in CAPACITY_BLOCK_FAMILIES else None
            if rate is not None:
                rows.append(
                    {
                        "instance_type": name,
                        "region": region,
                        "usd_per_hour": f"{rate:g}",
                        "source": "ec2:DescribeCapacityBlockOfferings (upfront fee / block hours)",
                        "as_of": as_of,
                    }
                )
    return rows


def refresh(
    clients: Any, regions: list[str], out_dir: Path, as_of: str | None = None, capacity_blocks: bool = True
) -> tuple[Path, ...]:
    """Write instances.csv, prices.csv (and capacity_blocks.csv) into out_dir. `clients(service, region)` returns a
    boto3 client."""
    as_of = as_of or date.today().isoformat()
    records = describe_gpu_types(clients("ec2", regions[0]))
    rows = [instance_row(it, as_of) for it in records]
    names = [r["instance_type"] for r in rows]
    offered = {region: region_offerings(clients("ec2", region), names) for region in regions}
    price_rows = _price_rows(clients("pricing", PRICING_REGION), names, offered, as_of)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / "instances.csv", out_dir / "prices.csv"]
    written[0].write_text(_csv(rows, list(rows[0]), _header("instances.csv")))
    snapshot = f"{as_of}, AWS Pricing API (pricing:GetProducts, {PRICING_REGION} endpoint) for {len(regions)} region(s)"
    written[1].write_text(_csv(price_rows, list(price_rows[0]), _header("prices.csv", snapshot)))
    if capacity_blocks:
        block_rows = _capacity_block_rows(clients, names, offered, as_of)
        columns = ["instance_type", "region", "usd_per_hour", "source", "as_of"]
        written.append(out_dir / "capacity_blocks.csv")
        written[2].write_text(_csv(block_rows, columns, _header("capacity_blocks.csv")))
    return tuple(written)


def main(argv: list[str] | None = None) -> int:
    import boto3

    from sizing.live.aws import client_config

    parser = argparse.ArgumentParser(prog="python -m sizing.live.refresh", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--regions",
        nargs="+",
        default=list(all_regions()),
        help="regions to price (default: every region of the current catalog)",
    )
    parser.add_argument("--out", default=str(DATA_DIR), help="folder to write the catalog files into")
    parser.add_argument("--no-capacity-blocks", action="store_true", help="keep capacity_blocks.csv as it is")
    args = parser.parse_args(argv)
    config = client_config()
    written = refresh(
        lambda service, region: boto3.client(service, region_name=region, config=config),
        args.regions,
        Path(args.out),
        capacity_blocks=not args.no_capacity_blocks,
    )
    print("wrote", *written)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
