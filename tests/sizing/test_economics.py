"""Purchase risk: the on-demand floor with multi-node replicas, the on-demand spare, interruption loss, capacity
risk."""

import pytest

from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.instances import get_instance_type
from sizing.models.presets import load_preset
from sizing.planner.economics import fleet_costs, split_fleet, spot_unfilled_share
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload

A = default_assumptions()


def test_mixed_floor_is_kept_when_the_replica_spans_nodes():
    """Issue 9 reproducer: --purchase mixed --on-demand-floor 0.5 with a 3-node winner used to run spot-only."""
    fleet = split_fleet(
        Workload(on_demand_floor=0.5), Deployment(purchase="mixed"), required=1, per_instance=1, nodes=3
    )
    assert fleet.on_demand_instances == 3 and fleet.spot_instances == 0
    two = split_fleet(Workload(on_demand_floor=0.5), Deployment(purchase="mixed"), required=2, per_instance=1, nodes=3)
    assert (two.on_demand_instances, two.spot_instances) == (3, 3)  # one replica of two on demand, one on spot


def test_reproducer_plan_keeps_interactive_traffic_on_demand():
    req = PlanRequest(
        model=load_preset("llama-3.1-8b"),
        workload=Workload(concurrency=256, input_tokens=1000, output_tokens=256, tpot_ms=40, on_demand_floor=0.5),
        deployment=Deployment(purchase="mixed"),
    )
    p = plan(req)
    for c in (p.choice, *(a.candidate for a in p.alternatives)):
        floor_instances = -(-c.replicas_required // 2) * c.nodes_per_replica // c.replicas_per_instance
        assert c.on_demand_instances >= max(1, floor_instances), c.label


def test_spare_goes_on_demand_for_interactive_and_spot_for_batch():
    interactive = split_fleet(Workload(headroom_replicas=1), Deployment(), required=2, per_instance=1, nodes=1)
    assert (interactive.on_demand_instances, interactive.spot_instances) == (3, 0)
    batch = split_fleet(Workload(kind="batch", headroom_replicas=1), Deployment(), required=2, per_instance=1, nodes=1)
    assert batch.spot_instances == 3
    asked = split_fleet(
        Workload(headroom_replicas=1), Deployment(spare_purchase="spot"), required=2, per_instance=1, nodes=1
    )
    assert (asked.on_demand_instances, asked.spot_instances) == (2, 1)


def test_multi_node_spot_is_priced_for_loss_and_capacity():
    """A 2-node p4de batch replica on spot: before, $0.0016/h of risk; now the unfilled share of a scarce pool runs on
    demand (1 - 0.5^2 = 75% of the time for two nodes at once) and each node's interruption stops the replica."""
    p4de = get_instance_type("p4de.24xlarge")
    fleet = split_fleet(Workload(kind="batch"), Deployment(), required=1, per_instance=1, nodes=2)
    costs = fleet_costs(p4de, "us-east-1", Deployment(), fleet, 2, 600.0, A)
    od, spot = costs.on_demand_usd_per_hour, costs.spot_usd_per_hour
    assert spot_unfilled_share(p4de, 2, A) == pytest.approx(1 - (1 - A.spot_unfilled_share_scarce) ** 2)
    assert costs.capacity_risk_usd_per_hour == pytest.approx(2 * 0.75 * (od - spot))
    rate = 2 * p4de.facts.interruptions_per_month / A.hours_per_month  # the replica dies with either node
    assert costs.interruption_usd_per_hour == pytest.approx(1 * rate * (600 / 3600) * 2 * spot)
    assert costs.hourly_usd == pytest.approx(
        2 * spot + costs.interruption_usd_per_hour + costs.capacity_risk_usd_per_hour
    )
    assert costs.hourly_usd > 0.8 * 2 * od  # the 40% discount shrinks to under 20% once capacity risk is priced


def test_plentiful_single_node_spot_keeps_most_of_its_discount():
    g6 = get_instance_type("g6.xlarge")
    fleet = split_fleet(Workload(kind="batch"), Deployment(), required=4, per_instance=1, nodes=1)
    costs = fleet_costs(g6, "us-east-1", Deployment(), fleet, 1, 200.0, A)
    assert costs.hourly_usd < 0.5 * 4 * costs.on_demand_usd_per_hour


def test_capacity_blocks_are_a_purchase_option_where_the_catalog_has_a_rate():
    req = PlanRequest(
        model=load_preset("llama-3.1-70b"),
        workload=Workload(concurrency=64),
        deployment=Deployment(purchase="capacity-block", region="us-east-2"),
    )
    p = plan(req)
    c = p.choice
    rate = get_instance_type(c.instance_type).capacity_block_usd_per_hour["us-east-2"]
    assert c.purchase == "capacity-block" and c.spot_instances == 0
    assert c.hourly_cost_usd == pytest.approx(c.instances * rate)
    offered = {r.instance_type for r in p.rejected if r.kind == "offering" and "Capacity Block" in r.reason}
    assert "g6e.xlarge" in offered  # no Capacity Blocks for G types
    # p5e has no on-demand listing at all: a Capacity Block is the only way the planner can buy it
    only_block = plan(
        req.model_copy(
            update={
                "deployment": Deployment(
                    purchase="capacity-block", region="us-east-2", instance_types=("p5e.48xlarge",)
                )
            }
        )
    )
    assert only_block.choice.instance_type == "p5e.48xlarge"
    default = plan(req.model_copy(update={"deployment": Deployment(region="us-east-2")}))
    assert default.purchase != "capacity-block"  # never chosen unless asked


def test_cli_spare_purchase_flag(capsys):
    import json

    from sizing.cli.main import main

    args = ["plan", "--model", "llama-3.1-8b", "--headroom", "1", "--instance-types", "g6e.xlarge", "--json"]
    assert main(args) == 0
    assert json.loads(capsys.readouterr().out)["purchase"] == "on-demand"
    assert main([*args, "--spare-purchase", "spot"]) == 0
    assert json.loads(capsys.readouterr().out)["purchase"] == "mixed"


def test_spare_purchase_without_headroom_is_refused(capsys):
    """With no headroom there is no spare: --spare-purchase would be silently ignored."""
    from sizing.cli.main import main

    assert main(["plan", "--model", "llama-3.1-8b", "--instance-types", "g6e.xlarge", "--spare-purchase", "spot"]) == 2
    err = capsys.readouterr().err
    assert (
        "--spare-purchase 'spot' has no spare to buy" in err
        and "To fix: add --headroom N or drop --spare-purchase" in err
    )


def test_a_request_built_in_code_with_a_spare_purchase_and_no_spare_is_refused():
    """plan() callers that skip the CLI and stack boundaries get the same refusal from PlanRequest itself."""
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="has no spare to buy") as caught:
        PlanRequest(
            model=load_preset("llama-3.1-8b"),
            workload=Workload(headroom_replicas=0),
            deployment=Deployment(spare_purchase="spot"),
        )
    assert "To fix: set headroom_replicas >= 1" in str(caught.value)
    PlanRequest(
        model=load_preset("llama-3.1-8b"),
        workload=Workload(headroom_replicas=1),
        deployment=Deployment(spare_purchase="spot"),
    )  # with a spare it is a valid request


