"""Pre-flight decisions and messages: offerings, drift, spot prices, quotas, no credentials, throttling, cache."""

from __future__ import annotations

import time

import pytest

from deploy.preflight import QuotaShortfallError, enforce_quotas, facts_for, with_facts
from deploy.stack_config import load_stack_config
from sizing.live import cache
from sizing.live.drift import drift_warnings
from sizing.live.facts import InstanceSpecFact, LiveFacts
from sizing.live.preflight import PreflightOptions, gather
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload
from tests.live.conftest import ENOUGH


def stack(model="llama-3.1-8b", **sections):
    return load_stack_config({"model": model, **sections}, aws_region="us-east-1")


def test_live_facts_carry_their_origin(aws):
    facts = gather("us-east-1", (), ["g5.xlarge", "p5.48xlarge"], PreflightOptions(), aws(ENOUGH))
    assert facts.zones == ("us-east-1a", "us-east-1b")
    assert facts.offered_zones["g5.xlarge"] == ("us-east-1a", "us-east-1b")
    assert facts.specs["p5.48xlarge"].gpus == 8 and facts.specs["p5.48xlarge"].efa
    assert {p.origin for p in facts.provenance.values()} == {"live"}
    assert facts.quotas["Running On-Demand P instances"].code == "L-417A185B"


def test_type_not_offered_in_the_zone_is_rejected(aws):
    facts = gather("us-east-1", (), ["g5.xlarge", "p5e.48xlarge"], PreflightOptions(), aws(ENOUGH))
    assert facts.offered_zones["p5e.48xlarge"] == ()  # moto's us-east-1 does not offer p5e
    req = PlanRequest(
        model=load_preset("llama-3.1-8b"),
        deployment=Deployment(instance_types=("g5.xlarge", "p5e.48xlarge"), facts=facts),
    )
    p = plan(req)
    (rejection,) = [r for r in p.rejected if r.instance_type == "p5e.48xlarge"]
    assert rejection.kind == "offering"
    assert rejection.reason.startswith("not offered in us-east-1")


def test_live_offering_rejection_names_zones_and_origin():
    facts = LiveFacts(
        region="us-east-1",
        zones=("us-east-1a", "us-east-1b"),
        offered_zones={"g5.xlarge": ()},
        provenance={"offerings": {"origin": "live", "as_of": "2026-11-27T09:00:00+00:00", "source": "x"}},
    )
    p = plan(
        PlanRequest(
            model=load_preset("llama-3.1-8b"),
            deployment=Deployment(instance_types=("g5.xlarge", "g6.xlarge"), facts=facts),
        )
    )
    reason = next(r.reason for r in p.rejected if r.instance_type == "g5.xlarge")
    assert reason == "not offered in us-east-1a, us-east-1b (live offerings, 2026-11-27T09:00:00+00:00)"


def test_spot_price_replaces_the_catalog_discount(aws):
    facts = gather("us-east-1", (), ["g5.xlarge"], PreflightOptions(), aws(ENOUGH))
    assert facts.spot_usd_per_hour["g5.xlarge"] == pytest.approx(0.00001)  # moto's spot price
    p = plan(
        PlanRequest(
            model=load_preset("llama-3.1-8b"),
            workload=Workload(kind="batch"),
            deployment=Deployment(instance_types=("g5.xlarge",), facts=facts),
        )
    )
    assert p.choice.spot_usd_per_hour == pytest.approx(0.00001)
    assert p.fact_sources["spot_prices"].startswith("live ")


def test_drift_is_a_warning_naming_both_values():
    facts = LiveFacts(
        region="us-east-1",
        specs={
            "g5.xlarge": InstanceSpecFact(
                instance_type="g5.xlarge",
                gpus=1,
                gpu_name="A10G",
                gpu_memory_mib=22888,
                vcpus=8,
                efa=False,
                network_cards=1,
            )
        },
    )
    assert drift_warnings(facts) == ["catalog drift for g5.xlarge: AWS reports vCPUs=8, the embedded catalog has 4"]


