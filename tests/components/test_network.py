"""The fleet's network: private subnets and endpoints, clients' VPCs, subnets in two zones, load balancer names and
HTTPS endpoints (issue 10's review against the AWS documentation)."""

from __future__ import annotations

import pytest

from deploy.options import FleetOptions
from preview.mock_run import MockRun, run_stack
from tests.components.aws_rules import RULES
from tests.fleet_run import fleet_run
from tests.stack_runs import STACKS, stack_run


# Hardening.
def test_private_subnets_and_endpoints_by_default():
    run = stack_run("dev")
    (group,) = run.of_type("Group")
    private = {f"{s.name}-id" for s in run.of_type("Subnet") if not s.inputs["mapPublicIpOnLaunch"]}
    assert set(group.inputs["vpcZoneIdentifiers"]) <= private
    assert run.of_type("NatGateway") and {"secretsmanager", "ssm", "autoscaling"} <= {
        e.name.split("-net-")[1] for e in run.of_type("VpcEndpoint")
    }
    public = fleet_run("pub", allowed_cidrs=("10.0.0.0/8",), public_node_ips=True)
    assert not public.of_type("NatGateway")
    assert all(s.inputs["mapPublicIpOnLaunch"] for s in public.of_type("Subnet"))


# Smaller findings.
def test_long_stack_names_fit_load_balancer_limits():
    run = fleet_run("a-very-long-stack-name-for-the-platform-team", allowed_cidrs=("10.0.0.0/8",))
    lb_rule = next(r for r in RULES if r.name == "load balancer and target group names")
    assert lb_rule.check(run) == []
    other = fleet_run("a-very-long-stack-name-for-the-platform-team-2", allowed_cidrs=("10.0.0.0/8",))
    assert run.one("LoadBalancer").inputs["name"] != other.one("LoadBalancer").inputs["name"]


def test_https_endpoint_is_an_https_url_with_the_custom_domain():
    assert stack_run("prod").outputs["endpoint"].startswith("https://")
    run = fleet_run(
        "tls",
        allowed_cidrs=("10.0.0.0/8",),
        certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
        domain_name="llm.example.com",
    )
    assert run.outputs["endpoint"] == "https://llm.example.com"


def test_clients_can_reach_their_vpc():
    run = fleet_run("clients", vpc_cidr="10.20.0.0/16", allowed_cidrs=("10.20.0.0/16",))
    assert run.one("Vpc").inputs["cidrBlock"] == "10.20.0.0/16"
    with pytest.raises(ValueError, match="lie outside the created VPC"):
        FleetOptions(allowed_cidrs=("10.20.0.0/16",))


def test_existing_subnets_in_one_zone_are_refused():
    run = MockRun(
        stack="prod", subnet_zones={"subnet-0aa11bb22cc33dd44": "us-east-1a", "subnet-0ee55ff66aa77bb88": "us-east-1a"}
    )
    with pytest.raises(Exception, match="at least 2 Availability Zones"):
        run_stack(STACKS["prod"], run)


def test_https_without_a_domain_warns_that_tls_verification_fails(tmp_path):
    """An ACM certificate cannot cover the load balancer's *.elb.amazonaws.com name, so an https endpoint on that name
    fails TLS verification in every client: the run says so, and the prod example names its domain."""
    stack = tmp_path / "Pulumi.prod.yaml"  # no plan lock next to it: the fresh plan deploys
    stack.write_text(STACKS["prod"].read_text().replace("    domain_name: llm.prod.example.com", "    # no domain"))
    bare = run_stack(stack, MockRun(stack="prod"))
    assert any("fail TLS verification" in line and "To fix:" in line for line in bare.logs)
    assert stack_run("prod").outputs["endpoint"] == "https://llm.prod.example.com"
    assert not any("fail TLS verification" in line for line in stack_run("prod").logs)