def test_spot_plan_separates_the_billed_cost_from_the_expected_one():
    """The ranked cost of a spot fleet carries spot-risk charges AWS never bills: the plan says both, and which is
    which."""
    from sizing.cli.render import plan_lines

    p = plan(
        PlanRequest(
            model=load_preset("deepseek-v3"),
            workload=Workload(kind="batch", concurrency=256, input_tokens=2048, output_tokens=512),
            deployment=Deployment(instance_types=("p5.48xlarge",)),
        )
    )
    c = p.choice
    assert c.spot_instances and c.capacity_risk_usd_per_hour > 0
    assert c.billed_usd_per_hour == pytest.approx(
        c.on_demand_instances * c.on_demand_usd_per_hour + c.spot_instances * c.spot_usd_per_hour
    )
    assert c.hourly_cost_usd == pytest.approx(
        c.billed_usd_per_hour + c.interruption_usd_per_hour + c.capacity_risk_usd_per_hour
    )
    from sizing.planner.results import Candidate

    old_lock = c.model_dump(mode="json", exclude={"billed_usd_per_hour"})  # a plan locked before the field existed
    assert Candidate.model_validate(old_lock).billed_usd_per_hour == pytest.approx(c.billed_usd_per_hour)
    cost = next(line for line in plan_lines(p) if line.startswith("  cost:"))
    assert f"${c.hourly_cost_usd:,.2f}/h expected" in cost and f"${c.billed_usd_per_hour:,.2f}/h billed" in cost
    on_demand = plan(PlanRequest(model=load_preset("llama-3.1-8b"), workload=Workload(tpot_ms=50))).choice
    assert on_demand.billed_usd_per_hour == pytest.approx(on_demand.hourly_cost_usd)
