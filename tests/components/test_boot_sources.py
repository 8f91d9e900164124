"""What the EC2 fleet's nodes start from: the serving image through the account's ECR (a pull-through cache rule, a
mirror, or an image already in ECR) and Hugging Face weights through the fleet's S3 cache; and the notice when the
nodes must pull anonymously from Docker Hub."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from deploy.image_source import (
    ANONYMOUS_PULLS_PER_HOUR,
    CREDENTIAL_ARN,
    PREFIX_MAX_CHARS,
    PREFIX_PATTERN,
    cache_prefix,
    image_source,
    parse_image,
)
from deploy.options import FleetOptions, WeightsSource
from deploy.preflight import image_notices
from tests.fleet_run import fleet_run
from tests.stack_runs import stack_options, stack_run, user_data

PRIVATE = {"allowed_cidrs": ("10.0.0.0/8",)}
DOCKER_HUB_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
"""The mocks' account and region (preview/mock_run.py)."""


def statements(run) -> dict[str, dict]:
    return {s["Sid"]: s for s in json.loads(run.one("RolePolicy").inputs["policy"])["Statement"]}


@pytest.mark.parametrize(
    "image,host,repository,pin",
    [
        ("vllm/vllm-openai:v0.19.0", "docker.io", "vllm/vllm-openai", ":v0.19.0"),
        ("ubuntu:24.04", "docker.io", "library/ubuntu", ":24.04"),  # Docker Hub's official images live under library/
        ("docker.io/vllm/vllm-openai@sha256:" + "a" * 64, "docker.io", "vllm/vllm-openai", "@sha256:" + "a" * 64),
        (
            "public.ecr.aws/deep-learning-containers/vllm:0.19-gpu-py312-ec2",
            "public.ecr.aws",
            "deep-learning-containers/vllm",
            ":0.19-gpu-py312-ec2",
        ),
    ],
)
def test_image_references_are_taken_apart_as_registries_read_them(image, host, repository, pin):
    ref = parse_image(image)
    assert (ref.host, ref.repository, ref.pin) == (host, repository, pin)


def test_the_default_image_on_docker_hub_without_credentials_is_pulled_anonymously_and_said_so():
    """ECR's pull-through cache needs credentials for Docker Hub: without them no rule, no ECR rights, and the plan
    names Docker Hub's anonymous limit and the fix."""
    run = fleet_run("hub", **PRIVATE)
    assert not run.of_type("PullThroughCacheRule")
    assert "IMAGE=vllm/vllm-openai:v0.19.0" in user_data(run) and "docker login" not in user_data(run)
    assert not {"EcrLogin", "PullImage"} & set(statements(run))
    (notice,) = image_notices(stack_run("dev").plan, stack_options("dev"))
    assert f"{ANONYMOUS_PULLS_PER_HOUR} anonymous pulls per hour" in notice and "To fix:" in notice
    assert "image_cache_credential_arn" in notice and "image_mirror" in notice


def test_with_a_docker_hub_credential_the_nodes_pull_through_the_fleets_own_cache():
    run = fleet_run("cached", **PRIVATE, image_cache_credential_arn=DOCKER_HUB_SECRET)
    rule = run.one("PullThroughCacheRule").inputs
    prefix = rule["ecrRepositoryPrefix"]
    assert rule["upstreamRegistryUrl"] == "registry-1.docker.io" and rule["credentialArn"] == DOCKER_HUB_SECRET
    assert f"IMAGE={REGISTRY}/{prefix}/vllm/vllm-openai:v0.19.0" in user_data(run)
    assert f"docker login --username AWS --password-stdin {REGISTRY}" in user_data(run)
    pull = statements(run)["PullImage"]
    assert pull["Resource"] == [f"arn:aws:ecr:us-east-1:123456789012:repository/{prefix}/*"]  # the fleet's prefix only
    assert set(pull["Action"]) == {
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchImportUpstreamImage",
        "ecr:CreateRepository",
    }
    assert statements(run)["EcrLogin"]["Action"] == ["ecr:GetAuthorizationToken"]
    assert (
        image_notices(
            stack_run("dev").plan,
            stack_options("dev").model_copy(
                update={"fleet": FleetOptions(**PRIVATE, image_cache_credential_arn=DOCKER_HUB_SECRET)}
            ),
        )
        == []
    )


def test_an_ecr_public_image_is_cached_without_credentials():
    image = "public.ecr.aws/deep-learning-containers/vllm:0.19-gpu-py312-ec2"
    run = fleet_run("ecrpublic", **PRIVATE, vllm_image=image)
    rule = run.one("PullThroughCacheRule").inputs
    assert rule["upstreamRegistryUrl"] == "public.ecr.aws" and not rule.get("credentialArn")
    cached = f"{REGISTRY}/{rule['ecrRepositoryPrefix']}/deep-learning-containers/vllm:0.19-gpu-py312-ec2"
    assert f"IMAGE={cached}" in user_data(run)