def test_a_known_aws_data_error_is_not_drift():
    """p5.4xlarge reported with 0 GPUs is corrected on purpose (refresh.HAND_FIXES): no warning on every preview."""
    facts = LiveFacts(
        region="us-east-1",
        specs={
            "p5.4xlarge": InstanceSpecFact(
                instance_type="p5.4xlarge",
                gpus=0,
                gpu_name="H100",
                gpu_memory_mib=81920,
                vcpus=16,
                efa=True,
                network_cards=1,
            )
        },
    )
    assert drift_warnings(facts) == []


def test_preflight_warns_on_drift_with_the_plan(aws, monkeypatch):
    """The drift check is wired into pre-flight: its warning reaches the plan's warnings (plan --stack, pulumi
    preview)."""
    from sizing.live import aws as live_aws

    monkeypatch.setattr(
        live_aws,
        "instance_specs",
        lambda ec2, types: {
            "g5.xlarge": {
                "instance_type": "g5.xlarge",
                "gpus": 1,
                "gpu_name": "A10G",
                "gpu_memory_mib": 22888,
                "vcpus": 8,
                "efa": False,
                "network_cards": 1,
            }
        },
    )
    facts = gather("us-east-1", (), ["g5.xlarge"], PreflightOptions(), aws(ENOUGH))
    warning = "pre-flight: catalog drift for g5.xlarge: AWS reports vCPUs=8, the embedded catalog has 4"
    assert warning in facts.notices
    p = plan(
        PlanRequest(
            model=load_preset("llama-3.1-8b"), deployment=Deployment(instance_types=("g5.xlarge",), facts=facts)
        )
    )
    assert warning in p.warnings


def test_moto_specs_agree_with_the_catalog(aws):
    facts = gather(
        "us-east-1", (), ["g5.xlarge", "g6e.12xlarge", "p5.48xlarge", "p4d.24xlarge"], PreflightOptions(), aws(ENOUGH)
    )
    assert drift_warnings(facts) == []
    assert not [n for n in facts.notices if "drift" in n]


def test_quota_short_for_on_demand_p(aws):
    s = stack("llama-3.1-70b", deployment={"instance_types": ["p5.48xlarge"]})
    facts = facts_for(s, aws({**ENOUGH, "Running On-Demand P instances": 0}))
    p = plan(with_facts(s.request, facts))
    with pytest.raises(QuotaShortfallError) as info:
        enforce_quotas(p, facts, s)
    needed = 192 * 2  # one p5.48xlarge (192 vCPUs), ceiling = 2 x the planned instance
    assert str(info.value) == (
        f"EC2 quota 'Running On-Demand P instances' (L-417A185B) in us-east-1: the fleet needs {needed} vCPUs at its "
        f"ceiling, 0 are granted. To fix: aws service-quotas request-service-quota-increase --service-code ec2 "
        f"--quota-code L-417A185B --desired-value {needed} --region us-east-1"
    )


def test_quota_short_for_spot_g_can_warn_instead(aws):
    s = stack(
        workload={"kind": "batch", "concurrency": 64},
        deployment={"instance_types": ["g6e.xlarge"]},
        preflight={"on_quota_shortfall": "warn"},
    )
    facts = facts_for(s, aws({**ENOUGH, "All G and VT Spot Instance Requests": 4}))
    p = plan(with_facts(s.request, facts))
    warnings = enforce_quotas(p, facts, s)
    assert len(warnings) == 1
    assert warnings[0].startswith(
        "EC2 quota 'All G and VT Spot Instance Requests' (L-3819A6DF) in us-east-1: the fleet needs"
    )
    assert "4 are granted" in warnings[0] and "--quota-code L-3819A6DF" in warnings[0]


