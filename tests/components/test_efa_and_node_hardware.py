"""EFA interfaces for multi-node replicas, and the node hardware catalog checked against DescribeInstanceTypes
(issue 10's review against the AWS documentation)."""

from __future__ import annotations

import json

from deploy.fleet_spec import efa_interfaces
from sizing.catalog.files import read_csv
from sizing.catalog.node_hardware import node_hardware
from tests.stack_runs import stack_run


# EFA: the node hardware catalog, and one EFA per network card for a multi-node replica (requested by its pods on eks).
def test_a_multi_node_replica_gets_an_efa_on_every_network_card():
    plan = stack_run("batch").plan
    assert plan.choice.nodes_per_replica > 1
    assert efa_interfaces(plan) == node_hardware(plan.instance_type).network_cards == 32
    assert efa_interfaces(stack_run("dev").plan) == 0  # a replica on one node needs no EFA
    assert node_hardware("p4d.24xlarge").network_cards == 4


def test_p5_gets_32_efa_interfaces():
    hw = node_hardware("p5.48xlarge")
    assert (hw.network_cards, hw.efa_interfaces_max) == (32, 32)


def test_node_hardware_matches_describe_instance_types():
    """The catalog rows are DescribeInstanceTypes' answers (moto ships a recorded copy of the real API)."""
    import gzip
    from importlib import resources

    data = json.loads(gzip.decompress((resources.files("moto.ec2") / "resources/instance_types.json.gz").read_bytes()))
    names = [r["instance_type"] for r in read_csv("node_hardware.csv") if r["instance_type"] in data]
    assert {"p5.48xlarge", "g7e.48xlarge", "p6-b300.48xlarge", "gr6.8xlarge"} <= set(names)
    for name in names:
        hw, api = node_hardware(name), data[name]
        disks = (api.get("InstanceStorageInfo") or {}).get("Disks") or [{"Count": 0, "SizeInGB": 0}]
        assert hw.network_cards == api["NetworkInfo"]["MaximumNetworkCards"], name
        assert hw.efa_interfaces_max == (api["NetworkInfo"].get("EfaInfo") or {}).get("MaximumEfaInterfaces", 0), name
        assert (hw.instance_store_disks, hw.instance_store_disk_gb) == (disks[0]["Count"], disks[0]["SizeInGB"]), name
        assert hw.ebs_max_mbps == api["EbsInfo"]["EbsOptimizedInfo"]["MaximumThroughputInMBps"], name
        efa_cards = [
            c["NetworkCardIndex"]
            for c in api["NetworkInfo"].get("NetworkCards", [])
            if "efa" in c.get("InterfaceTypes", ["efa"])
        ]
        assert hw.efa_first_card == (efa_cards[0] if efa_cards and hw.efa_interfaces_max else 0), (name, efa_cards)
