"""Where a fleet's nodes pull the serving image from: the stack's own ECR mirror, an ECR pull-through cache the fleet
creates for the image's public registry, or (where neither can be had) the public registry itself.

A pull-through cache rule (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html) makes ECR
fetch an image from its upstream registry on the first pull and serve it from the account's private registry after
that: nodes pull with their instance role through the VPC's ECR endpoints, not anonymously through a NAT address that
Docker Hub limits. Pure: no Pulumi."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from deploy.shell_values import checked
from sizing.names import PACKAGE

if TYPE_CHECKING:  # options.py reads CREDENTIAL_ARN from here
    from deploy.options import FleetOptions

DOCKER_HUB_HOSTS = ("docker.io", "index.docker.io", "registry-1.docker.io")
"""How an image reference may name Docker Hub (a reference without a registry host means Docker Hub too)."""
DOCKER_HUB_OFFICIAL = "library"
"""The namespace of Docker Hub's official images: `ubuntu` is `library/ubuntu` (ECR's cache path needs it)."""


@dataclass(frozen=True)
class Upstream:
    """A registry ECR's pull-through cache can front."""

    name: str
    """The rule's upstreamRegistry value."""
    url: str
    """The rule's upstreamRegistryUrl."""
    needs_credential: bool
    """Whether ECR needs a Secrets Manager secret with the registry's credentials for it."""


UPSTREAMS: dict[str, Upstream] = {
    "docker.io": Upstream("docker-hub", "registry-1.docker.io", True),
    "public.ecr.aws": Upstream("ecr-public", "public.ecr.aws", False),
    "quay.io": Upstream("quay", "quay.io", False),
    "registry.k8s.io": Upstream("k8s", "registry.k8s.io", False),
    "ghcr.io": Upstream("github-container-registry", "ghcr.io", True),
}
"""The upstream registries of ECR's pull-through cache that an image host maps to, and which need credentials
(https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache.html: ECR Public, Kubernetes and Quay without
authentication; Docker Hub and GitHub Container Registry with a Secrets Manager secret; upstreamRegistryUrl values
from https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreatePullThroughCacheRule.html)."""
PREFIX_MAX_CHARS = 30
"""ecrRepositoryPrefix: 2 to 30 characters (CreatePullThroughCacheRule, Length Constraints)."""
PREFIX_MIN_CHARS = 2
PREFIX_PATTERN = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
"""ecrRepositoryPrefix's pattern (CreatePullThroughCacheRule)."""
CREDENTIAL_ARN = re.compile(
    r"arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr-pullthroughcache/[a-zA-Z0-9/_+=.@-]+"
)
"""credentialArn's pattern (CreatePullThroughCacheRule): the secret's name must begin with ecr-pullthroughcache/."""
PREFIX_HEAD = PACKAGE
"""The cache's repositories are named <prefix>/<upstream repository>, the prefix starting with this."""
PREFIX_HASH_CHARS = 8
"""Hex digits of the fleet id's digest in the prefix: keeps the prefixes of two stacks apart (ECR allows one rule per
prefix in a registry) within the 30 characters."""
ANONYMOUS_PULLS_PER_HOUR = 10
"""Docker Hub's pull rate limit for unauthenticated users: 10 per hour per IPv4 address or IPv6 /64
(https://docs.docker.com/docker-hub/usage/)."""


@dataclass(frozen=True)
class ImageRef:
    """An image reference taken apart."""

    host: str
    """Registry host (docker.io for a reference without one)."""
    repository: str
    """Repository path in that registry (Docker Hub's official images under library/)."""
    pin: str
    """`:tag` or `@sha256:...` (as written, the tag dropped where a digest is given)."""
    text: str
    """The reference as written."""


def parse_image(image: str) -> ImageRef:
    """The registry host, repository and tag or digest of a checked image reference."""
    checked("image", image)
    name, _, digest = image.partition("@")
    path, _, tag = name.rpartition(":") if ":" in name.rsplit("/", 1)[-1] else (name, "", "")
    first, _, rest = path.partition("/")
    if rest and ("." in first or first == "localhost"):
        host, repository = first, rest
    else:
        host, repository = "docker.io", path
    if host in DOCKER_HUB_HOSTS:
        host = "docker.io"
        if "/" not in repository:
            repository = f"{DOCKER_HUB_OFFICIAL}/{repository}"
    return ImageRef(host=host, repository=repository, pin=f"@{digest}" if digest else f":{tag}", text=image)


def mirrored_image(image: str, mirror: str | None) -> str:
    """The image to pull: the configured one, or the same tag or digest in the stack's ECR mirror repository."""
    if not mirror:
        return checked("image", image)
    checked("ECR repository", mirror)
    return f"{mirror}{parse_image(image).pin}"


