"""The policy pack: each policy with a passing and a failing resource, and the whole pack over programs run under
mocks: the example stacks pass; a hand-written launch template whose GPUs cannot hold its model fails."""

import base64

import pulumi
import pulumi_aws as aws
import pytest
from pulumi_policy import PolicyResource, ResourceValidationArgs, StackValidationArgs

from components import fleet_tags as tag
from policy import policies as p
from policy.check import _options, check, render
from preview.mock_run import MockRun, run_under_mocks
from tests.package.test_examples import EKS_EXAMPLE, PYTHON_EXAMPLE, YAML_EXAMPLE, example
from tests.stack_runs import stack_run

LT = p.LAUNCH_TEMPLATE
SAFE_LT = {
    "instanceType": "g6.xlarge",
    "metadataOptions": {"httpTokens": "required"},
    "blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": {"encrypted": "true", "volumeSize": 100}}],
    "userData": base64.b64encode(b"#!/bin/bash\naws secretsmanager get-secret-value --secret-id x\n").decode(),
    "tags": {tag.MODEL: "llama-3.1-8b", tag.MAX_MODEL_LEN: "8192"},
}


def violations(validate, props: dict, resource_type: str = LT) -> list[str]:
    found: list[str] = []
    args = ResourceValidationArgs(resource_type, props, f"urn:pulumi:t::p::{resource_type}::r", "r", _options(), None)
    validate(args, lambda message, urn=None: found.append(message))
    return found


def test_a_safe_launch_template_passes_every_resource_policy():
    for policy in (
        p.imdsv2_required,
        p.encrypted_volumes,
        p.no_secrets_in_user_data,
        p.gpus_hold_declared_model,
        p.gpu_nodes_declare_their_model,
    ):
        assert violations(policy, SAFE_LT) == [], policy.__name__


@pytest.mark.parametrize(
    "change,needle",
    [
        ({"metadataOptions": {"httpTokens": "optional"}}, "IMDSv1 stays open"),
        ({"metadataOptions": None}, "IMDSv1 stays open"),
    ],
)
def test_imdsv2(change, needle):
    assert needle in violations(p.imdsv2_required, {**SAFE_LT, **change})[0]
    assert violations(p.imdsv2_required, {"metadataOptions": {"httpTokens": "required"}}, p.INSTANCE) == []


def test_encrypted_volumes():
    plain = {**SAFE_LT, "blockDeviceMappings": [{"deviceName": "/dev/sda1", "ebs": {"volumeSize": 100}}]}
    assert "/dev/sda1 not encrypted" in violations(p.encrypted_volumes, plain)[0]
    assert violations(p.encrypted_volumes, {"encrypted": False}, p.VOLUME)
    assert violations(p.encrypted_volumes, {"encrypted": True}, p.VOLUME) == []
    assert violations(p.encrypted_volumes, {"rootBlockDevice": {"encrypted": True}}, p.INSTANCE) == []


@pytest.mark.parametrize(
    "script,kind",
    [
        ("export HF_TOKEN=hf_" + "a" * 34 + "\n", "a Hugging Face token (line 2)"),
        ("AWS_ACCESS_KEY_ID=AKIA" + "B" * 16 + "\n", "an AWS access key id (line 2)"),
        ("DB_PASSWORD=correcthorse\n", "a literal token or password (line 2)"),
    ],
)
def test_no_secrets_in_user_data_names_the_kind_and_never_the_value(script, kind):
    props = {**SAFE_LT, "userData": base64.b64encode(f"#!/bin/bash\n{script}".encode()).decode()}
    found = violations(p.no_secrets_in_user_data, props)
    assert kind in found[0]
    assert script.split("=", 1)[1].strip() not in found[0]
    assert violations(p.no_secrets_in_user_data, {"userData": f"#!/bin/bash\n{script}"}, p.INSTANCE)  # plain text


def test_a_secret_in_gzip_compressed_user_data_is_found():
    """The fleet's own user data is gzip-compressed (EC2's 16 KB limit); a token hidden that way is still found."""
    from components.user_data_codec import encode_user_data

    props = {**SAFE_LT, "userData": encode_user_data("#!/bin/bash\nexport HF_TOKEN=hf_" + "a" * 34 + "\n")}
    assert "a Hugging Face token (line 2)" in violations(p.no_secrets_in_user_data, props)[0]


