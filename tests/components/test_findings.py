"""One test per finding of the line-by-line review against the AWS and vLLM documentation (issue 10). Each fails on
the code before the fix; the node-level findings are pinned by test_node_simulation.py, the AWS limits by
test_aws_constraints.py."""

from __future__ import annotations

import json
import re
import shutil

import pulumi
import pulumi_aws as aws
import pytest

from components import ServingFleet, ServingFleetArgs
from components.compute import IGNORED_GROUP_CHANGES
from components.userdata import BootContext, render_user_data
from deploy.fleet_spec import capacity_spec, efa_interfaces, node_spec
from deploy.options import FleetOptions
from deploy.shell_values import UnsafeShellValueError
from preview.mock_run import PROJECT, FleetMocks, MockRun, run_stack
from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.files import read_csv
from sizing.catalog.instances import get_instance_type
from sizing.catalog.node_hardware import node_hardware
from sizing.cli.main import main
from sizing.planner.cold_start import plan_cold_start, weights_disk
from sizing.planner.results import Plan
from tests.components.aws_rules import RULES
from tests.components.conftest import ROOT, STACKS, stack_options, stack_run, user_data


def fleet_run(name: str, stack: str = "dev", plan: Plan | None = None, **options) -> MockRun:
    """ServingFleet for an example stack's plan (or the plan given) under a fresh mock, with other options."""
    served = plan or stack_run(stack).plan  # before the mocks are set: a first stack_run sets its own
    assert served
    run = MockRun(stack=name)
    pulumi.runtime.set_mocks(FleetMocks(run, "us-east-1"), project=PROJECT, stack=name, preview=False)

    @pulumi.runtime.test
    def program():
        fleet = ServingFleet(name, ServingFleetArgs(plan=served, options=FleetOptions(**options)))
        return fleet.endpoint.apply(lambda url: run.outputs.update(endpoint=url))

    program()
    return run


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
        efa_cards = [c["NetworkCardIndex"] for c in api["NetworkInfo"].get("NetworkCards", [])
                     if "efa" in c.get("InterfaceTypes", ["efa"])]
        assert hw.efa_first_card == (efa_cards[0] if efa_cards and hw.efa_interfaces_max else 0), (name, efa_cards)


# Boot measured and waited for.
def test_weights_on_instance_store_else_gp3_sized_from_the_download():
    a = default_assumptions()
    assert weights_disk(get_instance_type("p5.48xlarge"), 140e9, a).kind == "instance-store"
    disk = weights_disk(get_instance_type("g6.xlarge"), 300e9, a)  # 250 GB local disk: too small
    assert disk.kind == "gp3" and disk.gp3_throughput_mibps > 125  # not the 125 MiB/s default
    ebs = stack_run("dev").one("LaunchTemplate").inputs["blockDeviceMappings"][0]["ebs"]
    assert "throughput" not in ebs or ebs["throughput"] > 125


def test_cold_start_is_explained_term_by_term(capsys):
    plan = stack_run("prod").plan
    terms = plan_cold_start(plan).explain()
    assert [t.split()[0] for t in terms] == ["instance", "image", "download", "load", "engine", "total"]
    assert "limited by the" in terms[2]
    assert plan_cold_start(plan).total_s == pytest.approx(plan.choice.cold_start_s)  # the planner prices the same
    assert main(["plan", "--stack", str(STACKS["prod"])]) == 0
    assert "cold start, term by term: instance boot" in capsys.readouterr().out


# Safe rollouts.
def test_launch_template_version_pinned_and_rolled_by_instance_refresh(ec2_stack):
    group = next(g for g in ec2_stack.of_type("Group") if g.name.endswith("-replicas"))
    spec = group.inputs["mixedInstancesPolicy"]["launchTemplate"]["launchTemplateSpecification"]
    assert spec["version"] == "1"  # the template's latest_version at deploy time, not "$Latest"
    assert group.inputs["instanceRefresh"]["strategy"] == "Rolling"
    prefs = group.inputs["instanceRefresh"]["preferences"]
    assert (prefs["minHealthyPercentage"], prefs["maxHealthyPercentage"]) == (100, 200)


def test_desired_capacity_ignored_after_creation(monkeypatch):
    seen = []
    original = aws.autoscaling.Group.__init__

    def spy(self, resource_name, *args, **kwargs):
        seen.append(kwargs.get("opts").ignore_changes)
        original(self, resource_name, *args, **kwargs)

    monkeypatch.setattr(aws.autoscaling.Group, "__init__", spy)
    fleet_run("spy", allowed_cidrs=("10.0.0.0/8",))
    assert seen == [IGNORED_GROUP_CHANGES] and "desiredCapacity" in IGNORED_GROUP_CHANGES


