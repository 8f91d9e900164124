"""Credentials and images on the node: the API key from Secrets Manager, the HF token fetch, an ECR image mirror pulled
with the node's role (issue 10's review against the AWS documentation)."""

from __future__ import annotations

import json

from tests.fleet_run import fleet_run
from tests.stack_runs import user_data


def test_api_key_comes_from_secrets_manager(ec2_stack):
    assert ec2_stack.of_type("Secret")
    assert (
        f"--secret-id arn:aws:secretsmanager:us-east-1:123456789012:secret:{ec2_stack.stack}-api-key-AbCdEf"
        in user_data(ec2_stack)
        and "VLLM_API_KEY" in user_data(ec2_stack)
    )
    assert ec2_stack.outputs.get("endpoint")


def test_image_mirror_pulls_from_ecr_with_the_role():
    mirror = "123456789012.dkr.ecr.us-east-1.amazonaws.com/vllm"
    run = fleet_run("mirror", allowed_cidrs=("10.0.0.0/8",), image_mirror=mirror)
    script = user_data(run)
    assert f"IMAGE={mirror}:v0.19.0" in script and "aws ecr get-login-password" in script
    policy = json.loads(run.one("RolePolicy").inputs["policy"])
    assert ["arn:aws:ecr:us-east-1:123456789012:repository/vllm"] in [s["Resource"] for s in policy["Statement"]]


def test_hf_token_fetch_is_not_masked(ec2_stack):
    assert "printf 'HF_TOKEN=%s\\n' \"$(" not in user_data(ec2_stack)  # a failing $(...) inside printf is ignored
