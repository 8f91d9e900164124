"""moto for the EC2 calls it implements; botocore's Stubber for Service Quotas, which moto does not implement for
EC2."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from sizing.live.aws import client_config
from sizing.live.quotas import QUOTA_NAMES

QUOTA_CODES = {
    "Running On-Demand P instances": "L-417A185B",
    "Running On-Demand G and VT instances": "L-DB2E81BA",
    "All P Spot Instance Requests": "L-7212CCBC",
    "All G and VT Spot Instance Requests": "L-3819A6DF",
}
"""Public EC2 quota codes (Service Quotas console), as the stubbed account reports them."""


def quota_response(values: dict[str, float]) -> dict:
    return {
        "Quotas": [
            {"ServiceCode": "ec2", "QuotaName": name, "QuotaCode": QUOTA_CODES[name], "Value": values.get(name, 0.0)}
            for name in QUOTA_NAMES.values()
        ]
    }


class Account:
    """A moto EC2 account plus a stubbed Service Quotas client, as a client factory."""

    def __init__(self, quotas: dict[str, float]) -> None:
        self.quotas = quotas
        self.calls: list[str] = []
        self.ec2 = boto3.client("ec2", region_name="us-east-1", config=client_config())
        self.ec2.meta.events.register("before-call.ec2", lambda model, **_: self.calls.append(model.name))

    def __call__(self, service: str):
        if service == "ec2":
            return self.ec2
        client = boto3.client("service-quotas", region_name="us-east-1", config=client_config())
        stub = Stubber(client)
        stub.add_response("list_service_quotas", quota_response(self.quotas), {"ServiceCode": "ec2"})
        stub.activate()
        self.calls.append("ListServiceQuotas")
        return client


@pytest.fixture
def aws(monkeypatch, tmp_path):
    monkeypatch.setenv("LLMFLEET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "on")
    with mock_aws():
        yield Account


ENOUGH = {name: 10_000.0 for name in QUOTA_NAMES.values()}
