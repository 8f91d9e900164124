"""Every example stack under mocks: the resources emitted match the plan (on platform ec2: on demand, and mixed on
demand and spot)."""

import math
import re

import pytest

from components.compute import LAUNCH_HOOK
from deploy.fleet_spec import GRACE_MARGIN, READY_SLACK_S
from preview.__main__ import main as preview
from preview.mock_run import MockRun, run_stack
from sizing.planner.cold_start import plan_cold_start
from tests.stack_runs import EKS_STACKS, stack_run, user_data


def test_every_stack_runs_and_exports(ec2_stack):
    assert ec2_stack.outputs["endpoint"].startswith(("http://", "https://"))
    # https on the domain the certificate covers; otherwise the load balancer's own name
    assert ec2_stack.outputs["endpoint"].endswith(".example.com" if ec2_stack.stack == "prod" else ".elb.amazonaws.com")
    assert ec2_stack.outputs["autoscaling_groups"]
    assert ec2_stack.outputs["plan"]["instance_type"] == ec2_stack.plan.instance_type


def test_launch_template_follows_the_plan(ec2_stack):
    plan, lt = ec2_stack.plan, ec2_stack.one("LaunchTemplate").inputs
    assert lt["instanceType"] == plan.instance_type
    script = user_data(ec2_stack)
    for flag, value in (
        ("--tensor-parallel-size", plan.tensor_parallel),
        ("--pipeline-parallel-size", plan.pipeline_parallel),
        ("--max-model-len", plan.max_model_len),
        ("--max-num-seqs", plan.choice.batch_per_replica),
        ("--gpu-memory-utilization", f"{plan.memory_per_gpu.gpu_memory_utilization:g}"),
    ):
        assert f"{flag} {value}" in script


def test_dev_is_single_node_on_demand():
    run = stack_run("dev")
    plan, group = run.plan, run.one("Group").inputs
    assert plan.purchase == "on-demand" and plan.choice.nodes_per_replica == 1
    assert group["minSize"] == group["desiredCapacity"] == plan.instances
    dist = group["mixedInstancesPolicy"]["instancesDistribution"]
    assert dist["onDemandBaseCapacity"] == plan.instances and dist["onDemandPercentageAboveBaseCapacity"] == 100
    assert group["healthCheckType"] == "EC2"  # a vLLM restart is not a replacement (the node hands itself back)
    assert len(run.of_type("Group")) == 1  # no spot, no fallback group
    hook = next(h for h in group["initialLifecycleHooks"] if h["name"] == LAUNCH_HOOK)
    assert hook["heartbeatTimeout"] == math.ceil(plan_cold_start(plan).total_s * GRACE_MARGIN + READY_SLACK_S)
    assert run.of_type("Vpc") and len(run.of_type("Subnet")) == 4  # no VPC given: private + public subnets per zone
    assert (
        run.one("Policy").inputs["targetTrackingConfiguration"]["customizedMetricSpecification"]["metricName"]
        == "RequestsInFlight"
    )


def test_prod_is_mixed_with_on_demand_floor_and_spot_headroom():
    run = stack_run("prod")
    groups = {g.name.rsplit("-", 1)[-1]: g.inputs for g in run.of_type("Group")}
    plan, group, fallback = run.plan, groups["replicas"], groups["fallback"]
    assert plan.purchase == "mixed"
    dist = group["mixedInstancesPolicy"]["instancesDistribution"]
    assert dist["onDemandBaseCapacity"] == plan.choice.on_demand_instances >= 1
    assert dist["onDemandPercentageAboveBaseCapacity"] == 0
    assert dist["spotAllocationStrategy"] == "price-capacity-optimized"
    assert group["capacityRebalance"] is True
    overrides = [o["instanceType"] for o in group["mixedInstancesPolicy"]["launchTemplate"]["overrides"]]
    assert overrides[0] == plan.instance_type
    assert not run.of_type("Vpc")  # existing VPC
    assert run.one("Listener").inputs["protocol"] == "HTTPS"
    # an on-demand group, empty until spot is short, as large as the spot capacity (the plan prices that fallback)
    assert (fallback["minSize"], fallback["desiredCapacity"]) == (0, 0)
    assert fallback["maxSize"] == group["maxSize"] - plan.choice.on_demand_instances
    assert fallback["mixedInstancesPolicy"]["instancesDistribution"]["onDemandPercentageAboveBaseCapacity"] == 100
    assert fallback["capacityRebalance"] is False and fallback["waitForCapacityTimeout"] == "0"
    assert group["waitForElbCapacity"] == plan.choice.on_demand_instances  # up waits for on-demand nodes only


def test_outputs_hold_the_plan_summary(any_stack):
    summary = any_stack.outputs["plan"]
    for key in (
        "instance_type",
        "instances",
        "tensor_parallel",
        "pipeline_parallel",
        "replicas",
        "purchase",
        "hourly_cost_usd",
        "memory_per_gpu_gib",
    ):
        assert key in summary
    assert summary["hourly_cost_usd"] == round(any_stack.plan.hourly_cost_usd, 2)


def test_a_multi_node_plan_on_ec2_fails_preview_before_any_resource(tmp_path, capsys):
    """Regression: platform ec2 once served a replica spanning nodes with a rank rendezvous over instance tags, in user
    data over EC2's 16 KB limit. The batch stack's plan (a replica on 2 x p5.48xlarge) without its `platform: eks` and
    `cluster:` lines is now refused before the program registers anything, with the platform that serves it."""
    text = EKS_STACKS["batch"].read_text()
    ec2 = re.sub(r"    platform: eks\n    cluster:\n(?:      .*\n)+", "", text)
    assert "platform: eks" not in ec2 and "cluster:" not in ec2
    stack = tmp_path / "Pulumi.batch.yaml"  # no plan lock next to it: the fresh plan deploys
    stack.write_text(ec2)
    run = MockRun(stack="batch")
    with pytest.raises(Exception) as refused:
        run_stack(stack, run)
    assert run.resources == [], [r.name for r in run.resources]
    assert "platform: eks" in str(refused.value) and "To fix" in str(refused.value)
    assert preview([str(stack)]) == 2  # bad input for the platform (1 is kept for nothing feasible)
    assert "platform: eks" in capsys.readouterr().err