def test_an_image_already_in_ecr_is_pulled_with_a_login_and_read_rights_on_its_repository():
    image = "763104351884.dkr.ecr.us-east-1.amazonaws.com/vllm:0.19-gpu-py312-ec2"
    run = fleet_run("dlc", **PRIVATE, vllm_image=image)
    assert not run.of_type("PullThroughCacheRule")
    assert f"IMAGE={image}" in user_data(run)
    assert "--password-stdin 763104351884.dkr.ecr.us-east-1.amazonaws.com" in user_data(run)
    assert statements(run)["PullImage"]["Resource"] == ["arn:aws:ecr:us-east-1:763104351884:repository/vllm"]
    assert "ecr:CreateRepository" not in statements(run)["PullImage"]["Action"]


def test_cache_prefixes_follow_ecrs_rule_and_differ_between_stacks():
    """CreatePullThroughCacheRule: ecrRepositoryPrefix is 2-30 characters of its pattern, one rule per prefix."""
    prefixes = {cache_prefix(f"llmfleet/{stack}/fleet") for stack in ("dev", "prod", "a" * 128)}
    assert len(prefixes) == 3
    assert all(2 <= len(p) <= PREFIX_MAX_CHARS and PREFIX_PATTERN.fullmatch(p) for p in prefixes)


def test_the_cache_credential_must_be_a_pull_through_cache_secret():
    """ECR reads a credential only from a secret named ecr-pullthroughcache/... (its API's credentialArn pattern)."""
    assert CREDENTIAL_ARN.fullmatch(DOCKER_HUB_SECRET)
    for bad in ("arn:aws:secretsmanager:us-east-1:123456789012:secret:dockerhub-AbCdEf", "dckr_pat_abc"):
        with pytest.raises(ValidationError, match="ecr-pullthroughcache/"):
            FleetOptions(image_cache_credential_arn=bad)
    with pytest.raises(ValidationError, match="image_cache_credential_arn is for the pull-through cache"):
        FleetOptions(image_cache_credential_arn=DOCKER_HUB_SECRET, image_cache=False)


def test_turning_the_cache_off_pulls_from_the_public_registry():
    assert image_source("public.ecr.aws/x/y:1", None, False, None).kind == "public"
    assert not fleet_run("nocache", **PRIVATE, image_cache=False, vllm_image="public.ecr.aws/x/y:1").of_type(
        "PullThroughCacheRule"
    )


def test_the_weights_cache_bucket_is_private_encrypted_tls_only_and_the_nodes_reach_only_it():
    run = stack_run("dev")
    bucket = run.one("Bucket")
    assert bucket.inputs["forceDestroy"] is True  # a cache: the stack's destroy must not stop on it
    block = run.one("BucketPublicAccessBlock").inputs
    assert all(block[k] for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert run.one("BucketOwnershipControls").inputs["rule"]["objectOwnership"] == "BucketOwnerEnforced"
    (rule,) = run.one("BucketServerSideEncryptionConfiguration").inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    (deny,) = json.loads(run.one("BucketPolicy").inputs["policy"])["Statement"]
    assert deny["Effect"] == "Deny" and deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    name = f"{bucket.inputs['bucketPrefix']}20261207000000000001"
    policy = {s["Sid"]: s for s in json.loads(run.one("RolePolicy").inputs["policy"])["Statement"]}
    assert policy["WeightsCache"]["Resource"] == [f"arn:aws:s3:::{name}/*"]
    assert set(policy["WeightsCache"]["Action"]) == {"s3:GetObject", "s3:PutObject"}
    assert policy["ListWeightsCache"]["Resource"] == [f"arn:aws:s3:::{name}"]


def test_no_weights_cache_for_s3_weights_or_when_turned_off():
    s3 = fleet_run("s3w", **PRIVATE, weights=WeightsSource(s3_uri="s3://example-llm-weights/llama"))
    off = fleet_run("nocachew", **PRIVATE, weights=WeightsSource(cache_in_s3=False))
    for run in (s3, off):
        assert not run.of_type("Bucket") and "WeightsCache" not in statements(run)
        assert "fill-weights-cache" not in user_data(run)
    with pytest.raises(ValidationError, match="remove cache_in_s3"):
        WeightsSource(s3_uri="s3://example-llm-weights/llama", cache_in_s3=True)


def test_on_eks_the_weights_cache_setting_is_refused_not_ignored():
    with pytest.raises(ValidationError, match="weights.cache_in_s3"):
        FleetOptions(platform="eks", cluster={"name": "c"}, weights=WeightsSource(cache_in_s3=False))
