"""The catalog refresh against moto (DescribeInstanceTypes, offerings) and botocore's Stubber for the Pricing API and
Capacity Block offerings (moto implements neither), on response shapes copied from the AWS API reference."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime

import boto3
from botocore.stub import ANY, Stubber

from sizing.catalog.files import read_csv
from sizing.live.refresh import (
    HAND_FIXES,
    PRICE_FILTERS,
    _capacity_block_rows,
    capacity_block_rate,
    instance_row,
    price_list,
    refresh,
)


def rows(path):
    return list(csv.DictReader(line for line in path.read_text().splitlines() if not line.startswith("#")))


def price_item(instance_type: str, region: str, usd: float, sku: str = "SKU1") -> str:
    """One PriceList entry of pricing:GetProducts (FormatVersion aws_v1): a JSON document, as a string."""
    return json.dumps(
        {
            "product": {
                "productFamily": "Compute Instance",
                "sku": sku,
                "attributes": {
                    "instanceType": instance_type,
                    "regionCode": region,
                    "operatingSystem": "Linux",
                    "tenancy": "Shared",
                    "preInstalledSw": "NA",
                    "capacitystatus": "Used",
                    "servicecode": "AmazonEC2",
                },
            },
            "serviceCode": "AmazonEC2",
            "version": "20260121000000",
            "publicationDate": "2026-01-21T00:00:00Z",
            "terms": {
                "OnDemand": {
                    f"{sku}.JRTCKXETXF": {
                        "offerTermCode": "JRTCKXETXF",
                        "sku": sku,
                        "effectiveDate": "2026-01-01T00:00:00Z",
                        "termAttributes": {},
                        "priceDimensions": {
                            f"{sku}.JRTCKXETXF.6YS6EN2CT7": {
                                "unit": "Hrs",
                                "endRange": "Inf",
                                "beginRange": "0",
                                "rateCode": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                                "description": f"${usd} per On Demand Linux {instance_type} Instance Hour",
                                "appliesTo": [],
                                "pricePerUnit": {"USD": f"{usd:.10f}"},
                            }
                        },
                    }
                }
            },
        }
    )


def expected_filters(instance_type: str) -> list[dict]:
    return [
        {"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in (("instanceType", instance_type), *PRICE_FILTERS)
    ]


def test_price_list_reads_every_region_over_pages_with_the_linux_shared_filters():
    pricing = boto3.client("pricing", region_name="us-east-1")
    stub = Stubber(pricing)
    params = {"ServiceCode": "AmazonEC2", "Filters": expected_filters("g5.xlarge"), "FormatVersion": "aws_v1"}
    stub.add_response(
        "get_products",
        {
            "FormatVersion": "aws_v1",
            "NextToken": "page2",
            "PriceList": [
                price_item("g5.xlarge", "us-east-1", 1.006, "A"),
                price_item("g5.xlarge", "eu-west-1", 1.123, "B"),
            ],
        },
        params,
    )
    stub.add_response(
        "get_products",
        {"FormatVersion": "aws_v1", "PriceList": [price_item("g5.xlarge", "ap-south-1", 1.0, "C")]},
        {**params, "NextToken": "page2"},
    )
    with stub:
        prices = price_list(pricing, "g5.xlarge")
    stub.assert_no_pending_responses()
    assert prices == {"us-east-1": 1.006, "eu-west-1": 1.123, "ap-south-1": 1.0}
    assert {f["Field"]: f["Value"] for f in expected_filters("x")} == {
        "instanceType": "x",
        "operatingSystem": "Linux",
        "tenancy": "Shared",
        "preInstalledSw": "NA",
        "capacitystatus": "Used",
    }


def test_capacity_block_rate_is_fee_over_hours():
    ec2 = boto3.client("ec2", region_name="us-east-2")
    stub = Stubber(ec2)
    start = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)
    offers = [
        {
            "CapacityBlockOfferingId": f"cb-{i}",
            "InstanceType": "p5.48xlarge",
            "AvailabilityZone": "us-east-2a",
            "InstanceCount": 1,
            "StartDate": start,
            "EndDate": start,
            "CapacityBlockDurationHours": 24,
            "UpfrontFee": fee,
            "CurrencyCode": "USD",
            "Tenancy": "default",
        }
        for i, fee in enumerate(("996.67", "1050.00"))
    ]
    stub.add_response(
        "describe_capacity_block_offerings",
        {"CapacityBlockOfferings": offers},
        {"InstanceType": "p5.48xlarge", "InstanceCount": 1, "CapacityDurationHours": 24},
    )
    with stub:
        assert abs(capacity_block_rate(ec2, "p5.48xlarge") - 996.67 / 24) < 1e-9
    stub.add_response(
        "describe_capacity_block_offerings",
        {"CapacityBlockOfferings": offers[:1]},
        {"InstanceType": "p5.48xlarge", "InstanceCount": 1, "CapacityDurationHours": 24},
    )
    with stub:  # only Capacity Block families are asked: g5 is not
        block_rows = _capacity_block_rows(
            lambda service, region: ec2,
            ["p5.48xlarge", "g5.xlarge"],
            {"us-east-2": {"p5.48xlarge", "g5.xlarge"}},
            "2026-11-27",
        )
    stub.assert_no_pending_responses()
    assert [(r["instance_type"], r["region"], r["as_of"]) for r in block_rows] == [
        ("p5.48xlarge", "us-east-2", "2026-11-27")
    ]


def test_refresh_regenerates_the_catalog(aws, tmp_path):
    pricing = boto3.client("pricing", region_name="us-east-1")
    stub = Stubber(pricing)
    seen: list[str] = []

    for _ in range(200):  # one query per GPU instance type moto knows; each answers for every region
        stub.add_response(
            "get_products",
            {"PriceList": [price_item("g5.xlarge", "us-east-1", 1.234)]},
            {"ServiceCode": "AmazonEC2", "Filters": ANY, "FormatVersion": "aws_v1"},
        )
    stub.activate()
    clients = {}

    def factory(service, region):
        seen.append(f"{service}:{region}")
        if service == "pricing":
            return pricing
        return clients.setdefault(region, boto3.client("ec2", region_name=region))

    instances, prices = refresh(factory, ["us-east-1"], tmp_path, as_of="2026-11-27", capacity_blocks=False)
    assert "pricing:us-east-1" in seen  # the Pricing API's own endpoint
    got = {r["instance_type"]: r for r in rows(instances)}
    embedded = {r["instance_type"]: r for r in read_csv("instances.csv")}
    for name in ("p5.48xlarge", "p4d.24xlarge", "g5.xlarge", "g6e.12xlarge"):
        for column in ("family", "gpu", "gpus", "vcpus", "efa", "gpu_link"):
            assert got[name][column] == embedded[name][column], (name, column)
    price_rows = {r["instance_type"]: r for r in rows(prices)}
    assert price_rows["g5.xlarge"]["od_usd_per_hour"] == "1.234" and price_rows["g5.xlarge"]["offered"] == "true"
    assert instances.read_text().startswith("# AWS GPU instance types")  # the column documentation is kept
    text = prices.read_text()
    assert "# Snapshot: 2026-11-27, AWS Pricing API" in text and "vantage" not in text  # the new snapshot's date


def test_hand_fix_for_p5_4xlarge_reporting_zero_gpus():
    record = {
        "InstanceType": "p5.4xlarge",
        "VCpuInfo": {"DefaultVCpus": 16},
        "MemoryInfo": {"SizeInMiB": 262144},
        "GpuInfo": {"Gpus": [{"Name": "H100", "Count": 0, "MemoryInfo": {"SizeInMiB": 81920}}]},
        "NetworkInfo": {"EfaSupported": True, "NetworkPerformance": "100 Gigabit"},
    }
    row = instance_row(record, "2026-11-27")
    assert row["gpus"] == "1" and HAND_FIXES["p5.4xlarge"]["reason"] in row["source"]


def test_fractional_g6f_gpus():
    record = {
        "InstanceType": "g6f.large",
        "VCpuInfo": {"DefaultVCpus": 2},
        "MemoryInfo": {"SizeInMiB": 8192},
        "GpuInfo": {"Gpus": [{"Name": "L4", "Count": 1, "GpuPartitionSize": 0.125, "MemoryInfo": {"SizeInMiB": 2861}}]},
        "NetworkInfo": {"EfaSupported": False, "NetworkPerformance": "Up to 10 Gigabit"},
    }
    row = instance_row(record, "2026-11-27")
    assert row["gpus"] == "0.125" and row["gpu"] == "L4-24GB" and row["gpu_link"] == "none"
