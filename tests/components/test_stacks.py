"""Every example stack under mocks: the resources emitted match the plan (single-node, multi-node, spot, mixed,
on-demand)."""

import math

from components.compute import LAUNCH_HOOK
from components.fleet_spec import GRACE_MARGIN, READY_SLACK_S
from sizing.planner.cold_start import plan_cold_start
from tests.components.conftest import stack_run, user_data


def test_every_stack_runs_and_exports(any_stack):
    assert any_stack.outputs["endpoint"].startswith(("http://", "https://"))
    # https on the domain the certificate covers; otherwise the load balancer's own name
    assert any_stack.outputs["endpoint"].endswith(".example.com" if any_stack.stack == "prod" else ".elb.amazonaws.com")
    assert any_stack.outputs["autoscaling_groups"]
    assert any_stack.outputs["plan"]["instance_type"] == any_stack.plan.instance_type


def test_launch_template_follows_the_plan(any_stack):
    plan, lt = any_stack.plan, any_stack.one("LaunchTemplate").inputs
    assert lt["instanceType"] == plan.instance_type
    script = user_data(any_stack)
    for flag, value in (("--tensor-parallel-size", plan.tensor_parallel), ("--pipeline-parallel-size", plan.pipeline_parallel),
                        ("--max-model-len", plan.max_model_len), ("--max-num-seqs", plan.choice.batch_per_replica),
                        ("--gpu-memory-utilization", f"{plan.memory_per_gpu.gpu_memory_utilization:g}")):
        assert f"{flag} {value}" in script


def test_dev_is_single_node_on_demand():
    run = stack_run("dev")
    plan, group = run.plan, run.one("Group").inputs
    assert plan.purchase == "on-demand" and plan.choice.nodes_per_replica == 1
    assert group["minSize"] == group["desiredCapacity"] == plan.instances
    dist = group["mixedInstancesPolicy"]["instancesDistribution"]
    assert dist["onDemandBaseCapacity"] == plan.instances and dist["onDemandPercentageAboveBaseCapacity"] == 100
    assert group["healthCheckType"] == "ELB"
    hook = next(h for h in group["initialLifecycleHooks"] if h["name"] == LAUNCH_HOOK)
    assert hook["heartbeatTimeout"] == math.ceil(plan_cold_start(plan).total_s * GRACE_MARGIN + READY_SLACK_S)
    assert run.of_type("Vpc") and len(run.of_type("Subnet")) == 4  # no VPC given: private + public subnets per zone
    assert run.one("Policy").inputs["targetTrackingConfiguration"]["predefinedMetricSpecification"][
        "predefinedMetricType"] == "ALBRequestCountPerTarget"


def test_prod_is_mixed_with_on_demand_floor_and_spot_headroom():
    run = stack_run("prod")
    plan, group = run.plan, run.one("Group").inputs
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


def test_batch_is_multi_node_on_spot():
    run = stack_run("batch")
    plan = run.plan
    assert plan.purchase == "spot" and plan.choice.nodes_per_replica > 1
    groups = run.of_type("Group")
    assert len(groups) == plan.replicas  # one Auto Scaling group per replica
    nodes = plan.choice.nodes_per_replica
    for g in groups:
        assert g.inputs["minSize"] == g.inputs["maxSize"] == g.inputs["desiredCapacity"] == nodes
        assert g.inputs["placementGroup"] == run.one("PlacementGroup").name + "-id"
        assert g.inputs["mixedInstancesPolicy"]["instancesDistribution"]["onDemandBaseCapacity"] == 0
    assert run.one("PlacementGroup").inputs["strategy"] == "cluster"
    efa = run.one("LaunchTemplate").inputs["networkInterfaces"]
    assert efa[0]["interfaceType"] == "efa"
    self_rules = [r for r in run.of_type("SecurityGroupRule")
                  if r.inputs.get("sourceSecurityGroupId") == r.inputs["securityGroupId"]]
    assert {r.inputs["type"] for r in self_rules} == {"ingress", "egress"}
    assert "--distributed-executor-backend mp" in user_data(run)


def test_losing_a_node_of_a_multi_node_replica():
    """What happens when one node of a multi-node replica is lost, as configured:
    1. its group (min = max = desired = nodes, EC2 health checks) launches a replacement into the same placement group
       and subnet;
    2. torch.distributed on rank 0 loses a peer, vLLM exits, systemd restarts the node script on every node;
    3. the replacement claims the rank tag its predecessor freed; rank 0 is found by its tag, not by its address;
       meanwhile /health fails and the target group takes the replica out of rotation, while other replicas serve;
    4. vLLM restarts on all nodes: the cost is one cold start of the whole replica (the node simulation tests run it)."""
    run = stack_run("batch")
    nodes = run.plan.choice.nodes_per_replica
    group = run.of_type("Group")[0].inputs
    assert (group["minSize"], group["maxSize"], group["healthCheckType"]) == (nodes, nodes, "EC2")
    script = user_data(run)
    assert "Restart=always" in script
    assert f"NODES={nodes}" in script and "--node-rank \"$RANK\"" in script
    assert "sort -V" not in script  # no "lowest IP" election
    assert run.one("TargetGroup").inputs["healthCheck"]["path"] == "/health"
    assert any("losing any of its" in n for n in run.plan.choice.notes)


def test_outputs_hold_the_plan_summary(any_stack):
    summary = any_stack.outputs["plan"]
    for key in ("instance_type", "instances", "tensor_parallel", "pipeline_parallel", "replicas", "purchase",
                "hourly_cost_usd", "memory_per_gpu_gib"):
        assert key in summary
    assert summary["hourly_cost_usd"] == round(any_stack.plan.hourly_cost_usd, 2)
