"""The package schema, as Pulumi's analyzer derives it from the component's annotations and docstrings (the schema the
provider serves to `pulumi package add` and to every language's SDK generator)."""

from functools import cache

import pytest

from deploy.options import FleetOptions
from provider import codegen
from provider.package import package_schema
from sizing.planner.request import Workload

TOKEN = "llmfleet:index:LlmServingFleet"


@cache
def schema() -> dict:
    return package_schema()


def resolve(ref: str) -> dict:
    return schema()["types"][ref.removeprefix("#/types/")]


def test_component_signature():
    fleet = schema()["resources"][TOKEN]
    assert fleet["isComponent"] is True
    assert fleet["requiredInputs"] == ["model"]
    assert set(fleet["inputProperties"]) == {"model", "hfConfig", "workload", "deployment", "fleet", "preflight"}
    assert {k: v.get("type") or v["$ref"] for k, v in fleet["properties"].items()} == {
        "endpoint": "string",
        "groupNames": "array",
        "nodePools": "array",
        "workload": "string",
        "plan": "#/types/llmfleet:index:PlanSummary",
        "facts": "object",
    }
    assert sorted(fleet["required"]) == ["endpoint", "facts", "groupNames", "nodePools", "plan", "workload"]


def test_types_and_descriptions_come_from_the_models():
    workload = resolve(schema()["resources"][TOKEN]["inputProperties"]["workload"]["$ref"])["properties"]
    assert workload["concurrency"]["type"] == "integer" and workload["tpotMs"]["type"] == "number"
    assert workload["concurrency"]["description"].startswith(
        "Requests in flight at once."
    )  # Workload's field docstring
    assert "One of: 'interactive', 'batch'" in workload["kind"]["description"]
    assert {codegen_name(k) for k in workload} == set(Workload.model_fields)
    fleet = resolve(schema()["resources"][TOKEN]["inputProperties"]["fleet"]["$ref"])["properties"]
    assert {codegen_name(k) for k in fleet} == set(FleetOptions.model_fields)
    assert fleet["weights"]["$ref"] == "#/types/llmfleet:index:WeightsArgs"
    assert fleet["tags"]["additionalProperties"]["type"] == "string"


def codegen_name(camel: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)


def test_every_property_is_described():
    resource = schema()["resources"][TOKEN]
    bags = [resource["inputProperties"], resource["properties"], *[t["properties"] for t in schema()["types"].values()]]
    missing = [name for bag in bags for name, prop in bag.items() if not prop.get("description")]
    assert missing == []


@pytest.mark.parametrize(
    "path,plain",
    [
        ("workload.concurrency", True),
        ("deployment.instanceTypes", True),
        ("fleet.allowedCidrs", True),
        ("fleet.vpcId", False),
        ("fleet.subnetIds", False),
        ("fleet.certificateArn", False),
        ("fleet.weights.hfTokenSecretArn", False),
    ],
)
def test_sizing_inputs_are_plain_and_wiring_inputs_take_outputs(path, plain):
    """Inputs that size the fleet must be known at construction (plain in every SDK); ids and ARNs may be Outputs."""
    props = schema()["resources"][TOKEN]["inputProperties"]
    *parents, leaf = path.split(".")
    for part in parents:
        props = resolve(props[part]["$ref"])["properties"]
    assert bool(props[leaf].get("plain")) is plain


def test_generated_argument_types_are_up_to_date():
    assert codegen.TARGET.read_text() == codegen.render(), "To fix: python -m provider.codegen"
