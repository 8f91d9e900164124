"""ServingFleet built directly under Pulumi mocks; each test returns its Output so a failed check fails the test."""

import pulumi
import pytest

from components import ServingFleet, ServingFleetArgs
from components.iam import FleetArns, node_policy
from deploy.fleet_spec import (
    PlatformError,
    capacity_spec,
    compatible_types,
    root_volume_gib,
    verify_with_platform,
    vllm_args,
)
from deploy.options import FleetOptions, WeightsSource
from preview.mock_run import FleetMocks, MockRun
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload

RUN = MockRun(stack="unit")


@pytest.fixture(autouse=True)
def mocks():
    pulumi.runtime.set_mocks(FleetMocks(RUN, "us-east-1"), project="llm-fleet", stack="unit", preview=False)


def small_plan(**deployment):
    return plan(
        PlanRequest(
            model=load_preset("llama-3.1-8b"), workload=Workload(concurrency=200), deployment=Deployment(**deployment)
        )
    )


@pulumi.runtime.test
def test_fleet_endpoint_and_groups():
    fleet = ServingFleet(
        "unit",
        ServingFleetArgs(
            plan=small_plan(instance_types=("g6e.xlarge",)), options=FleetOptions(allowed_cidrs=("10.0.0.0/8",))
        ),
    )

    def check(values):
        endpoint, groups = values
        assert endpoint.startswith("http://unit-lb-alb") and endpoint.endswith(".elb.amazonaws.com")
        assert groups == ["unit-compute-replicas"]

    return pulumi.Output.all(fleet.endpoint, fleet.group_names).apply(check)


def test_several_replicas_per_instance_use_data_parallel():
    p = small_plan(instance_types=("p4d.24xlarge",))
    assert p.choice.replicas_per_instance > 1
    args = vllm_args(p, FleetOptions(), p.model)
    assert args[args.index("--data-parallel-size") + 1] == str(p.choice.replicas_per_instance)


def test_quantization_and_kv_flags_only_when_needed():
    online = plan(
        PlanRequest(
            model=load_preset("qwen2.5-7b"),
            workload=Workload(concurrency=200),
            deployment=Deployment(instance_types=("g6e.xlarge",), weights="fp8", kv_dtype="fp8"),
        )
    )
    args = vllm_args(online, FleetOptions(), online.model)
    assert online.checkpoint.repo == "Qwen/Qwen2.5-7B-Instruct" and online.checkpoint.format == "bf16"
    assert ("--quantization", "fp8") == tuple(
        args[args.index("--quantization") :][:2]
    )  # vLLM quantizes the bf16 download
    assert ("--kv-cache-dtype", "fp8") == tuple(args[args.index("--kv-cache-dtype") :][:2])
    released = small_plan(instance_types=("g6e.xlarge",), weights="fp8")
    assert released.checkpoint.repo == "RedHatAI/Meta-Llama-3.1-8B-Instruct-FP8"
    assert "--quantization" not in vllm_args(released, FleetOptions(), released.model)  # the release declares it
    assert "--quantization" not in vllm_args(small_plan(instance_types=("g6e.xlarge",)), FleetOptions(), online.model)


def test_overrides_are_compatible_alternatives():
    p = small_plan(instance_types=("g6e.xlarge", "g6e.2xlarge", "g5.xlarge"))
    types = compatible_types(p)
    assert types[0] == p.instance_type
    assert all(t.startswith(p.instance_type.split(".")[0]) for t in types)  # same GPU and count only


def test_root_volume_from_weights_or_override():
    p = small_plan(instance_types=("g6e.xlarge",))
    assert root_volume_gib(p, FleetOptions()) >= 100  # the weights go to the instance store of g6e.xlarge
    assert root_volume_gib(p, FleetOptions(root_volume_gib=500)) == 500


def test_scaling_ceiling_and_target():
    p = small_plan(instance_types=("g6e.xlarge",))
    cap = capacity_spec(p, FleetOptions(max_scale_factor=3))
    assert cap.min_size == cap.desired == p.instances and cap.max_size == 3 * p.instances
    assert cap.in_flight_per_node > 0


ARNS = FleetArns("arn:key", "arn:tg", "arn:logs")


def test_iam_scopes_s3_to_the_prefix():
    options = FleetOptions(weights=WeightsSource(s3_uri="s3://bucket/models/llama"))
    policy = node_policy("unit", options, ARNS)
    assert policy["Statement"][0]["Resource"] == ["arn:aws:s3:::bucket/models/llama/*"]
    assert not any(s["Sid"].endswith("Weights") for s in node_policy("unit", FleetOptions(), ARNS)["Statement"])


def test_serving_fleet_refuses_a_replica_spanning_nodes_before_any_resource():
    """Regression: ServingFleet, the plan-taking layer, took a multi-node plan without the platform check that
    LlmServingFleet runs, and would have launched its replicas as single nodes."""
    p = plan(
        PlanRequest(
            model=load_preset("deepseek-v3"),
            workload=Workload(kind="batch", concurrency=256),
            deployment=Deployment(instance_types=("p5.48xlarge",)),
        )
    )
    assert p.choice.nodes_per_replica > 1
    registered = len(RUN.resources)
    with pytest.raises(PlatformError, match="To fix: set llmfleet:fleet.platform: eks"):
        ServingFleet("multi", ServingFleetArgs(plan=p))
    assert len(RUN.resources) == registered


def test_capacity_block_plans_are_refused_rather_than_launched_on_demand():
    p = plan(
        PlanRequest(
            model=load_preset("llama-3.1-70b"),
            workload=Workload(concurrency=64),
            deployment=Deployment(purchase="capacity-block", region="us-east-2"),
        )
    )
    with pytest.raises(ValueError, match="Capacity Blocks.*To fix.*capacity_reservation_ids"):
        verify_with_platform(p, FleetOptions())