def test_gpus_hold_declared_model():
    big = {**SAFE_LT, "tags": {tag.MODEL: "llama-3.1-70b", tag.MAX_MODEL_LEN: "8192"}}
    message = violations(p.gpus_hold_declared_model, big)[0]
    assert "g6.xlarge (1 x L4" in message and "cannot hold llama-3.1-70b" in message and "To fix" in message
    fp8_on_p5 = {**big, "instanceType": "p5.48xlarge", "tags": {**big["tags"], tag.WEIGHTS: "fp8"}}
    assert violations(p.gpus_hold_declared_model, fp8_on_p5) == []  # 8 x H100 hold it
    group = {
        "tags": [{"key": tag.MODEL, "value": "llama-3.1-70b"}, {"key": tag.MAX_MODEL_LEN, "value": "8192"}],
        "mixedInstancesPolicy": {"launchTemplate": {"overrides": [{"instanceType": "g5.xlarge"}]}},
    }
    assert "g5.xlarge" in violations(p.gpus_hold_declared_model, group, p.AUTOSCALING_GROUP)[0]
    node_group = {"instanceTypes": ["g6.xlarge"], "tags": big["tags"]}
    assert violations(p.gpus_hold_declared_model, node_group, p.NODE_GROUP)


def test_gpu_nodes_declare_their_model_is_advisory_and_skips_cpu_types():
    assert "no llmfleet:model" in violations(p.gpu_nodes_declare_their_model, {**SAFE_LT, "tags": {}})[0]
    assert violations(p.gpu_nodes_declare_their_model, {**SAFE_LT, "instanceType": "m7i.large", "tags": {}}) == []
    unknown = {**SAFE_LT, "tags": {tag.MODEL: "my-own-model", tag.MAX_MODEL_LEN: "4096"}}
    assert "cannot be sized" in violations(p.gpu_nodes_declare_their_model, unknown)[0]


def _stack(*resources: tuple[str, str, dict]) -> list[str]:
    made = {
        name: PolicyResource(t, {**props, "id": f"{name}-id"}, f"urn:{name}", name, _options(), None, None, [], {})
        for t, name, props in resources
    }
    found: list[str] = []
    p.no_world_ingress_to_gpu_nodes(StackValidationArgs(list(made.values())), lambda m, urn=None: found.append(m))
    return found


def test_no_world_ingress_to_gpu_nodes():
    node = (LT, "node", {**SAFE_LT, "vpcSecurityGroupIds": ["nodes-id"]})
    world = {"type": "ingress", "cidrBlocks": ["0.0.0.0/0"], "fromPort": 8000, "toPort": 8000}
    assert (
        "admits the internet"
        in _stack(
            node,
            (p.SECURITY_GROUP, "nodes", {}),
            (p.SECURITY_GROUP_RULE, "open", {**world, "securityGroupId": "nodes-id"}),
        )[0]
    )
    assert _stack(node, (p.SECURITY_GROUP, "nodes", {"ingress": [{"ipv6CidrBlocks": ["::/0"]}]}))
    assert _stack(node, (p.INGRESS_RULE, "open", {"securityGroupId": "nodes-id", "cidrIpv4": "0.0.0.0/0"}))
    # the load balancer's group may be public (allow_public_ingress); the nodes' may not
    assert (
        _stack(
            node,
            (p.SECURITY_GROUP, "nodes", {}),
            (p.SECURITY_GROUP, "lb", {}),
            (p.SECURITY_GROUP_RULE, "public-lb", {**world, "securityGroupId": "lb-id"}),
        )
        == []
    )


WORLD_EQUIVALENTS = [
    ["0.0.0.0/1", "128.0.0.0/1"],
    ["1.2.3.4/0"],
    ["16.0.0.0/4"],
    ["10.0.0.0/7"],
    [f"{a}.0.0.0/8" for a in (3, 4)],
    ["8.0.0.0/8"],
    ["::/0"],
    ["::/1", "8000::/1"],
    ["2000::/3"],
    ["2400::/9"],
]
NOT_WORLD = [
    ["10.0.0.0/8"],
    ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"],
    ["203.0.113.0/24"],
    ["3.0.0.0/9"],
    ["fd00::/8"],
    ["2001:db8::/32"],
    ["100.64.0.0/10", "169.254.0.0/16"],
    [None, "not-a-cidr"],
]


@pytest.mark.parametrize("cidrs", WORLD_EQUIVALENTS)
def test_ingress_as_wide_as_the_world_to_gpu_nodes_is_refused(cidrs):
    node = (LT, "node", {**SAFE_LT, "vpcSecurityGroupIds": ["nodes-id"]})
    v6 = [c for c in cidrs if ":" in c]
    block = {"cidrBlocks": [c for c in cidrs if c not in v6], "ipv6CidrBlocks": v6}
    assert _stack(node, (p.SECURITY_GROUP, "nodes", {"ingress": [block]}))
    assert _stack(
        node,
        (p.SECURITY_GROUP, "nodes", {}),
        (p.SECURITY_GROUP_RULE, "open", {"type": "ingress", "securityGroupId": "nodes-id", **block}),
    )
    if len(cidrs) == 1:
        key = "cidrIpv6" if v6 else "cidrIpv4"
        assert _stack(node, (p.INGRESS_RULE, "open", {"securityGroupId": "nodes-id", key: cidrs[0]}))


