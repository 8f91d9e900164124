"""Regenerate the embedded instance catalog (sizing/data/instances.csv and prices.csv) from the AWS APIs:
DescribeInstanceTypes, DescribeInstanceTypeOfferings per region, and the public EC2 price list (Pricing API).

    python -m sizing.live.refresh --regions us-east-1 us-east-2 us-west-2 eu-west-1 --out sizing/data

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
from sizing.catalog.instances import all_families

GPU_NAMES = {("A100", 40960): "A100-SXM-40GB", ("A100", 81920): "A100-SXM-80GB", ("H100", 81920): "H100-SXM-80GB",
             ("H200", 144384): "H200-SXM-141GB", ("B200", 183359): "B200-180GB", ("A10G", 22888): "A10G-24GB",
             ("L4", 22888): "L4-24GB", ("L40S", 45776): "L40S-48GB", ("T4", 15360): "T4-16GB"}
"""(API GPU name, MiB per GPU) -> gpus.csv row. Partitioned GPUs report the partition's memory, so name alone decides."""
GPU_BY_NAME = {"A10G": "A10G-24GB", "L4": "L4-24GB", "L40S": "L40S-48GB", "T4": "T4-16GB", "H100": "H100-SXM-80GB",
               "H200": "H200-SXM-141GB", "B200": "B200-180GB"}
NVSWITCH_FAMILIES = ("p4d", "p4de", "p5", "p5e", "p5en", "p6-b200")
"""Families whose multi-GPU sizes connect GPUs through NVSwitch (the API does not say)."""
HAND_FIXES: dict[str, dict[str, Any]] = {
    "p5.4xlarge": {"gpus": 1, "reason": "some DescribeInstanceTypes versions report 0 GPUs; the size has one H100"},
}
"""Corrections to known AWS data errors."""
PRICING_REGION = "us-east-1"
"""The Pricing API answers from us-east-1 (and ap-south-1) only."""


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
    bandwidth = str(net.get("NetworkPerformance", "0")).split()[-2] if "Gigabit" in str(net.get("NetworkPerformance")) else "0"
    source = "AWS EC2 DescribeInstanceTypes" + (f"; hand fix: {HAND_FIXES[name]['reason']}" if name in HAND_FIXES else "")
    return {"instance_type": name, "family": family, "gpu": _gpu_name(it), "gpus": f"{gpus:g}",
            "vcpus": str(it["VCpuInfo"]["DefaultVCpus"]), "memory_gib": f"{it['MemoryInfo']['SizeInMiB'] / 1024:g}",
            "network_gbps": bandwidth, "efa": str(bool(net.get("EfaSupported"))).lower(), "gpu_link": link,
            "source": source, "as_of": as_of}


def describe_gpu_types(ec2: Any) -> list[dict]:
    """DescribeInstanceTypes records of every size of the catalog's GPU families."""
    patterns = [f"{family}.*" for family in all_families()]
    records = []
    for page in ec2.get_paginator("describe_instance_types").paginate(Filters=[{"Name": "instance-type", "Values": patterns}]):
        records += page["InstanceTypes"]
    return sorted(records, key=lambda it: it["InstanceType"])


def region_offerings(ec2: Any, instance_types: list[str]) -> set[str]:
    """The types offered in the client's region."""
    offered = set()
    for page in ec2.get_paginator("describe_instance_type_offerings").paginate(
            LocationType="region", Filters=[{"Name": "instance-type", "Values": instance_types}]):
        offered |= {o["InstanceType"] for o in page["InstanceTypeOfferings"]}
    return offered


def on_demand_price(pricing: Any, instance_type: str, region: str) -> float | None:
    """Linux, shared-tenancy on-demand USD per hour from the public price list, or None if not listed."""
    filters = [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in (
        ("instanceType", instance_type), ("regionCode", region), ("operatingSystem", "Linux"), ("tenancy", "Shared"),
        ("preInstalledSw", "NA"), ("capacitystatus", "Used"))]
    for item in pricing.get_products(ServiceCode="AmazonEC2", Filters=filters).get("PriceList", []):
        product = json.loads(item)
        for term in product.get("terms", {}).get("OnDemand", {}).values():
            for dimension in term["priceDimensions"].values():
                price = float(dimension["pricePerUnit"]["USD"])
                if price > 0:
                    return price
    return None


def _csv(rows: list[dict[str, str]], columns: list[str], header: str) -> str:
    out = io.StringIO()
    out.write(header)
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _header(name: str) -> str:
    """The explanatory comment lines of the current file, kept in the regenerated one."""
    return "".join(line for line in (DATA_DIR / name).read_text().splitlines(keepends=True) if line.startswith("#"))


def refresh(clients: Any, regions: list[str], out_dir: Path, as_of: str | None = None) -> tuple[Path, Path]:
    """Write instances.csv and prices.csv into out_dir. `clients(service, region)` returns a boto3 client."""
    as_of = as_of or date.today().isoformat()
    records = describe_gpu_types(clients("ec2", regions[0]))
    rows = [instance_row(it, as_of) for it in records]
    names = [r["instance_type"] for r in rows]
    pricing = clients("pricing", PRICING_REGION)
    price_rows = []
    for region in regions:
        offered = region_offerings(clients("ec2", region), names)
        for name in names:
            price = on_demand_price(pricing, name, region) if name in offered else None
            price_rows.append({"instance_type": name, "region": region, "offered": str(price is not None).lower(),
                               "od_usd_per_hour": f"{price:g}" if price is not None else "",
                               "source": "AWS Pricing API (public EC2 price list)" if price is not None
                               else ("not in DescribeInstanceTypeOfferings" if name not in offered else "no on-demand listing"),
                               "as_of": as_of})
    out_dir.mkdir(parents=True, exist_ok=True)
    instances = out_dir / "instances.csv"
    prices = out_dir / "prices.csv"
    instances.write_text(_csv(rows, list(rows[0]), _header("instances.csv")))
    prices.write_text(_csv(price_rows, list(price_rows[0]), _header("prices.csv")))
    return instances, prices


def main(argv: list[str] | None = None) -> int:
    import boto3

    from sizing.live.aws import client_config

    parser = argparse.ArgumentParser(prog="python -m sizing.live.refresh", description=__doc__.splitlines()[0])
    parser.add_argument("--regions", nargs="+", default=["us-east-1", "us-east-2", "us-west-2", "eu-west-1"])
    parser.add_argument("--out", default=str(DATA_DIR), help="folder to write instances.csv and prices.csv into")
    args = parser.parse_args(argv)
    config = client_config()
    written = refresh(lambda service, region: boto3.client(service, region_name=region, config=config), args.regions,
                      Path(args.out))
    print("wrote", *written)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
