"""BootSources: what the EC2 fleet's nodes start from, held in the account. The serving image through an ECR
pull-through cache rule (deploy/image_source.py decides where the image comes from), and, for Hugging Face
weights, a private S3 bucket the first node that serves fills and every later node downloads from."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from deploy.image_source import (
    ImageSource,
    cache_prefix,
    caches_weights,
    ecr_repository_arn,
    fleet_image_source,
    mirrored_image,
)
from deploy.options import FleetOptions
from sizing.names import PACKAGE

WEIGHTS_CACHE_PREFIX = f"{PACKAGE}-weights-"
"""Name prefix of the weights cache bucket (S3 adds a unique suffix; bucket names are global)."""
ECR_PULL_ACTIONS = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
"""What `docker pull` calls on an ECR repository (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-pull.html)."""
CACHE_FILL_ACTIONS = ("ecr:BatchImportUpstreamImage", "ecr:CreateRepository")
"""What the first pull through a cache rule also calls: import the upstream image, and create its repository
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html)."""


@dataclass(frozen=True)
class BootSourcesArgs:
    """Inputs of BootSources."""

    image: str
    """The serving image the plan's nodes run (pinned)."""
    fleet_id: str
    """<project>/<stack>/<name>: makes the cache's repository prefix unique in the account and region."""
    options: FleetOptions
    """Image mirror, cache and credential; the weights source."""
    tags: dict[str, str]
    """Tags on every resource."""


class BootSources(pulumi.ComponentResource):
    """The image's pull-through cache rule and the weights cache bucket, where the fleet uses them."""

    image: pulumi.Output[str]
    """What the nodes pull."""
    registry: pulumi.Output[str]
    """The ECR registry host the nodes log in to ('' for a public registry)."""
    pull_repositories: pulumi.Output[list[str]]
    """ARNs of the ECR repositories the nodes pull from (a prefix pattern for the cache)."""
    fills_cache: bool
    """Whether the first pull fills the cache (the nodes need CACHE_FILL_ACTIONS)."""
    weights_bucket: pulumi.Output[str] | None
    """The weights cache bucket's name (None without one)."""

    def __init__(self, name: str, args: BootSourcesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:BootSources", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        source = fleet_image_source(args.image, args.options)
        self.fills_cache = source.kind == "cache"
        self.image, self.registry, self.pull_repositories = self._image(name, source, args, child)
        self.weights_bucket = _weights_bucket(name, args.tags, child) if caches_weights(args.options) else None
        self.register_outputs({"image": self.image, "registry": self.registry})

    def _image(
        self, name: str, source: ImageSource, args: BootSourcesArgs, child: pulumi.ResourceOptions
    ) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[list[str]]]:
        ref, options = source.image, args.options
        if source.kind == "mirror" and options.image_mirror:
            return _in_registry(options.image_mirror, mirrored_image(ref.text, options.image_mirror))
        if source.kind == "private":
            return _in_registry(f"{ref.host}/{ref.repository}", ref.text)
        if source.kind == "public" or source.upstream is None:
            return pulumi.Output.from_input(ref.text), pulumi.Output.from_input(""), pulumi.Output.from_input([])
        prefix = cache_prefix(args.fleet_id)
        rule = aws.ecr.PullThroughCacheRule(
            f"{name}-image-cache",
            ecr_repository_prefix=prefix,
            upstream_registry_url=source.upstream.url,
            credential_arn=source.credential_arn,
            opts=child,
        )
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        registry = pulumi.Output.concat(rule.registry_id, ".dkr.ecr.", region, ".amazonaws.com")
        repositories = pulumi.Output.all(rule.registry_id, region).apply(
            lambda v: [f"arn:aws:ecr:{v[1]}:{v[0]}:repository/{prefix}/*"]
        )
        return registry.apply(lambda host: source.cached_in(host, prefix)), registry, repositories


def _in_registry(
    repository: str, image: str
) -> tuple[pulumi.Output[str], pulumi.Output[str], pulumi.Output[list[str]]]:
    """An image in the private ECR repository `<account>.dkr.ecr.<region>.amazonaws.com/<repo>`: the image, the
    registry host, the repository's ARN."""
    return (
        pulumi.Output.from_input(image),
        pulumi.Output.from_input(repository.split("/", 1)[0]),
        pulumi.Output.from_input([ecr_repository_arn(repository)]),
    )


def tls_only_policy(bucket_arn: str) -> str:
    """A bucket policy that refuses every request not made over TLS
    (https://docs.aws.amazon.com/AmazonS3/latest/userguide/security-best-practices.html, data in transit)."""
    deny = {
        "Sid": "TlsOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }
    return json.dumps({"Version": "2012-10-17", "Statement": [deny]})


def _weights_bucket(name: str, tags: dict[str, str], child: pulumi.ResourceOptions) -> pulumi.Output[str]:
    """A private bucket for the weights: no public access whatever the ACLs or policies say, owner-enforced objects,
    SSE-S3 at rest, TLS only; deleted with the stack (force_destroy: it holds a copy of what the hub serves)."""
    s3 = aws.s3
    bucket = s3.Bucket(f"{name}-weights", bucket_prefix=WEIGHTS_CACHE_PREFIX, force_destroy=True, tags=tags, opts=child)
    s3.BucketPublicAccessBlock(
        f"{name}-weights",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=child,
    )
    s3.BucketOwnershipControls(
        f"{name}-weights",
        bucket=bucket.id,
        opts=child,
        rule=s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
    )
    sse = s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(sse_algorithm="AES256")
    s3.BucketServerSideEncryptionConfiguration(
        f"{name}-weights",
        bucket=bucket.id,
        opts=child,
        rules=[s3.BucketServerSideEncryptionConfigurationRuleArgs(apply_server_side_encryption_by_default=sse)],
    )
    s3.BucketPolicy(f"{name}-weights", bucket=bucket.id, policy=bucket.arn.apply(tls_only_policy), opts=child)
    return bucket.bucket