def test_no_credentials_uses_the_embedded_catalog(no_aws_credentials):
    facts = gather("us-east-1", (), None, PreflightOptions())
    assert facts.notices == (
        "pre-flight: no AWS credentials; using the embedded catalog (prices as of 2026-01-21); quotas not checked",
    )
    assert {p.origin for p in facts.provenance.values()} == {"embedded"}
    p = plan(PlanRequest(model=load_preset("llama-3.1-8b"), deployment=Deployment(facts=facts)))
    assert facts.notices[0] in p.warnings and p.fact_sources["spot_prices"].startswith("embedded 2026-01-21")


def test_throttling_is_retried_then_succeeds(aws):
    from botocore.awsrequest import AWSResponse

    account = aws(ENOUGH)
    throttled = []

    class Raw:
        def stream(self, **_):
            yield b""

    def throttle_once(request, **_):
        if not throttled:
            throttled.append(request)
            body = (
                b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded."
                b"</Message></Error></Errors><RequestID>x</RequestID></Response>"
            )
            response = AWSResponse(request.url, 503, {}, Raw())
            response._content = body
            return response
        return None

    account.ec2.meta.events.register_first("before-send.ec2.DescribeAvailabilityZones", throttle_once)
    facts = gather("us-east-1", (), ["g5.xlarge"], PreflightOptions(), account)
    assert throttled and facts.zones == ("us-east-1a", "us-east-1b")
    assert facts.provenance["zones"].origin == "live"


def test_repeated_preflight_uses_the_cache(aws):
    first = aws(ENOUGH)
    gather("us-east-1", (), ["g5.xlarge"], PreflightOptions(), first)
    second = aws(ENOUGH)
    facts = gather("us-east-1", (), ["g5.xlarge"], PreflightOptions(), second)
    assert {p.origin for p in facts.provenance.values()} == {"cached"}
    assert [c for c in second.calls if c != "ListServiceQuotas"] == []


def test_stale_cache_is_refetched(aws, monkeypatch):
    gather("us-east-1", (), ["g5.xlarge"], PreflightOptions(cache_ttl_s=60), aws(ENOUGH))
    later = time.time() + 120
    monkeypatch.setattr(cache.time, "time", lambda: later)
    again = aws(ENOUGH)
    facts = gather("us-east-1", (), ["g5.xlarge"], PreflightOptions(cache_ttl_s=60), again)
    assert {p.origin for p in facts.provenance.values()} == {"live"}
    assert "DescribeInstanceTypeOfferings" in again.calls


def test_disabled_preflight_says_so():
    facts = gather("us-east-1", (), None, PreflightOptions(enabled=False))
    assert "disabled in the stack config" in facts.notices[0]


def test_capacity_signals_are_reported_where_the_account_has_them(aws):
    """Stubber: moto implements neither spot placement scores nor Capacity Block offerings."""
    import boto3
    from botocore.stub import ANY, Stubber

    from deploy.preflight import signals_for

    s = stack("llama-3.1-70b", deployment={"instance_types": ["p5.48xlarge"]}, preflight={"capacity_signals": True})
    facts = facts_for(s, aws(ENOUGH))
    p = plan(with_facts(s.request, facts))
    ec2 = boto3.client("ec2", region_name="us-east-1")
    stub = Stubber(ec2)
    stub.add_response(
        "get_spot_placement_scores",
        {"SpotPlacementScores": [{"Region": "us-east-1", "Score": 3}]},
        {
            "InstanceTypes": ["p5.48xlarge"],
            "TargetCapacity": ANY,
            "TargetCapacityUnitType": "units",
            "RegionNames": ["us-east-1"],
        },
    )
    stub.add_client_error("describe_capacity_block_offerings", "UnauthorizedOperation")
    stub.activate()
    signals = signals_for(p, facts, s, lambda service: ec2)
    assert signals[0] == f"capacity: spot placement score 3/10 for {p.instances} x p5.48xlarge in us-east-1"
    assert signals[1] == "capacity: capacity signal unavailable (ClientError)"
