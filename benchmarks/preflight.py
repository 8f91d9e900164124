"""Time pre-flight adds to a preview: live (every AWS call made) vs cached, against an in-process moto account.
moto answers in-process, so real AWS round trips (tens of ms each) come on top of the live figure.
Run from the repository root: python benchmarks/preflight.py"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

REPEATS = 5


def main() -> None:
    import boto3
    from botocore.stub import ANY, Stubber
    from moto import mock_aws

    from sizing.live.preflight import PreflightOptions, gather
    from sizing.live.quotas import QUOTA_NAMES

    quotas = {
        "Quotas": [
            {"QuotaName": n, "QuotaCode": "L-0", "Value": 1e4, "ServiceCode": "ec2"} for n in QUOTA_NAMES.values()
        ]
    }

    def factory(service):
        if service == "ec2":
            return boto3.client("ec2", region_name="us-east-1")
        client = boto3.client("service-quotas", region_name="us-east-1")
        stub = Stubber(client)
        stub.add_response("list_service_quotas", quotas, {"ServiceCode": ANY})
        stub.activate()
        return client

    os.environ.update({"LLMFLEET_PREFLIGHT": "on", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x"})
    with mock_aws():
        live, cached = [], []
        for _ in range(REPEATS):
            with tempfile.TemporaryDirectory() as cache_dir:
                options = PreflightOptions(cache_dir=cache_dir)
                start = time.perf_counter()
                gather("us-east-1", (), None, options, factory)
                live.append(time.perf_counter() - start)
                start = time.perf_counter()
                gather("us-east-1", (), None, options, factory)
                cached.append(time.perf_counter() - start)
    print(
        f"pre-flight, all catalog GPU types in us-east-1 (moto): live median {statistics.median(live) * 1000:.0f} ms, "
        f"cached median {statistics.median(cached) * 1000:.1f} ms over {REPEATS} runs"
    )


if __name__ == "__main__":
    main()
