"""Secure defaults in what the program emits: the IAM policy of every example stack; the launch template, security
groups, load balancer and user data of the platform-ec2 stacks."""

import json

from components.iam import SESSION_MANAGER_ACTIONS
from sizing.units import to_gib
from tests.stack_runs import user_data

SECRET_MARKERS = ("hf_", "HF_TOKEN=hf", "token-value", "AKIA")


def test_imdsv2_required(ec2_stack):
    meta = ec2_stack.one("LaunchTemplate").inputs["metadataOptions"]
    assert meta["httpTokens"] == "required" and meta["httpPutResponseHopLimit"] == 1


def test_root_volume_encrypted_gp3_sized_from_weights(ec2_stack):
    ebs = ec2_stack.one("LaunchTemplate").inputs["blockDeviceMappings"][0]["ebs"]
    assert ebs["encrypted"] == "true" and ebs["volumeType"] == "gp3"
    if "throughput" in ebs:  # weights on the root volume: room for them
        assert ebs["volumeSize"] > to_gib(ec2_stack.plan.checkpoint.download_bytes)


def test_no_ingress_from_the_internet(ec2_stack):
    for rule in ec2_stack.of_type("SecurityGroupRule"):
        if rule.inputs["type"] == "ingress":
            assert "0.0.0.0/0" not in (rule.inputs.get("cidrBlocks") or [])
    assert ec2_stack.one("LoadBalancer").inputs["internal"] is True


def test_nodes_accept_the_api_only_from_the_load_balancer(ec2_stack):
    lb_sg = next(r for r in ec2_stack.of_type("SecurityGroup") if r.name.endswith("-lb")).name + "-id"
    node_sg = next(r for r in ec2_stack.of_type("SecurityGroup") if r.name.endswith("-node")).name + "-id"
    node_ingress = [
        r.inputs
        for r in ec2_stack.of_type("SecurityGroupRule")
        if r.inputs["type"] == "ingress" and r.inputs["securityGroupId"] == node_sg
    ]
    assert all(r["sourceSecurityGroupId"] == lb_sg for r in node_ingress)
    assert all("22" not in str(r.get("fromPort")) for r in node_ingress)  # no SSH: Session Manager instead


READ_ONLY_OR_SESSION = {"ecr:GetAuthorizationToken", *SESSION_MANAGER_ACTIONS}


def test_iam_is_least_privilege(any_stack):
    policy = json.loads(any_stack.one("RolePolicy").inputs["policy"])
    for statement in policy["Statement"]:
        assert all(not a.endswith(":*") and a != "*" for a in statement["Action"])
        if statement["Resource"] == ["*"] and "Condition" not in statement:
            assert set(statement["Action"]) <= READ_ONLY_OR_SESSION  # cannot be scoped by resource
    # no AWS managed policy: AmazonSSMManagedInstanceCore grants ssm:GetParameter(s) on every parameter
    assert not any_stack.of_type("RolePolicyAttachment")
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert not {"ssm:GetParameters", "ssm:GetDocument"} & actions
    assert "ssm:GetParameter" not in actions or any_stack.stack not in ("dev", "prod", "batch")


def test_token_is_fetched_at_boot_and_never_in_user_data_or_outputs(ec2_stack):
    script = user_data(ec2_stack)
    # every stack output but the fleet's own API-key secret (exported on purpose: clients read the key from it)
    outputs = json.dumps({k: v for k, v in ec2_stack.outputs.items() if k != "api_key_secret"})
    assert not any(marker in script for marker in SECRET_MARKERS)
    assert "set -x" not in script
    assert "aws secretsmanager get-secret-value" in script and '>>"$RUN_DIR/env"' in script
    assert "secretsmanager" not in outputs and "HF_TOKEN" not in outputs
