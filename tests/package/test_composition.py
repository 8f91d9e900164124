"""Inputs that compose: ids and ARNs from other resources (Outputs) wire the fleet in; a provider given to the
component reaches every child resource and every invoke."""

import json

import pulumi
import pulumi_aws as aws

from components.llm_fleet import LlmServingFleet
from components.user_data_codec import decode_user_data
from deploy.options import FleetOptions
from preview.mock_run import MockRun, run_under_mocks

DEV_ARGS = {
    "model": "llama-3.1-8b",
    "workload": {"concurrency": 16, "tpot_ms": 60},
    "deployment": {"instance_types": ["g6.xlarge", "g5.xlarge"]},
    "fleet": {"allowed_cidrs": ["10.0.0.0/8"]},
}
CONFIG = {"aws:region": "us-east-1"}


def test_fleet_options_take_outputs_where_they_only_wire():
    vpc = pulumi.Output.from_input("vpc-0abc")
    options = FleetOptions(vpc_id=vpc, subnet_ids=pulumi.Output.from_input(["subnet-1", "subnet-2"]))
    assert options.vpc_id is vpc and options.known_subnet_ids == ()


def test_output_valued_network_certificate_and_secret():
    run = MockRun(stack="composed")

    def program() -> pulumi.Output:
        vpc = aws.ec2.Vpc("shared", cidr_block="10.9.0.0/16")
        subnets = [aws.ec2.Subnet(f"shared-{i}", vpc_id=vpc.id, cidr_block=f"10.9.{i}.0/24") for i in range(2)]
        token = aws.secretsmanager.Secret("hf-token")
        cert = aws.acm.Certificate("api", domain_name="llm.example.com", validation_method="DNS")
        clients = aws.ec2.SecurityGroup("clients", vpc_id=vpc.id)
        fleet = LlmServingFleet(
            "fleet",
            {
                **DEV_ARGS,
                "fleet": {  # type: ignore[typeddict-item]
                    "vpc_id": vpc.id,
                    "subnet_ids": [s.id for s in subnets],
                    "allowed_security_group_ids": [clients.id],
                    "certificate_arn": cert.arn,
                    "weights": {"hf_token_secret_arn": token.arn},
                },
            },
        )
        return pulumi.Output.all(fleet.endpoint, token.arn)

    run_under_mocks(CONFIG, run, program)
    secret_arn = next(r for r in run.resources if r.name == "hf-token").name
    assert [r.name for r in run.of_type("Vpc")] == ["shared"]  # the given VPC, none created
    assert {r.inputs["vpcId"] for r in run.of_type("SecurityGroup") if r.name != "clients"} == {"shared-id"}
    assert run.one("LoadBalancer").inputs["subnets"] == ["shared-0-id", "shared-1-id"]
    assert run.one("Listener").inputs["certificateArn"].endswith(":api")
    assert "clients-id" in {r.inputs.get("sourceSecurityGroupId") for r in run.of_type("SecurityGroupRule")}
    policy = json.loads(run.one("RolePolicy").inputs["policy"])
    arn = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:{secret_arn}-AbCdEf"  # the mock's real-shaped ARN
    assert [s["Resource"] for s in policy["Statement"] if s["Sid"] == "ReadHfToken"][0][0] == arn
    script = decode_user_data(run.one("LaunchTemplate").inputs["userData"])
    assert f"--secret-id {arn}" in script


def test_an_explicit_provider_reaches_every_child_and_invoke():
    run = MockRun(stack="provider")

    def program() -> pulumi.Output:
        explicit = aws.Provider("explicit", region="us-east-1")
        fleet = LlmServingFleet("fleet", DEV_ARGS, opts=pulumi.ResourceOptions(provider=explicit))  # type: ignore[arg-type]
        return pulumi.Output.all(fleet.endpoint, explicit.urn)

    run_under_mocks(CONFIG, run, program)
    aws_resources = [r for r in run.resources if r.custom and r.type.startswith("aws:") and r.name != "explicit"]
    assert len(aws_resources) > 20
    ref = "pulumi:providers:aws::explicit::"
    assert [r.name for r in aws_resources if ref not in (r.provider or "")] == []
    zones = [provider for token, provider in run.calls if token.endswith("getAvailabilityZones")]
    assert len(zones) == 1 and ref in (zones[0] or "")
