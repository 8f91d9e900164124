"""The catalog refresh against moto (DescribeInstanceTypes, offerings) and a stubbed Pricing API (moto has none)."""

from __future__ import annotations

import csv
import json

import boto3
from botocore.stub import ANY, Stubber

from sizing.catalog.files import read_csv
from sizing.live.refresh import HAND_FIXES, instance_row, refresh


def rows(path):
    return list(csv.DictReader(line for line in path.read_text().splitlines() if not line.startswith("#")))


def price_item(usd: float) -> str:
    return json.dumps({"terms": {"OnDemand": {"t": {"priceDimensions": {"d": {"pricePerUnit": {"USD": str(usd)}}}}}}})


def test_refresh_regenerates_the_catalog(aws, tmp_path):
    pricing = boto3.client("pricing", region_name="us-east-1")
    stub = Stubber(pricing)
    for _ in range(400):
        stub.add_response("get_products", {"PriceList": [price_item(1.234)]}, {"ServiceCode": "AmazonEC2", "Filters": ANY})
    stub.activate()
    clients = {}

    def factory(service, region):
        if service == "pricing":
            return pricing
        return clients.setdefault(region, boto3.client("ec2", region_name=region))

    instances, prices = refresh(factory, ["us-east-1"], tmp_path, as_of="2026-11-27")
    got = {r["instance_type"]: r for r in rows(instances)}
    embedded = {r["instance_type"]: r for r in read_csv("instances.csv")}
    for name in ("p5.48xlarge", "p4d.24xlarge", "g5.xlarge", "g6e.12xlarge"):
        for column in ("family", "gpu", "gpus", "vcpus", "efa", "gpu_link"):
            assert got[name][column] == embedded[name][column], (name, column)
    price_rows = {r["instance_type"]: r for r in rows(prices)}
    assert price_rows["g5.xlarge"]["od_usd_per_hour"] == "1.234" and price_rows["g5.xlarge"]["offered"] == "true"
    assert instances.read_text().startswith("# AWS GPU instance types")  # the column documentation is kept


def test_hand_fix_for_p5_4xlarge_reporting_zero_gpus():
    record = {"InstanceType": "p5.4xlarge", "VCpuInfo": {"DefaultVCpus": 16}, "MemoryInfo": {"SizeInMiB": 262144},
              "GpuInfo": {"Gpus": [{"Name": "H100", "Count": 0, "MemoryInfo": {"SizeInMiB": 81920}}]},
              "NetworkInfo": {"EfaSupported": True, "NetworkPerformance": "100 Gigabit"}}
    row = instance_row(record, "2026-11-27")
    assert row["gpus"] == "1" and HAND_FIXES["p5.4xlarge"]["reason"] in row["source"]


def test_fractional_g6f_gpus():
    record = {"InstanceType": "g6f.large", "VCpuInfo": {"DefaultVCpus": 2}, "MemoryInfo": {"SizeInMiB": 8192},
              "GpuInfo": {"Gpus": [{"Name": "L4", "Count": 1, "GpuPartitionSize": 0.125, "MemoryInfo": {"SizeInMiB": 2861}}]},
              "NetworkInfo": {"EfaSupported": False, "NetworkPerformance": "Up to 10 Gigabit"}}
    row = instance_row(record, "2026-11-27")
    assert row["gpus"] == "0.125" and row["gpu"] == "L4-24GB" and row["gpu_link"] == "none"
