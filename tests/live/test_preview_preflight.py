"""An example stack's preview (the real program under Pulumi mocks) against a moto account."""

from __future__ import annotations

import pytest

from preview.mock_run import MockRun, run_stack
from sizing.live import preflight
from tests.live.conftest import ENOUGH
from tests.stack_runs import STACKS


def test_zero_p_quota_fails_the_preview_with_the_quota_message(aws, monkeypatch):
    monkeypatch.setattr(preflight, "boto_clients", lambda region: aws({**ENOUGH, "All P Spot Instance Requests": 0}))
    recorded = MockRun(stack="batch")
    with pytest.raises(Exception) as info:
        run_stack(STACKS["batch"], recorded)
    message = str(info.value)
    assert "EC2 quota 'All P Spot Instance Requests' (L-7212CCBC) in us-east-1" in message
    assert "0 are granted" in message
    assert "aws service-quotas request-service-quota-increase --service-code ec2 --quota-code L-7212CCBC" in message
    assert recorded.resources == []  # nothing created


def test_enough_quota_passes_and_reports_live_facts(aws, monkeypatch):
    monkeypatch.setattr(preflight, "boto_clients", lambda region: aws(ENOUGH))
    run = run_stack(STACKS["batch"])
    assert run.outputs["endpoint"]
    assert run.outputs["facts"]["quotas"].startswith("live ")
    assert run.outputs["facts"]["offerings"].startswith("live ")


def test_no_credentials_preview_uses_the_embedded_catalog_and_says_so(no_aws_credentials):
    run = run_stack(STACKS["dev"])
    assert run.outputs["facts"]["spot_prices"].startswith("embedded 2026-01-21")
    # the program warns with this run's facts (the deployed plan itself is the stack's lock)
    assert any("pre-flight: no AWS credentials; using the embedded catalog" in line for line in run.logs)
