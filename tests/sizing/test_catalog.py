"""The AWS catalog: every current GPU family, every commercial region with GPU prices, list prices with sources, and
accelerators the planner does not size listed as rejected with the reason."""

import pytest

from sizing.catalog.files import read_csv
from sizing.catalog.gpus import get_gpu
from sizing.catalog.instances import all_families, all_instance_types, all_regions, not_planned_types
from sizing.catalog.node_hardware import node_hardware
from sizing.errors import InfeasibleError
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload

GPU_FAMILIES = {
    "g4dn",
    "g5",
    "g6",
    "g6e",
    "g6f",
    "gr6",
    "gr6f",
    "g7e",
    "p4d",
    "p4de",
    "p5",
    "p5e",
    "p5en",
    "p6-b200",
    "p6-b300",
    "p6e-gb200",
}
REGIONS = {
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ca-central-1",
    "sa-east-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "me-central-1",
    "il-central-1",
    "af-south-1",
}


def test_every_current_gpu_family_and_commercial_region():
    types = all_instance_types().values()
    assert {i.family for i in types} == GPU_FAMILIES
    assert REGIONS <= set(all_regions())
    for i in types:
        assert i.family in all_families() and get_gpu(i.gpu.name), i.name


def test_prices_are_list_prices_with_sources_not_multipliers():
    rows = read_csv("prices.csv")
    assert all(r["source"] and r["as_of"] for r in rows)
    assert not [r for r in rows if "derived" in r["source"] or "x 1.1" in r["source"]]
    g4dn = all_instance_types()["g4dn.xlarge"].od_usd_per_hour
    assert g4dn["eu-west-1"] == pytest.approx(0.587)  # AWS list price in Ireland, not us-east-1 x 1.116 = 0.5870
    assert g4dn["ap-northeast-1"] == pytest.approx(0.71)
    assert all_instance_types()["p5.48xlarge"].od_usd_per_hour["ap-northeast-1"] == pytest.approx(68.8)
    g6e = all_instance_types()["g6e.xlarge"]
    assert "eu-west-1" not in g6e.od_usd_per_hour and "price list" in g6e.not_offered_reason["eu-west-1"]


def test_new_families_plan_where_offered():
    p = plan(
        PlanRequest(
            model=load_preset("llama-3.1-70b"),
            workload=Workload(concurrency=32),
            deployment=Deployment(instance_types=("g7e.12xlarge", "g7e.24xlarge"), weights="fp8"),
        )
    )
    assert p.choice.gpu == "RTX-PRO-6000-96GB"
    b300 = plan(
        PlanRequest(
            model=load_preset("llama-3.1-405b"),
            workload=Workload(concurrency=32),
            deployment=Deployment(instance_types=("p6-b300.48xlarge",), region="us-west-2"),
        )
    )
    assert b300.choice.instance_type == "p6-b300.48xlarge"


def test_region_is_checked_before_any_layout():
    p = plan(PlanRequest(model=load_preset("llama-3.1-8b"), deployment=Deployment(region="eu-west-1")))
    g6e = [r for r in p.rejected if r.instance_type.startswith("g6e.")]
    assert g6e and all(r.kind == "offering" and r.tensor_parallel is None for r in g6e)


def test_neuron_and_other_non_cuda_accelerators_are_rejected_with_the_reason():
    p = plan(PlanRequest(model=load_preset("llama-3.1-8b")))
    by_type = {r.instance_type: r for r in p.rejected if r.kind == "accelerator"}
    assert {"inf2.xlarge", "inf2.48xlarge", "trn1.32xlarge", "trn2.48xlarge"} <= set(by_type)
    assert "vLLM Neuron is not planned" in by_type["inf2.xlarge"].reason
    assert {n.family for n in not_planned_types().values()} >= {"inf1", "inf2", "trn1", "trn2", "dl2q", "g4ad", "g5g"}
    with pytest.raises(InfeasibleError) as err:
        plan(PlanRequest(model=load_preset("llama-3.1-8b"), deployment=Deployment(instance_types=("inf2.xlarge",))))
    assert "vLLM Neuron is not planned" in str(err.value)


def test_memory_on_a_neuron_instance_says_why_not(capsys):
    from sizing.cli.main import main

    code = main(["memory", "--model", "llama-3.1-8b", "--gpu", "inf2.xlarge"])
    err = capsys.readouterr().err
    assert code == 2 and "vLLM Neuron is not planned" in err and "To fix" in err


def test_catalog_rows_are_unique():
    """The loaders key rows by name, so a duplicated row would silently shadow the other."""
    for name, key in (
        ("instances.csv", ("instance_type",)),
        ("prices.csv", ("instance_type", "region")),
        ("capacity_blocks.csv", ("instance_type", "region")),
        ("not_planned.csv", ("instance_type",)),
        ("checkpoints.csv", ("base_repo", "weights")),
        ("families.csv", ("family",)),
        ("gpus.csv", ("gpu",)),
    ):
        keys = [tuple(r[k] for k in key) for r in read_csv(name)]
        assert len(keys) == len(set(keys)), name


NO_NODE_HARDWARE_ROW: dict[str, str] = {}
"""Planner-choosable types allowed to fall back to node_hardware.NO_ROW, each with the reason (none today)."""


def test_every_plannable_type_has_a_node_hardware_row():
    """A type without a row gets the most conservative node (EBS at 125 MB/s, one card, no EFA): cold starts of an hour
    and no EFA on a multi-node replica. A new family must come with its rows, or be listed above with the reason."""
    rows = {r["instance_type"] for r in read_csv("node_hardware.csv")}
    plannable = {i.name for i in all_instance_types().values() if i.whole_gpus > 0}
    assert sorted(plannable - rows - NO_NODE_HARDWARE_ROW.keys()) == []
    assert set(NO_NODE_HARDWARE_ROW) <= plannable - rows  # no stale exemption


def test_node_hardware_efa_agrees_with_the_instance_catalog():
    types = all_instance_types()
    for r in read_csv("node_hardware.csv"):
        hw = node_hardware(r["instance_type"])
        assert r["instance_type"] in types, r["instance_type"]
        assert types[hw.instance_type].efa == (hw.efa_interfaces_max > 0), hw.instance_type
        assert hw.efa_interfaces_max <= hw.network_cards and hw.source and hw.as_of, hw.instance_type