def ecr_repository_arn(repository: str) -> str:
    """arn:aws:ecr:<region>:<account>:repository/<repo> of `<account>.dkr.ecr.<region>.amazonaws.com/<repo>`."""
    host, repo = repository.split("/", 1)
    account, _, _, region = host.split(".")[:4]
    return f"arn:aws:ecr:{region}:{account}:repository/{repo}"


def is_ecr(host: str) -> bool:
    """A private ECR registry host (`<account>.dkr.ecr.<region>.amazonaws.com`)."""
    return re.fullmatch(r"[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?", host) is not None


def cache_prefix(fleet_id: str) -> str:
    """The fleet's own ecrRepositoryPrefix: `llmfleet-<digest of project/stack/name>`, 17 characters, unique per
    stack."""
    prefix = f"{PREFIX_HEAD}-{hashlib.sha256(fleet_id.encode()).hexdigest()[:PREFIX_HASH_CHARS]}"
    assert PREFIX_MIN_CHARS <= len(prefix) <= PREFIX_MAX_CHARS and PREFIX_PATTERN.fullmatch(prefix)
    return prefix


SourceKind = Literal["mirror", "cache", "private", "public"]


@dataclass(frozen=True)
class ImageSource:
    """What the nodes pull, and what the fleet creates for it."""

    kind: SourceKind
    """mirror: the stack's ECR repository; cache: a pull-through cache rule the fleet creates; private: the image is in
    a private ECR registry already; public: straight from its public registry (anonymous)."""
    image: ImageRef
    """The configured image."""
    upstream: Upstream | None = None
    """The cache rule's upstream (kind cache)."""
    credential_arn: str | None = None
    """The cache rule's credential secret (kind cache, upstreams that need one)."""
    why_public: str | None = None
    """Why the image is pulled from its public registry (kind public), and what would change that."""

    def cached_in(self, registry: str, prefix: str) -> str:
        """The image the nodes pull from the cache with `prefix` in a private registry host (kind cache)."""
        return f"{registry}/{prefix}/{self.image.repository}{self.image.pin}"


def image_source(image: str, mirror: str | None, cache: bool, credential_arn: str | None) -> ImageSource:
    """Where the nodes pull `image` from, given the stack's image options."""
    ref = parse_image(image)
    if mirror:
        return ImageSource("mirror", ref)
    if is_ecr(ref.host):
        return ImageSource("private", ref)
    upstream = UPSTREAMS.get(ref.host)
    if not cache:
        return ImageSource("public", ref, why_public="image_cache is off")
    if upstream is None:
        return ImageSource("public", ref, why_public=f"ECR's pull-through cache does not front {ref.host}")
    if upstream.needs_credential and not credential_arn:
        return ImageSource(
            "public",
            ref,
            why_public=f"ECR's pull-through cache needs credentials for {ref.host} "
            "and image_cache_credential_arn is not set",
        )
    return ImageSource(
        "cache", ref, upstream=upstream, credential_arn=credential_arn if upstream.needs_credential else None
    )


def fleet_image_source(image: str, options: FleetOptions) -> ImageSource:
    """Where a fleet's nodes pull `image` from, given its options' mirror, cache and credential."""
    return image_source(image, options.image_mirror, options.image_cache, options.image_cache_credential_arn)


def caches_weights(options: FleetOptions) -> bool:
    """The fleet creates a weights cache bucket: Hugging Face weights on platform ec2 with weights.cache_in_s3 on."""
    return options.platform == "ec2" and not options.weights.s3_uri and options.weights.cache_in_s3


def public_pull_notice(source: ImageSource, max_nodes: int) -> str | None:
    """What to know when the nodes pull from a public registry: Docker Hub counts anonymous pulls per address, and the
    nodes of a created VPC share their NAT gateways' addresses."""
    if source.kind != "public":
        return None
    limit = ""
    if source.image.host == "docker.io":
        fits = (
            f"launching more than {ANONYMOUS_PULLS_PER_HOUR} of its {max_nodes} nodes in an hour stalls on the pull"
            if max_nodes > ANONYMOUS_PULLS_PER_HOUR
            else f"its {max_nodes} node(s) fit under that, with every other anonymous pull behind the same address"
        )
        limit = (
            f" Docker Hub allows {ANONYMOUS_PULLS_PER_HOUR} anonymous pulls per hour per address "
            f"(https://docs.docker.com/docker-hub/usage/): {fits}."
        )
    ref = source.image
    return (
        f"image: every node pulls {ref.host}/{ref.repository}{ref.pin} anonymously from its public registry "
        f"({source.why_public}).{limit} To fix: store the registry's credentials in a Secrets Manager secret named "
        "ecr-pullthroughcache/<name> and set fleet.image_cache_credential_arn (the fleet then caches the image in "
        "ECR), or mirror the image to ECR and set fleet.image_mirror."
    )