# Hardening.
def test_private_subnets_and_endpoints_by_default():
    run = stack_run("dev")
    (group,) = run.of_type("Group")
    private = {f"{s.name}-id" for s in run.of_type("Subnet") if not s.inputs["mapPublicIpOnLaunch"]}
    assert set(group.inputs["vpcZoneIdentifiers"]) <= private
    assert run.of_type("NatGateway") and {"secretsmanager", "ssm", "autoscaling"} <= {
        e.name.split("-net-")[1] for e in run.of_type("VpcEndpoint")}
    public = fleet_run("pub", allowed_cidrs=("10.0.0.0/8",), public_node_ips=True)
    assert not public.of_type("NatGateway")
    assert all(s.inputs["mapPublicIpOnLaunch"] for s in public.of_type("Subnet"))


def test_api_key_comes_from_secrets_manager(ec2_stack):
    assert ec2_stack.of_type("Secret")
    assert f"--secret-id arn:aws:secretsmanager:us-east-1:123456789012:secret:{ec2_stack.stack}-api-key-AbCdEf" in user_data(ec2_stack) and "VLLM_API_KEY" in user_data(ec2_stack)
    assert ec2_stack.outputs.get("endpoint")


def test_image_mirror_pulls_from_ecr_with_the_role():
    mirror = "123456789012.dkr.ecr.us-east-1.amazonaws.com/vllm"
    run = fleet_run("mirror", allowed_cidrs=("10.0.0.0/8",), image_mirror=mirror)
    script = user_data(run)
    assert f"IMAGE={mirror}:v0.19.0" in script and "aws ecr get-login-password" in script
    policy = json.loads(run.one("RolePolicy").inputs["policy"])
    assert ["arn:aws:ecr:us-east-1:123456789012:repository/vllm"] in [s["Resource"] for s in policy["Statement"]]


# Smaller findings.
def test_long_stack_names_fit_load_balancer_limits():
    run = fleet_run("a-very-long-stack-name-for-the-platform-team", allowed_cidrs=("10.0.0.0/8",))
    lb_rule = next(r for r in RULES if r.name == "load balancer and target group names")
    assert lb_rule.check(run) == []
    other = fleet_run("a-very-long-stack-name-for-the-platform-team-2", allowed_cidrs=("10.0.0.0/8",))
    assert run.one("LoadBalancer").inputs["name"] != other.one("LoadBalancer").inputs["name"]


def test_https_endpoint_is_an_https_url_with_the_custom_domain():
    assert stack_run("prod").outputs["endpoint"].startswith("https://")
    run = fleet_run("tls", allowed_cidrs=("10.0.0.0/8",), certificate_arn="arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
                    domain_name="llm.example.com")
    assert run.outputs["endpoint"] == "https://llm.example.com"


def test_clients_can_reach_their_vpc():
    run = fleet_run("clients", vpc_cidr="10.20.0.0/16", allowed_cidrs=("10.20.0.0/16",))
    assert run.one("Vpc").inputs["cidrBlock"] == "10.20.0.0/16"
    with pytest.raises(ValueError, match="lie outside the created VPC"):
        FleetOptions(allowed_cidrs=("10.20.0.0/16",))


def test_hf_token_fetch_is_not_masked(ec2_stack):
    assert 'printf \'HF_TOKEN=%s\\n\' "$(' not in user_data(ec2_stack)  # a failing $(...) inside printf is ignored


def test_existing_subnets_in_one_zone_are_refused():
    run = MockRun(stack="prod", subnet_zones={"subnet-0aa11bb22cc33dd44": "us-east-1a",
                                              "subnet-0ee55ff66aa77bb88": "us-east-1a"})
    with pytest.raises(Exception, match="at least 2 Availability Zones"):
        run_stack(STACKS["prod"], run)


def test_config_path_with_a_newline_cannot_inject(tmp_path):
    evil = tmp_path / "m\ntouch ${HOME}pwned #" / "config.json"
    evil.parent.mkdir()
    shutil.copy(ROOT / "tests/data/configs/codellama-7b.json", evil)
    stack = tmp_path / "Pulumi.evil.yaml"
    stack.write_text(json.dumps({"config": {
        "aws:region": "us-east-1", "llmfleet:model": str(evil),
        "llmfleet:deployment": {"instance_types": ["g6e.xlarge"]},
        "llmfleet:fleet": {"allowed_cidrs": ["10.0.0.0/8"], "weights": {"hf_model_id": "codellama/CodeLlama-7b-hf"}}}}))
    recorded = MockRun(stack="evil")
    with pytest.raises(Exception, match="control character|cannot be passed to the node.s bootstrap script") as info:
        run_stack(stack, recorded)
    assert "\\n" in str(info.value)  # the bad value shown with repr
    assert not recorded.of_type("LaunchTemplate")