@pytest.mark.parametrize("cidrs", NOT_WORLD)
def test_private_and_narrow_ingress_to_gpu_nodes_passes(cidrs):
    node = (LT, "node", {**SAFE_LT, "vpcSecurityGroupIds": ["nodes-id"]})
    v6 = [c for c in cidrs if c and ":" in c]
    block = {"cidrBlocks": [c for c in cidrs if c not in v6], "ipv6CidrBlocks": v6}
    assert _stack(node, (p.SECURITY_GROUP, "nodes", {"ingress": [block]})) == []
    assert (
        _stack(
            node,
            (p.SECURITY_GROUP, "nodes", {}),
            (p.SECURITY_GROUP_RULE, "open", {"type": "ingress", "securityGroupId": "nodes-id", **block}),
        )
        == []
    )


def test_no_world_ingress_links_groups_by_dependency_when_ids_are_unknown():
    """In a preview, ids are unknown: the node's and the rule's dependencies on the security group link them."""
    group = PolicyResource(p.SECURITY_GROUP, {}, "urn:nodes", "nodes", _options(), None, None, [], {})
    node = PolicyResource(
        LT,
        {**SAFE_LT, "vpcSecurityGroupIds": [None]},
        "urn:node",
        "node",
        _options(),
        None,
        None,
        [group],
        {"vpcSecurityGroupIds": [group]},
    )  # the id is None in a preview
    rule = PolicyResource(
        p.SECURITY_GROUP_RULE,
        {"type": "ingress", "cidrBlocks": ["0.0.0.0/0"]},
        "urn:open",
        "open",
        _options(),
        None,
        None,
        [group],
        {"securityGroupId": [group]},
    )
    found: list[str] = []
    p.no_world_ingress_to_gpu_nodes(StackValidationArgs([group, node, rule]), lambda m, urn=None: found.append(m))
    assert len(found) == 1 and found[0].startswith("open: admits the internet")


@pytest.mark.parametrize("name", ["dev", "prod", "eks", "batch"])
def test_the_pack_passes_the_example_stacks(name):
    assert check(stack_run(name).resources, name) == []


@pytest.mark.parametrize("folder", [YAML_EXAMPLE, PYTHON_EXAMPLE, EKS_EXAMPLE], ids=["yaml", "python", "eks"])
def test_the_pack_passes_the_example_programs(folder):
    assert check(example(folder).resources) == []


def handwritten_launch_template() -> MockRun:
    """A program written without the component: Llama 3.1 70B in BF16 declared on one L4 (24 GB)."""
    run = MockRun(stack="handwritten")

    def program() -> pulumi.Output:
        lt = aws.ec2.LaunchTemplate(
            "llama70b",
            instance_type="g6.xlarge",
            image_id="ami-0123456789abcdef0",
            metadata_options={"http_tokens": "required", "http_endpoint": "enabled"},
            block_device_mappings=[{"device_name": "/dev/sda1", "ebs": {"volume_size": 300, "encrypted": "true"}}],
            tags={tag.MODEL: "llama-3.1-70b", tag.MAX_MODEL_LEN: "8192"},
        )
        return lt.id

    return run_under_mocks({"aws:region": "us-east-1"}, run, program)


def test_the_pack_fails_a_handwritten_launch_template_that_cannot_hold_its_model():
    found = check(handwritten_launch_template().resources, "handwritten")
    assert [(v.policy, v.level) for v in found] == [("gpus-hold-declared-model", "mandatory")]
    shown = render(found[0])
    assert shown.startswith(
        "    - [mandatory]  gpus-hold-declared-model  (aws:ec2/launchTemplate:LaunchTemplate: llama70b)"
    )
    assert "g6.xlarge (1 x L4" in shown and "cannot hold llama-3.1-70b (bf16, TP=1 PP=1) at max-model-len 8192" in shown


def test_the_docs_show_the_violation_as_the_pack_reports_it():
    """docs/policy-pack.md shows the violation verbatim; the README gives the command and links that page."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    page, readme = (root / "docs" / "policy-pack.md").read_text(), (root / "README.md").read_text()
    assert render(check(handwritten_launch_template().resources, "handwritten")[0]) in page
    assert "pulumi preview --policy-pack policy" in page and "pulumi preview --policy-pack policy" in readme
    assert "(docs/policy-pack.md)" in readme
