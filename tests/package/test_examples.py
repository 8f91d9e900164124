"""Programs that only use the package size and emit the dev fleet under mocks: the YAML one through the component
provider's Construct (the path of every non-Python language), the Python one by importing the component."""

from collections import Counter
from functools import cache
from pathlib import Path

import pytest
import yaml

from deploy.stack_file import read_stack_file
from preview.mock_run import MockRun
from preview.programs import component_provider, construct, run_example
from tests.stack_runs import stack_run

ROOT = Path(__file__).resolve().parents[2]
YAML_EXAMPLE, PYTHON_EXAMPLE, EKS_EXAMPLE = ROOT / "examples/yaml", ROOT / "examples/python", ROOT / "examples/eks"


@cache
def example(folder: Path) -> MockRun:
    return run_example(folder)


def kinds(run: MockRun) -> Counter:
    return Counter(r.type for r in run.resources)


def test_yaml_program_properties_are_the_dev_stack():
    """Mapped through the provider's schema (camelCase -> Python names), the YAML program's inputs are exactly the dev
    stack's llmfleet:* config."""
    program = yaml.safe_load((YAML_EXAMPLE / "Pulumi.yaml").read_text())
    props = program["resources"]["fleet"]["properties"]
    provider = component_provider()
    mapped = provider.map_inputs(props, provider._component_defs["LlmServingFleet"])
    dev = {
        k.removeprefix("llmfleet:"): v
        for k, v in read_stack_file(ROOT / "stacks/Pulumi.dev.yaml").items()
        if k.startswith("llmfleet:")
    }
    assert mapped == dev


@pytest.mark.parametrize("folder", [YAML_EXAMPLE, PYTHON_EXAMPLE], ids=["yaml", "python"])
def test_example_program_emits_the_dev_fleet(folder):
    run, dev = example(folder), stack_run("dev")
    assert kinds(run) == kinds(dev) and run.of_type("LaunchTemplate")  # same resources, one component level more
    assert kinds(run)["llmfleet:index:LlmServingFleet"] == 1
    template, dev_template = run.one("LaunchTemplate").inputs, dev.one("LaunchTemplate").inputs
    assert template["instanceType"] == dev_template["instanceType"] == dev.plan.instance_type
    assert template["metadataOptions"]["httpTokens"] == "required"
    group = run.one("Group").inputs
    assert (group["minSize"], group["desiredCapacity"]) == (dev.plan.instances, dev.plan.instances)
    plan = run.outputs["plan"]
    assert plan.get("instanceType", plan.get("instance_type")) == dev.plan.instance_type
    assert run.outputs["endpoint"].endswith(".elb.amazonaws.com")


def test_construct_with_an_infeasible_model_fails_before_any_resource():
    from pulumi.provider.server import ComponentInitError

    from preview.mock_run import run_under_mocks

    run = MockRun(stack="dev")
    props = {"model": "llama-3.1-405b", "deployment": {"instanceTypes": ["g5.xlarge"]}}
    with pytest.raises(ComponentInitError) as info:
        run_under_mocks(
            {"aws:region": "us-east-1"}, run, lambda: construct("big", "llmfleet:LlmServingFleet", props)["endpoint"]
        )
    assert "Nearest miss" in str(info.value.__cause__ or info.value)
    assert run.resources == []


def test_an_output_where_the_plan_needs_a_value_is_refused_by_name():
    """The schema marks sizing inputs plain, so typed SDKs cannot pass an Output there; Python callers get the path."""
    import pulumi

    from components.llm_fleet import LlmServingFleet
    from preview.mock_run import run_under_mocks

    run = MockRun(stack="dev")
    args = {"model": "llama-3.1-8b", "workload": {"concurrency": pulumi.Output.from_input(16)}}
    with pytest.raises(pulumi.RunError) as info:
        run_under_mocks({"aws:region": "us-east-1"}, run, lambda: LlmServingFleet("f", args).endpoint)  # type: ignore[arg-type]
    assert "workload.concurrency must be known before deployment" in str(info.value)
    assert run.resources == []


def test_the_eks_example_installs_the_pinned_add_ons_and_serves_on_them():
    """examples/eks: a pulumi-eks cluster, every add-on a Helm Chart v4 at the version prerequisites.py pins, and the
    dev fleet on platform eks through the cluster's provider (no provider of its own), every object schema-valid."""
    from deploy.eks_prerequisites import ADD_ONS
    from tests.components.k8s_schemas import k8s_objects, schema_errors

    run = example(EKS_EXAMPLE)
    charts = {r.name: r.inputs for r in run.resources if r.type == "kubernetes:helm.sh/v4:Chart"}
    assert {(c.get("chart"), c["version"]) for c in charts.values()} == {
        (p.chart if p.chart.startswith("oci://") else p.chart_name, p.chart_version) for p in ADD_ONS
    }
    assert kinds(run)["eks:index:Cluster"] == 1 and kinds(run)["pulumi:providers:kubernetes"] == 1
    assert kinds(run)["kubernetes:apps/v1:Deployment"] == 1 and run.outputs["endpoint"].endswith(":8000")
    assert [schema_errors(o) for _, o in k8s_objects(run)] == [[] for _ in k8s_objects(run)]
    queue = run.one("Queue").inputs
    assert queue["sqsManagedSseEnabled"] is True
