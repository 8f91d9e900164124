"""The planner: enumeration, engine rejections with margins, replica sizing, purchase options, ranking."""

import math

import pytest

from sizing.errors import InfeasibleError, InvalidInputError, UnknownNameError
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload


def run(model="llama-3.1-8b", **kwargs):
    deployment = kwargs.pop("deployment", Deployment())
    return plan(PlanRequest(model=load_preset(model), workload=Workload(**kwargs), deployment=deployment))


def test_default_plan_is_feasible_and_explained():
    p = run()
    assert p.choice.instances >= 1 and p.hourly_cost_usd > 0
    assert p.alternatives and all(a.candidate.hourly_cost_usd >= p.hourly_cost_usd for a in p.alternatives)
    assert all("more" in a.why_lost or "same cost" in a.why_lost for a in p.alternatives)
    assert p.rejected


def test_costs_are_consistent():
    p = run(concurrency=64, tpot_ms=60)
    c = p.choice
    assert c.monthly_cost_usd == pytest.approx(c.hourly_cost_usd * 730)
    assert c.cost_per_million_output_tokens_usd == pytest.approx(
        c.hourly_cost_usd / (c.served_output_tokens_per_second * 3600 / 1e6)
    )
    assert c.hourly_cost_usd == pytest.approx(
        c.on_demand_instances * c.on_demand_usd_per_hour
        + c.spot_instances * c.spot_usd_per_hour
        + c.interruption_usd_per_hour
        + c.capacity_risk_usd_per_hour
    )


def test_replicas_cover_concurrency():
    p = run(concurrency=500, tpot_ms=50)
    c = p.choice
    assert c.replicas_required == math.ceil(500 / c.concurrency_per_replica)
    assert c.tpot_ms <= 50


def test_requests_per_second_can_set_the_replica_count():
    p = run(requests_per_second=200, input_tokens=512, output_tokens=512)
    assert p.choice.sized_by == "requests_per_second"


def test_one_in_flight_cannot_carry_200_requests_per_second():
    """Little's law: 1 in flight at 200 req/s leaves 5 ms per request, which no replica answers in (before: the rate
    and the concurrency were separate minimums, and the contradiction went unnoticed)."""
    with pytest.raises(InfeasibleError, match="time in the system"):
        run(concurrency=1, requests_per_second=200, input_tokens=512, output_tokens=512)


def test_headroom_adds_an_on_demand_instance_for_interactive_unless_asked_for_spot():
    p = run(
        model="llama-3.1-70b",
        concurrency=64,
        tpot_ms=50,
        headroom_replicas=1,
        deployment=Deployment(instance_types=("p5.48xlarge",)),
    )
    c = p.choice
    assert c.instances == math.ceil(c.replicas_required / c.replicas_per_instance) + 1  # N+1 in instances
    assert c.replicas == c.instances * c.replicas_per_instance
    assert p.purchase == "on-demand"  # the spare is there when the scarce spot pool is dry
    spot_spare = run(
        model="llama-3.1-70b",
        concurrency=64,
        tpot_ms=50,
        headroom_replicas=1,
        deployment=Deployment(instance_types=("p5.48xlarge",), spare_purchase="spot"),
    )
    assert spot_spare.purchase == "mixed" and spot_spare.choice.spot_instances == 1


def test_interactive_is_never_spot_only():
    for p in (run(concurrency=200), run(model="llama-3.1-70b", concurrency=50)):
        assert p.choice.on_demand_instances >= 1
        assert p.purchase in ("on-demand", "mixed")


def test_forcing_spot_for_interactive_is_refused():
    with pytest.raises(InvalidInputError, match="never spot-only.*To fix"):
        run(deployment=Deployment(purchase="spot"))


def test_batch_defaults_to_spot_and_pays_for_interruptions():
    p = run(kind="batch", concurrency=128)
    c = p.choice
    assert p.purchase == "spot" and c.on_demand_instances == 0
    assert c.interruption_usd_per_hour > 0
    assert c.spot_usd_per_hour < c.on_demand_usd_per_hour


def test_mixed_keeps_an_on_demand_floor():
    p = run(concurrency=200, on_demand_floor=0.5, deployment=Deployment(instance_types=("g6e.xlarge",)))
    c = p.choice
    assert p.purchase == "mixed"
    assert 0 < c.on_demand_instances < c.instances


def test_small_replicas_share_a_big_instance():
    p = run(concurrency=200, deployment=Deployment(instance_types=("p4d.24xlarge",)))
    c = p.choice
    assert c.tensor_parallel * c.pipeline_parallel * c.replicas_per_instance <= 8
    assert c.replicas_per_instance > 1
    assert c.replicas == c.instances * c.replicas_per_instance  # every GPU paid for serves


def test_405b_needs_multi_node_or_big_gpus():
    p = run(
        model="llama-3.1-405b", concurrency=8, deployment=Deployment(instance_types=("p4d.24xlarge", "p5.48xlarge"))
    )
    assert p.choice.nodes_per_replica > 1
    assert any("multi-node" in n for n in p.choice.notes)