def test_user_data_refuses_a_served_name_with_shell_syntax_even_past_the_config_boundary():
    run, cfg = stack_run("dev"), stack_options("dev")
    evil = run.plan.model_copy(update={"model": "m\nreboot #"})
    with pytest.raises(UnsafeShellValueError, match="'m\\\\nreboot #' cannot be passed to the node"):
        render_user_data(node_spec(evil, cfg.fleet), capacity_spec(evil, cfg.fleet), cfg.fleet,
                         BootContext("dev", "llmfleet/dev/dev", evil.checkpoint.repo, "llmfleet/x/dev/api-key",
                            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t-tg/0123456789abcdef", "/llmfleet/t"))


@pytest.mark.parametrize("field,value", [("vllm_image", "vllm/vllm-openai:v0.19.0;reboot"),
                                         ("efa_image", "x/y:1\nreboot")])
def test_images_are_checked_before_they_reach_the_script(field, value):
    with pytest.raises((ValueError, UnsafeShellValueError)):
        fleet_run("img", allowed_cidrs=("10.0.0.0/8",), **{field: value})


SLOW_FACTOR = 4
"""How much slower than predicted the estimated terms may run (image pull: an assumption; download: a NIC efficiency
estimate and a hub rate) before a node misses its deadline."""


def test_ready_deadline_survives_slow_pulls_and_downloads(ec2_stack):
    """The launch hook ABANDONs a node that is not serving by its deadline, and every replacement is as slow: a
    deadline with no room for the estimated terms running slower replaces nodes forever. Each example stack's node
    deadline holds with the image pull and the download SLOW_FACTOR times slower than predicted."""
    cold = plan_cold_start(ec2_stack.plan)
    slow = cold.total_s + (SLOW_FACTOR - 1) * (cold.image_pull_s + cold.download_s)
    deadline = int(re.search(r"DEADLINE=\$\(\( \$\(date \+%s\) \+ (\d+) \)\)", user_data(ec2_stack)).group(1))
    assert deadline >= slow, f"deadline {deadline} s < {slow:.0f} s"


@pytest.mark.parametrize("key", ["Cost Center", "team/owner", "_index"])
def test_tag_keys_instance_metadata_refuses_are_rejected_before_launch(key):
    """The launch template enables tags in instance metadata (the node reads its group name there), and EC2 then refuses
    to launch an instance whose tag key has a space or '/' (or is '.', '..', '_index'): every launch of the group would
    fail. https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html"""
    with pytest.raises(ValueError, match="instance metadata") as raised:
        FleetOptions(tags={key: "x"})
    assert "To fix:" in str(raised.value)
    assert FleetOptions(tags={"cost-center": "x", "team:owner": "y"}).tags  # what instance metadata accepts


def _own_condition(stack: str, component: str) -> dict:
    plan = stack_run("dev").plan  # before the mocks below: a cached stack run sets its own
    run = MockRun(stack=stack)
    pulumi.runtime.set_mocks(FleetMocks(run, "us-east-1"), project=PROJECT, stack=stack, preview=False)

    @pulumi.runtime.test
    def program():
        return ServingFleet(component, ServingFleetArgs(plan=plan)).endpoint

    program()
    policy = json.loads(run.one("RolePolicy").inputs["policy"])
    group_tags = {t["key"]: t["value"] for t in run.of_type("Group")[0].inputs["tags"]}
    (own,) = [st["Condition"] for st in policy["Statement"] if st["Sid"] == "OwnLifecycle"]
    assert own["StringEquals"]["aws:ResourceTag/llmfleet:fleet"] == group_tags["llmfleet:fleet"]  # it scopes its own
    return own


def test_the_fleet_tag_scoping_node_writes_is_unique_per_stack():
    """The node role may complete lifecycle actions and set instance health only where llmfleet:fleet matches: two
    stacks whose component has the same name (a YAML program's `fleet`) must not match each other."""
    assert _own_condition("dev", "fleet") != _own_condition("prod", "fleet")


def test_https_without_a_domain_warns_that_tls_verification_fails(tmp_path):
    """An ACM certificate cannot cover the load balancer's *.elb.amazonaws.com name, so an https endpoint on that name
    fails TLS verification in every client: the run says so, and the prod example names its domain."""
    stack = tmp_path / "Pulumi.prod.yaml"  # no plan lock next to it: the fresh plan deploys
    stack.write_text(STACKS["prod"].read_text().replace("    domain_name: llm.prod.example.com", "    # no domain"))
    bare = run_stack(stack, MockRun(stack="prod"))
    assert any("fail TLS verification" in line and "To fix:" in line for line in bare.logs)
    assert stack_run("prod").outputs["endpoint"] == "https://llm.prod.example.com"
    assert not any("fail TLS verification" in line for line in stack_run("prod").logs)
