"""The policy pack against resources written to slip past it: world ingress split into rules or hidden in a prefix list,
the memory check made advisory or fed odd tags, other launchers, encoded secrets (issue 22)."""

from __future__ import annotations

import base64

import pytest

from components import fleet_tags as tag
from policy import policies as p
from tests.fuzz.stack_copies import HF_TOKEN
from tests.policy.test_policies import LT, SAFE_LT, _stack, violations

NODE = (LT, "node", {**SAFE_LT, "vpcSecurityGroupIds": ["nodes-id"]})


def ingress_rule(name: str, **props) -> tuple[str, str, dict]:
    return p.SECURITY_GROUP_RULE, name, {"type": "ingress", "securityGroupId": "nodes-id", **props}


def test_world_ingress_split_into_512_rules_is_refused():
    rules = [ingress_rule(f"r{i}", cidrBlocks=[f"{i // 2}.{128 * (i % 2)}.0.0/9"]) for i in range(512)]
    assert _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), *rules)
    v6 = [ingress_rule(f"v{i}", ipv6CidrBlocks=[f"2{i:x}00::/12"]) for i in range(4)]  # each 1/512 of 2000::/3
    assert _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), *v6)


def test_ingress_through_a_prefix_list_is_judged_by_its_entries():
    world = (p.MANAGED_PREFIX_LIST, "pl", {"entries": [{"cidr": "0.0.0.0/1"}, {"cidr": "128.0.0.0/1"}]})
    assert _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), world, ingress_rule("r", prefixListIds=["pl-id"]))
    private = (p.MANAGED_PREFIX_LIST, "pl", {"entries": [{"cidr": "10.0.0.0/8"}]})
    assert _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), private, ingress_rule("r", prefixListIds=["pl-id"])) == []
    assert (
        "cannot be judged"
        in _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), ingress_rule("r", prefixListIds=["pl-0abc"]))[0]
    )


def _big(**tags: str) -> dict:
    return {**SAFE_LT, "tags": {tag.MODEL: "llama-3.1-70b", tag.MAX_MODEL_LEN: "8192", **tags}}


@pytest.mark.parametrize(
    "props",
    [
        _big(**{tag.TENSOR_PARALLEL: "64"}),
        _big(**{tag.GPU_MEMORY_UTILIZATION: "nan"}),
        _big(**{tag.GPU_MEMORY_UTILIZATION: "inf"}),
        _big(**{tag.GPU_MEMORY_UTILIZATION: "50"}),
        _big(**{tag.MAX_MODEL_LEN: "0"}),
        {**SAFE_LT, "instanceType": "p3.2xlarge"},
        {**SAFE_LT, "instanceType": "g5g.xlarge"},
    ],
)
def test_the_memory_check_cannot_be_turned_advisory(props):
    assert violations(p.gpus_hold_declared_model, props)


def test_the_memory_check_reads_the_vllm_flags_in_user_data():
    script = (
        "#!/bin/bash\ndocker run x vllm serve meta-llama/Llama-3.1-70B --tensor-parallel-size 1 --max-model-len 8192\n"
    )
    lying = {
        **_big(**{tag.TENSOR_PARALLEL: "1", tag.WEIGHTS: "int4-awq", tag.MAX_MODEL_LEN: "16"}),
        "userData": base64.b64encode(script.encode()).decode(),
    }
    assert violations(p.gpus_hold_declared_model, {**lying, "tags": {**lying["tags"], tag.WEIGHTS: "bf16"}})


@pytest.mark.parametrize(
    "resource_type,props",
    [
        (
            p.SPOT_INSTANCE_REQUEST,
            {
                "instanceType": "g6.xlarge",
                "metadataOptions": {"httpTokens": "optional"},
                "userData": f"#!/bin/bash\nexport HF_TOKEN={HF_TOKEN}\n",
            },
        ),
    ],
)
def test_a_spot_instance_request_is_judged_like_an_instance(resource_type, props):
    assert violations(p.imdsv2_required, props, resource_type)
    assert violations(p.no_secrets_in_user_data, props, resource_type)


@pytest.mark.parametrize(
    "resource_type,props",
    [
        (
            p.AUTOSCALING_GROUP,
            {
                "mixedInstancesPolicy": {
                    "launchTemplate": {
                        "overrides": [{"instanceRequirements": {"vcpuCount": {"min": 4}, "memoryMib": {"min": 16384}}}]
                    }
                }
            },
        ),
        (p.EC2_FLEET, {"launchTemplateConfigs": [{"overrides": [{"instanceType": "p3.8xlarge"}]}]}),
        (p.SPOT_FLEET_REQUEST, {"launchSpecifications": [{"instanceType": "g5g.2xlarge"}]}),
    ],
)
def test_every_launcher_is_covered_and_unknowns_never_pass(resource_type, props):
    assert violations(p.gpus_hold_declared_model, props, resource_type)


@pytest.mark.parametrize(
    "script",
    [
        base64.b64encode(
            f"#!/bin/bash\nexport HF_TOKEN={HF_TOKEN}\n".encode()
        ).decode(),  # base64 twice (with the LT's)
        f'#!/bin/bash\nexport HF_TOKEN="{HF_TOKEN[:10]}""{HF_TOKEN[10:]}"\n',  # split across shell words
    ],
)
def test_secrets_are_found_whatever_the_encoding(script):
    props = {**SAFE_LT, "userData": base64.b64encode(script.encode()).decode()}
    found = violations(p.no_secrets_in_user_data, props)
    assert found and HF_TOKEN not in found[0]
