"""platform eks in a stack file: the cluster section is validated before any resource, every value that reaches a
manifest, an IAM policy or a Prometheus query comes from a closed set or a checked pattern, and a plan the platform
cannot run is refused with what to do."""

from __future__ import annotations

import pytest

from deploy.eks_spec import dns_name
from deploy.stack_config import ConfigError, load_stack_config
from preview.mock_run import MockRun, run_stack
from tests.stack_runs import STACKS

EKS = {"platform": "eks", "cluster": {"name": "ml-platform"}}


def fleet(**extra) -> dict:
    return {"model": "llama-3.1-8b", "fleet": {**EKS, **extra}}


def cluster(**extra) -> dict:
    return {"model": "llama-3.1-8b", "fleet": {"platform": "eks", "cluster": {"name": "ml-platform", **extra}}}


@pytest.mark.parametrize(
    "raw,needles",
    [
        ({"model": "llama-3.1-8b", "fleet": {"platform": "eks"}}, ["platform 'eks' needs cluster"]),
        ({"model": "llama-3.1-8b", "fleet": {"cluster": {"name": "c"}}}, ["platform is 'ec2'"]),
        ({"model": "llama-3.1-8b", "fleet": {"platform": "gke"}}, ["llmfleet:fleet.platform='gke'", "'ec2' or 'eks'"]),
        (
            fleet(vpc_id="vpc-0123456789abcdef0", subnet_ids=["subnet-1", "subnet-2"]),
            ["subnet_ids, vpc_id shape the EC2"],
        ),
        (fleet(allowed_cidrs=["10.0.0.0/8"]), ["cluster.ingress is 'none'", "cluster.ingress: alb"]),
        (
            {
                "model": "llama-3.1-8b",
                "fleet": {
                    "platform": "eks",
                    "cluster": {"name": "c", "ingress": "alb"},
                    "allow_public_ingress": True,
                    "allowed_cidrs": ["0.0.0.0/0"],
                },
            },
            ["without certificate_arn", "clear text"],
        ),
        (cluster(name="-bad"), ["is not an EKS cluster name"]),
        (cluster(name="x" * 101), ["is not an EKS cluster name"]),
        (cluster(namespace="kube-system"), ["not starting with kube-"]),
        (cluster(namespace="Bad_NS"), ["is not a namespace"]),
        (cluster(node_role="arn:aws:iam::123456789012:role/x"), ["give the name, not the ARN"]),
        (cluster(identity="irsa"), ["needs oidc_provider_arn"]),
        (cluster(oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/x"), ["used by identity 'irsa' only"]),
        (cluster(identity="irsa", oidc_provider_arn="arn:aws:iam::1:role/x"), ["not an IAM OIDC provider ARN"]),
        (cluster(prometheus_url="http://admin:hunter2@prometheus:9090"), ["no credentials or query"]),
        (cluster(prometheus_url="http://prometheus:9090/?q=$(id)"), ["no credentials or query"]),
        (cluster(ami_alias="al2023@latest; rm -rf"), ["is not a GPU AMI alias"]),
        (cluster(zone="us-east-1"), ["is not an Availability Zone"]),
        (cluster(capacity_reservation_ids=["cr-1", "r-2"]), ["'r-2'"]),
        (cluster(monitor_labels={"release": "a b"}), ["is not a Kubernetes label"]),
        (cluster(discovery_tag="aws:cluster"), ["is not an AWS tag key"]),
        (cluster(ingress="nginx"), ["'none' or 'alb'"]),
        (cluster(clustername="x"), ["clustername", "Extra inputs are not permitted"]),
    ],
)
def test_bad_cluster_config_is_refused_with_the_key(raw, needles):
    with pytest.raises(ConfigError) as info:
        load_stack_config(raw, aws_region="us-east-1")
    for needle in needles:
        assert needle in str(info.value)
    assert "To fix" in str(info.value)


def test_a_valid_cluster_config_reads():
    cfg = load_stack_config(
        cluster(
            identity="irsa",
            oidc_provider_arn="arn:aws:iam::123456789012:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
            ami_alias="bottlerocket@v1.30.0",
        )
    )
    assert cfg.fleet.cluster and cfg.fleet.cluster.karpenter_node_role == "KarpenterNodeRole-ml-platform"


@pytest.mark.parametrize(
    "parts,expected",
    [
        (("llmfleet", "dev", "dev"), "llmfleet-dev"),
        (("My_Project", "Prod", "fleet"), "my-project-prod-fleet"),
        (("llmfleet", "a" * 80, "x"), None),
    ],
)
def test_object_names_are_dns_labels_of_at_most_40(parts, expected):
    name = dns_name(*parts)
    assert len(name) <= 40 and name == (expected or name)
    assert dns_name("llmfleet", "a" * 80, "x") != dns_name("llmfleet", "a" * 80, "y")  # the digest keeps them apart


def _copy(tmp_path, text: str, name: str = "batch"):
    path = tmp_path / f"Pulumi.{name}.yaml"
    path.write_text(text)
    return path


def test_multi_node_without_a_zone_is_refused_before_any_resource(tmp_path):
    """Pre-flight off (no zones known) and no cluster.zone: a replica's nodes need one zone, so the preview stops."""
    text = STACKS["batch"].read_text().replace("      zone: us-east-1a\n", "")
    run = MockRun(stack="batch")
    with pytest.raises(Exception) as info:
        run_stack(_copy(tmp_path, text), run)
    assert "must share one Availability Zone" in str(info.value) and "cluster.zone" in str(info.value)
    assert [r for r in run.resources if r.custom] == []


BLOCK = "    instance_types: [p5.48xlarge]\n    purchase: capacity-block\n"


def test_a_capacity_block_without_its_reservation_is_refused(tmp_path):
    text = STACKS["batch"].read_text().replace("    instance_types: [p5.48xlarge]\n", BLOCK)
    run = MockRun(stack="batch")
    with pytest.raises(Exception) as info:
        run_stack(_copy(tmp_path, text), run)
    assert "capacity_reservation_ids" in str(info.value) and "To fix" in str(info.value)
    assert [r for r in run.resources if r.custom] == []


def test_a_capacity_block_launches_into_its_reservation(tmp_path):
    text = (
        STACKS["batch"]
        .read_text()
        .replace("    instance_types: [p5.48xlarge]\n", BLOCK)
        .replace(
            "      zone: us-east-1a\n",
            "      zone: us-east-1a\n      capacity_reservation_ids: [cr-0123456789abcdef0]\n",
        )
    )
    run = run_stack(_copy(tmp_path, text))
    (node_class,) = [r.inputs for r in run.resources if r.inputs.get("kind") == "EC2NodeClass"]
    assert node_class["spec"]["capacityReservationSelectorTerms"] == [{"id": "cr-0123456789abcdef0"}]
    pools = [r.inputs for r in run.resources if r.inputs.get("kind") == "NodePool"]
    assert [p["spec"]["template"]["spec"]["requirements"][1]["values"] for p in pools] == [["reserved"]]


def test_tags_karpenter_keeps_for_itself_are_refused_as_its_crd_says():
    """The reserved keys are read from the EC2NodeClass CRD's own validation rules (tests/data/crds), not from the
    code under test."""
    import json

    from tests.components.k8s_schemas import CRD_DIR

    doc = json.loads((CRD_DIR / "karpenter.k8s.aws_ec2nodeclasses.json").read_text())
    rules = doc["versions"]["v1"]["properties"]["spec"]["properties"]["tags"]["x-kubernetes-validations"]
    reserved = [r["message"].rsplit("matching ", 1)[1] for r in rules if "restricted tag matching" in r["message"]]
    assert len(reserved) == 5
    for key in reserved:
        with pytest.raises(ConfigError, match="Karpenter's own|cannot be an instance tag"):
            load_stack_config(fleet(tags={key + ("x" if key.endswith("/cluster/") else ""): "v"}))