def test_engine_rejections_are_listed():
    p = run(model="qwen2.5-7b", deployment=Deployment(instance_types=("p4d.24xlarge",)))
    layout = [r for r in p.rejected if r.kind == "layout"]
    assert any("28 attention heads are not divisible by TP=8" in r.reason for r in layout)


def test_memory_rejection_states_the_margin():
    p = run(model="llama-3.1-70b", deployment=Deployment(instance_types=("g6e.xlarge", "p5.48xlarge")))
    miss = next(r for r in p.rejected if r.instance_type == "g6e.xlarge" and r.tensor_parallel == 1)
    assert miss.kind == "memory" and "GiB more per GPU" in miss.reason and miss.remedy


def test_tpot_rejection_states_the_margin():
    p = run(tpot_ms=20, deployment=Deployment(instance_types=("g6.xlarge", "p5.48xlarge")))
    miss = next(r for r in p.rejected if r.instance_type == "g6.xlarge")
    assert miss.kind == "tpot" and "misses TPOT by" in miss.reason


def test_region_offering_rejection():
    p = run(deployment=Deployment(region="eu-west-1"))
    assert any(r.kind == "offering" and "not offered in eu-west-1" in r.reason for r in p.rejected)
    assert p.region == "eu-west-1"


def test_pcie_tp_is_charged_and_said():
    p = run(model="llama-3.1-70b", concurrency=16, deployment=Deployment(instance_types=("g6e.12xlarge",)))
    layouts = [p.choice] + [a.candidate for a in p.alternatives]
    tp4 = next(c for c in layouts if c.tensor_parallel == 4)
    assert "TP=4 all-reduces cross PCIe (no NVLink on g6e.12xlarge); their cost is in TPOT" in tp4.notes
    assert all(not c.notes for c in layouts if c.tensor_parallel == 1)


def test_infeasible_names_the_nearest_miss_and_a_fix():
    with pytest.raises(InfeasibleError) as info:
        run(model="llama-3.1-405b", deployment=Deployment(instance_types=("g6.xlarge", "g5.xlarge")))
    message = str(info.value)
    assert "Nearest miss" in message and "GiB more per GPU" in message and "To fix" in message


def test_unknown_instance_type_and_region():
    with pytest.raises(LookupError, match="Did you mean 'p5.48xlarge'"):
        run(deployment=Deployment(instance_types=("p5.48xlarg",)))
    with pytest.raises(UnknownNameError, match="us-east-1"):
        run(deployment=Deployment(region="us-east-3"))


def test_max_model_len_shorter_than_request_is_refused():
    with pytest.raises(ValueError, match="raise max_model_len"):
        Workload(input_tokens=4000, output_tokens=1000, max_model_len=4096)


def test_mxfp4_on_dense_model_is_refused():
    with pytest.raises(InvalidInputError, match="quantizes only MoE experts"):
        run(deployment=Deployment(weights="mxfp4"))


def test_live_spot_price_replaces_the_discount():
    base = run(kind="batch", deployment=Deployment(instance_types=("g6.xlarge",)))
    live = run(kind="batch", deployment=Deployment(instance_types=("g6.xlarge",), spot_usd_per_hour={"g6.xlarge": 0.1}))
    assert live.choice.spot_usd_per_hour == 0.1
    assert live.hourly_cost_usd < base.hourly_cost_usd


@pytest.mark.parametrize("model", ["deepseek-v3", "gpt-oss-120b", "qwen3-235b-a22b", "mixtral-8x22b", "gemma-2-27b"])
def test_every_family_plans(model):
    assert run(model=model, concurrency=16).choice.instances >= 1


def test_infeasible_latency_miss_is_nearer_than_a_memory_miss():
    with pytest.raises(InfeasibleError) as info:
        run(tpot_ms=1)
    assert "misses TPOT" in info.value.nearest and "tpot_ms" in info.value.remedy


def test_formats_the_gpu_cannot_run_are_rejected():
    p = run(deployment=Deployment(weights="fp8", instance_types=("g4dn.xlarge", "g5.xlarge")))
    (rejection,) = [r for r in p.rejected if r.instance_type == "g4dn.xlarge"]
    assert (rejection.kind, rejection.reason) == (
        "engine",
        "fp8 weights need CUDA compute capability 8 or newer; T4-16GB has 7.5 "
        "(vLLM rule kernel-capability: kernels for the weight format on this GPU generation)",
    )
    assert p.instance_type == "g5.xlarge"  # A10G (8.6) runs FP8 weights as W8A16


def test_types_the_region_does_not_sell_name_where_they_are_sold():
    # An expert asked for p5 in eu-west-1 wants to know where to go, not only that it is not there.
    from sizing.errors import InfeasibleError

    req = PlanRequest(
        model=load_preset("llama-3.1-70b"),
        workload=Workload(concurrency=64, tpot_ms=40),
        deployment=Deployment(region="eu-west-1", instance_types=("p5.48xlarge",)),
    )
    with pytest.raises(InfeasibleError) as err:
        plan(req)
    assert "p5.48xlarge is sold in" in str(err.value) and "us-east-1" in str(err.value)
