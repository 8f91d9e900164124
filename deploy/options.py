"""What the user decides about the fleet beyond sizing: network, access, image, weights source, tags.

Frozen pydantic models read from the stack config (key `llmfleet:fleet`) or from LlmServingFleet's inputs. The ids and
ARNs that only wire resources together (VPC, subnets, security groups, certificate, token secret) may be Pulumi Outputs
of other resources; everything that sizes the fleet is a plain value."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from deploy.arns import parse_arn
from deploy.cluster_options import EksClusterOptions
from deploy.image_source import CREDENTIAL_ARN
from deploy.inputs import Input, Output, StrInput, StrInputs
from deploy.shell_values import checked
from sizing.bounded import leaves
from sizing.catalog.engines import get_engine
from sizing.names import TAG_PREFIX
from sizing.numbers import Float, Int
from sizing.redact import looks_like_credential, redact

DEFAULT_VLLM_IMAGE = get_engine().image
"""Pinned serving image: the default engine profile's (sizing/data/engines.toml `image`), so the image the fleet runs
and the profile the plan's memory and speed figures follow are one setting; a plan made with another profile runs
that profile's image (components/fleet_spec.serving_image)."""
DEFAULT_EFA_IMAGE = get_engine().efa_image
"""Image for nodes that talk over EFA (multi-node replicas): the default profile's `efa_image`, the AWS vLLM Deep
Learning Container for EC2 of that release, which ships libfabric and the aws-ofi-nccl plugin that NCCL needs to use
EFA (the stock vllm/vllm-openai image has neither, so NCCL falls back to TCP sockets).
https://aws.github.io/deep-learning-containers/vllm/ . Pin it by digest for production
(`efa_image: <repo>@sha256:...`) and mirror it to ECR with `image_mirror` (docs/deploying.md, "The image")."""
DEFAULT_AMI_SSM_PARAMETER = "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id"
"""Public SSM parameter of the AWS Deep Learning Base OSS Nvidia Driver GPU AMI (Ubuntu 22.04), resolved at launch."""


VPC_MIN_PREFIX, VPC_MAX_PREFIX = 16, 27
"""vpc_cidr prefix lengths: AWS allows /16 to /28 for a VPC; /27 is the smallest that holds the two /28 subnets."""
AWS_MAX_TAGS = 50
"""Tags per AWS resource (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html#tag-conventions)."""
COMPONENT_TAGS = 10
"""Tags the component adds to a resource itself (managed-by, Name, llmfleet:fleet and components/fleet_tags.py's 7)."""
MAX_CLIENT_RULES = 60
"""Inbound rules per security group, the AWS default quota
(https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups): one per allowed
CIDR and per allowed security group."""
MAX_SUBNETS = 16
"""subnet_ids: one per Availability Zone (the load balancer's rule), with room above the 6 AZs of the largest region;
20,000 took a preview 20 s."""
WIDEST_PRIVATE_PREFIX = 8
"""The widest private IPv4 block is 10.0.0.0/8 (RFC 1918); a wider one (0.0.0.0/1, 1.2.3.4/0) reaches the internet."""
AWS_ID_PREFIXES = {
    "vpc_id": "vpc",
    "subnet_ids": "subnet",
    "lb_subnet_ids": "subnet",
    "allowed_security_group_ids": "sg",
    "ami_id": "ami",
}
"""Resource-id prefixes of the id fields (ids are the prefix, a dash and lower-case hex)."""
IMDS_TAG_KEY = re.compile(r"[A-Za-z0-9+\-=.,_:@]+")
"""Tag keys an instance with tags in its metadata may carry (no spaces, no '/')."""
TAG_TEXT = re.compile(r"[\w .:/=+\-@]*")
"""Characters AWS allows in tag keys and values."""


Platform = Literal["ec2", "eks"]
EC2_ONLY = (
    "vpc_id",
    "subnet_ids",
    "lb_subnet_ids",
    "vpc_cidr",
    "public_node_ips",
    "ami_id",
    "ami_ssm_parameter",
    "root_volume_gib",
    "min_healthy_percentage",
    "alarm_topic_arn",
    "nat_per_zone",
    "image_cache",
    "image_cache_credential_arn",
)
"""FleetOptions fields that shape the EC2 platform's own VPC, AMI and Auto Scaling groups: on eks the cluster owns the
network and Karpenter the nodes, so a value there would be ignored."""
KARPENTER_RESERVED_TAGS = (
    "eks:eks-cluster-name",
    "kubernetes.io/cluster",
    "karpenter.sh/nodepool",
    "karpenter.sh/nodeclaim",
    "karpenter.k8s.aws/ec2nodeclass",
)
"""Tag keys (or prefixes) Karpenter sets itself and its EC2NodeClass refuses in spec.tags (CRD validation rules,
v1.14.1)."""
RESERVED_TAG_PREFIX = TAG_PREFIX
"""Tag keys the component writes itself (llmfleet:fleet scopes the node role's IAM conditions; components/fleet_tags.py
declares the model to the policy pack): never taken from the user's tags."""
SECRET_ARN_EXAMPLE = "arn:aws:secretsmanager:us-east-1:123456789012:secret:llmfleet/api-key-AbCdEf"
CERTIFICATE_ARN_EXAMPLE = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012"
DNS_NAME = re.compile(r"(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]")
"""A fully qualified host name (RFC 1123 labels, lower case; a top-level label that is not all digits)."""
DNS_NAME_MAX = 253
"""Longest DNS name (RFC 1035 section 2.3.4)."""
UNPRIVILEGED_PORT_START = 1024
"""Ports below this need CAP_NET_BIND_SERVICE (Linux ip_unprivileged_port_start's default,
https://www.kernel.org/doc/Documentation/networking/ip-sysctl.txt), which the eks pods drop."""
LOAD_BALANCER_ONLY = (
    "allowed_cidrs",
    "allowed_security_group_ids",
    "allow_public_ingress",
    "certificate_arn",
    "domain_name",
)
"""FleetOptions fields of the load balancer: on eks they configure the ALB Ingress (cluster.ingress: alb)."""


SCRIPT_KINDS = {
    "hf_model_id": "Hugging Face repo",
    "s3_uri": "S3 URI",
    "hf_token_secret_arn": "secret ARN",
    "hf_token_ssm_parameter": "SSM parameter",
    "image_mirror": "ECR repository",
    "ami_ssm_parameter": "SSM parameter",
}
"""Fields that reach the node's bootstrap script (or an AWS name rule), and their pattern in deploy/shell_values.py."""


def _script_safe(value: Any, info: ValidationInfo) -> Any:
    """A plain value checked now against the pattern the bootstrap script will check it with (an Output is checked
    there), so that a bad one is refused before the first resource rather than inside the launch template's user data,
    after some forty resources were registered."""
    if isinstance(value, str):
        checked(SCRIPT_KINDS[info.field_name or ""], value)
    return value


class WeightsSource(BaseModel):
    """Where instances fetch the weights at boot: a Hugging Face repo (optionally with a token) or an S3 prefix."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    hf_model_id: str | None = None
    """Hugging Face repo id (None: the preset's repo)."""
    hf_token_secret_arn: StrInput | None = None
    """Secrets Manager secret holding the Hugging Face token (fetched at boot, never in user data)."""
    hf_token_ssm_parameter: StrInput | None = None
    """SSM SecureString parameter name holding the token (alternative to the secret)."""
    s3_uri: str | None = None
    """s3://bucket/prefix holding the checkpoint (instead of the hub)."""
    cache_in_s3: bool = True
    """Hugging Face weights on platform ec2: the fleet creates a private S3 bucket; the first node that serves uploads
    the files it downloaded, and every later node (replacements, scale-out) downloads them from it, in-region through
    the VPC's S3 gateway endpoint, instead of from the hub. The fleet then serves the revision it first downloaded."""

    @field_validator("hf_model_id", "s3_uri", "hf_token_secret_arn", "hf_token_ssm_parameter")
    @classmethod
    def _boot_script_safe(cls, value: Any, info: ValidationInfo) -> Any:
        prefix = {"s3_uri": "s3://", "hf_token_secret_arn": "arn:aws"}.get(info.field_name or "", "")
        if isinstance(value, str) and not value.startswith(prefix):
            return value  # _one_source says what it must start with
        return _script_safe(value, info)

    @model_validator(mode="after")
    def _one_source(self) -> WeightsSource:
        if self.s3_uri and (self.hf_model_id or self.hf_token_secret_arn or self.hf_token_ssm_parameter):
            raise ValueError("give either s3_uri or the Hugging Face fields, not both")
        if self.s3_uri and "cache_in_s3" in self.model_fields_set:
            raise ValueError(
                "cache_in_s3 caches Hugging Face weights; with s3_uri the weights are in S3 already: remove cache_in_s3"
            )
        if self.hf_token_secret_arn and self.hf_token_ssm_parameter:
            raise ValueError("give hf_token_secret_arn or hf_token_ssm_parameter, not both")
        arn = self.hf_token_secret_arn
        if isinstance(arn, str):  # read by the node role's policy: a parsed, wildcard-free secret ARN
            parse_arn(arn, "hf_token_secret_arn", ("secretsmanager",), SECRET_ARN_EXAMPLE)
        if self.s3_uri and not self.s3_uri.startswith("s3://"):
            raise ValueError(f"s3_uri={self.s3_uri!r} must start with s3://")
        return self

    def resolved(self) -> Input[WeightsSource]:
        """This source with Output-valued names resolved (itself when it has none), for text that embeds them."""
        if not any(isinstance(v, Output) for v in (self.hf_token_secret_arn, self.hf_token_ssm_parameter)):
            return self
        return Output.all(self.hf_token_secret_arn, self.hf_token_ssm_parameter).apply(
            lambda v: self.model_copy(update={"hf_token_secret_arn": v[0], "hf_token_ssm_parameter": v[1]})
        )

    @property
    def s3_bucket(self) -> str | None:
        """Bucket of s3_uri."""
        return self.s3_uri[5:].split("/", 1)[0] if self.s3_uri else None

    @property
    def s3_prefix(self) -> str:
        """Key prefix of s3_uri (no leading or trailing slash)."""
        if not self.s3_uri:
            return ""
        parts = self.s3_uri[5:].split("/", 1)
        return parts[1].strip("/") if len(parts) > 1 else ""


class FleetOptions(BaseModel):
    """Deployment choices for ServingFleet."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    platform: Platform = "ec2"
    """Where the fleet runs: ec2 (Auto Scaling groups, single-node replicas) or eks (Karpenter nodes, vLLM as a
    Deployment or LeaderWorkerSet, KEDA) on the existing cluster named in `cluster`."""
    cluster: EksClusterOptions | None = None
    """platform eks: the EKS cluster and how the fleet uses it."""
    vpc_id: StrInput | None = None
    """Existing VPC (None: create a minimal one)."""
    subnet_ids: StrInputs = ()
    """Existing subnets in at least two AZs (required with vpc_id)."""
    vpc_cidr: str = "10.42.0.0/16"
    """CIDR of the VPC created when vpc_id is not given."""
    allowed_cidrs: tuple[str, ...] = Field(default=(), max_length=MAX_CLIENT_RULES)
    """Client CIDRs allowed to reach the endpoint. 0.0.0.0/0 only if allow_public_ingress is set."""
    allowed_security_group_ids: tuple[StrInput, ...] = ()
    """Client security groups allowed to reach the endpoint."""
    allow_public_ingress: bool = False
    """Permit 0.0.0.0/0 in allowed_cidrs and an internet-facing load balancer (HTTPS only: needs certificate_arn)."""
    lb_subnet_ids: StrInputs = ()
    """Existing VPC with allow_public_ingress: the public subnets (two zones at least) the internet-facing load balancer
    goes into; the nodes stay in subnet_ids."""
    api_port: Int = Field(default=8000, gt=0, lt=65536)
    """Port vLLM's OpenAI-compatible server listens on."""
    listener_port: Int = Field(default=80, gt=0, lt=65536)
    """Port the load balancer listens on (443 with a certificate)."""
    certificate_arn: StrInput | None = None
    """ACM certificate for an HTTPS listener."""
    ami_id: str | None = None
    """AMI override (None: the Deep Learning Base GPU AMI from its public SSM parameter)."""
    ami_ssm_parameter: str = DEFAULT_AMI_SSM_PARAMETER
    """SSM parameter the default AMI is resolved from."""
    vllm_image: str = DEFAULT_VLLM_IMAGE
    """Serving container image, pinned by tag or digest."""
    efa_image: str = DEFAULT_EFA_IMAGE
    """Serving image for multi-node replicas over EFA: must carry libfabric and aws-ofi-nccl; pinned by tag or
    digest."""
    image_mirror: str | None = None
    """ECR repository the image is mirrored to (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>`): nodes pull from it
    with the instance role instead of from the public registry (no anonymous rate limit behind a NAT)."""
    image_cache: bool = True
    """Without image_mirror: the fleet creates an ECR pull-through cache rule for the image's public registry, and the
    nodes pull from the account's ECR (ECR fetches the image once); Docker Hub and GHCR need image_cache_credential_arn,
    and without it the nodes pull anonymously (the plan says so)."""
    image_cache_credential_arn: str | None = None
    """Secrets Manager secret (named ecr-pullthroughcache/...) with the registry's username and access token, which the
    pull-through cache needs for Docker Hub and GHCR (https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-creating-secret.html)."""
    public_node_ips: bool = False
    """Created VPC only: nodes in public subnets with public IPs (default: private subnets, a NAT gateway for the model
    hub, VPC endpoints for the AWS APIs)."""
    nat_per_zone: bool = False
    """Created VPC with private nodes: a NAT gateway (and its address) in each zone instead of one, so that a zone's
    outage does not cut the other zone's nodes off the model hub (priced in the fixed overhead)."""
    alarm_topic_arn: StrInput | None = None
    """SNS topic the fleet's CloudWatch alarms notify (None: the alarms only show in the console and the dashboard)."""
    api_key_secret_arn: str | None = None
    """Secrets Manager secret holding the API key clients must send (None: the fleet creates one)."""
    domain_name: str | None = None
    """DNS name clients use for the HTTPS endpoint (covered by certificate_arn); the exported endpoint uses it."""
    min_healthy_percentage: Int = Field(default=100, ge=0, le=100)
    """Instance refresh of single-node replicas keeps at least this share of the group serving; replacements launch
    before the nodes they replace terminate (the group may grow by up to 100 points above it, at most 200%)."""
    weights: WeightsSource = WeightsSource()
    """Where the weights come from."""
    root_volume_gib: Int | None = Field(default=None, gt=0)
    """Root volume override, GiB (None: sized from the weights)."""
    max_scale_factor: Float = Field(default=2.0, ge=1.0, le=10.0)
    """Autoscaling ceiling as a multiple of the planned instances."""
    tags: dict[str, str] = Field(default={}, max_length=AWS_MAX_TAGS - COMPONENT_TAGS)
    """Tags on every resource (at most 40: AWS allows 50 per resource, and the component adds 10 of its own)."""

    @model_validator(mode="before")
    @classmethod
    def _no_credentials(cls, raw: Any) -> Any:
        """A token pasted into a tag, image or parameter name would be written in plain text into every resource's
        tags, the user data or an IAM policy (the ARN fields name a secret and are only shown redacted)."""
        for where, item in leaves(raw, "fleet") if isinstance(raw, dict) else ():
            in_value = isinstance(item, str) and looks_like_credential(item) and not where.endswith("_arn")
            if in_value or looks_like_credential(where):  # a tag key is part of the path
                raise ValueError(
                    f"{redact(where)} holds a credential ({redact(str(item))[:80]!r}); it would be stored in "
                    "plain text in tags, user data or IAM policies. Keep the token in Secrets Manager and "
                    "give its ARN as weights.hf_token_secret_arn"
                )
        return raw

    @field_validator("image_mirror", "ami_ssm_parameter")
    @classmethod
    def _boot_script_safe(cls, value: Any, info: ValidationInfo) -> Any:
        return _script_safe(value, info)

    @field_validator("image_cache_credential_arn")
    @classmethod
    def _cache_credential(cls, arn: str | None) -> str | None:
        if arn is not None and not CREDENTIAL_ARN.fullmatch(arn):
            raise ValueError(
                "image_cache_credential_arn must be the ARN of a Secrets Manager secret whose name begins "
                "with ecr-pullthroughcache/ in the fleet's account and region (ECR's pull-through cache "
                "reads only those: https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-creating-rule.html)"
            )
        return arn

    @field_validator("vllm_image", "efa_image")
    @classmethod
    def _pinned(cls, image: str) -> str:
        checked("image", image)
        if "@sha256:" not in image and (":" not in image.rsplit("/", 1)[-1] or image.endswith(":latest")):
            raise ValueError(
                f"vllm_image={image!r} is not pinned; use a version tag or digest, e.g. {DEFAULT_VLLM_IMAGE!r}"
            )
        return image

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc_cidr(cls, cidr: str) -> str:
        # AWS: a VPC's IPv4 block is /16 to /28, and a subnet at least /28; two subnets are carved from it
        # (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-cidr-blocks.html).
        try:
            net = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            raise ValueError(
                f"vpc_cidr={cidr!r} is not an IPv4 network block like '10.42.0.0/16' (host bits zero)"
            ) from None
        if net.version != 4 or not VPC_MIN_PREFIX <= net.prefixlen <= VPC_MAX_PREFIX:
            raise ValueError(
                f"vpc_cidr={cidr!r} must be an IPv4 block from /{VPC_MIN_PREFIX} to /{VPC_MAX_PREFIX} "
                "(AWS allows /16 to /28, and two /28 subnets must fit)"
            )
        return cidr

    @field_validator("subnet_ids", "lb_subnet_ids")
    @classmethod
    def _few_subnets(cls, value: Any) -> Any:
        # The load balancer takes one subnet per Availability Zone (https://docs.aws.amazon.com/elasticloadbalancing/
        # latest/application/application-load-balancers.html#subnets-load-balancer); no region has more than 6 AZs.
        if isinstance(value, tuple) and len(value) > MAX_SUBNETS:
            raise ValueError(f"{len(value)} subnet_ids: give at most {MAX_SUBNETS}, one per Availability Zone")
        return value

    @field_validator("vpc_id", "subnet_ids", "lb_subnet_ids", "allowed_security_group_ids", "ami_id")
    @classmethod
    def _aws_ids(cls, value: Any, info: ValidationInfo) -> Any:
        prefix = AWS_ID_PREFIXES[info.field_name or ""]
        items = (
            (value,) if isinstance(value, str) else value if isinstance(value, tuple) else ()
        )  # Outputs: checked by AWS
        for item in items:
            if isinstance(item, str) and not re.fullmatch(rf"{prefix}-[0-9a-z]{{1,32}}", item):
                raise ValueError(f"{info.field_name} entry {item!r} is not an AWS id like '{prefix}-0123456789abcdef0'")
        return value

    @field_validator("api_key_secret_arn")
    @classmethod
    def _api_key_secret(cls, arn: Any) -> Any:
        if isinstance(arn, str):  # it goes into the node role's policy and the user data: a parsed, wildcard-free ARN
            parse_arn(arn, "api_key_secret_arn", ("secretsmanager",), SECRET_ARN_EXAMPLE)
        return arn

    @field_validator("certificate_arn")
    @classmethod
    def _certificate(cls, arn: Any) -> Any:
        if isinstance(arn, str):  # an Output is checked by AWS when the listener is created
            parse_arn(arn, "certificate_arn", ("acm", "iam"), CERTIFICATE_ARN_EXAMPLE)
        return arn

    @field_validator("domain_name")
    @classmethod
    def _domain(cls, name: Any) -> Any:
        if isinstance(name, str) and not (len(name) <= DNS_NAME_MAX and DNS_NAME.fullmatch(name)):
            raise ValueError(
                "domain_name is not a DNS name (lower-case labels of letters, digits and '-', dot-separated, "
                f"at most {DNS_NAME_MAX} characters), e.g. 'llm.example.com'"
            )
        return name

    @field_validator("alarm_topic_arn")
    @classmethod
    def _topic(cls, arn: Any) -> Any:
        if isinstance(arn, str) and not re.fullmatch(
            r"arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}", arn
        ):
            raise ValueError(f"alarm_topic_arn {arn!r} is not an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)")
        return arn

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: dict[str, str]) -> dict[str, str]:
        # AWS tag rules: key 1-128 and value 0-256 Unicode characters of letters, digits, spaces and _ . : / = + - @;
        # keys may not start with aws: (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
        for key, value in tags.items():
            if key.lower().startswith(RESERVED_TAG_PREFIX):
                raise ValueError(
                    f"tag key {key!r} is reserved: the component sets {RESERVED_TAG_PREFIX}* tags itself "
                    "(the IAM conditions and the policy pack read them), and a user tag would override "
                    f"them. To fix: rename it without the {RESERVED_TAG_PREFIX!r} prefix"
                )
            if not TAG_TEXT.fullmatch(key) or not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
                raise ValueError(
                    f"tag key {key!r} is not a valid AWS tag key (1-128 of letters, digits, spaces, _.:/=+-@)"
                )
            if not IMDS_TAG_KEY.fullmatch(key) or key in (".", "..", "_index"):
                raise ValueError(
                    f"tag key {key!r} cannot be an instance tag here: the nodes read their tags from instance "
                    "metadata, and EC2 then refuses to launch an instance with a tag key that has a space or "
                    "'/' (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/work-with-tags-in-IMDS.html). "
                    "To fix: use letters, digits and + - = . , _ : @ only, e.g. "
                    f"{re.sub(r'[^A-Za-z0-9+=.,_:@-]', '-', key)!r}"
                )
            if not TAG_TEXT.fullmatch(value) or len(value) > 256:
                raise ValueError(
                    f"tag {key!r} value {value!r} is not a valid AWS tag value (0-256 of letters, digits, "
                    "spaces, _.:/=+-@)"
                )
        return tags

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, cidrs: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in cidrs:
            try:
                net = ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"allowed_cidrs entry {cidr!r} is not a CIDR block like '10.0.0.0/8'") from None
            if net.version != 4:  # the rules are IPv4 rules: EC2 refuses an IPv6 range as CidrIp
                raise ValueError(f"allowed_cidrs entry {cidr!r} is IPv6; the load balancer's rules take IPv4 blocks")
        return cidrs

    @model_validator(mode="after")
    def _network(self) -> FleetOptions:
        self._platform()
        if self.image_cache_credential_arn and (self.image_mirror or not self.image_cache):
            raise ValueError(
                "image_cache_credential_arn is for the pull-through cache, which the fleet creates only "
                "with image_cache on and no image_mirror; remove it, or the setting that turns the cache off"
            )
        if self.allow_public_ingress and not self.certificate_arn:
            raise ValueError(
                "allow_public_ingress without certificate_arn would carry the API key over the internet "
                "in clear text; give certificate_arn (ACM) for an HTTPS listener"
            )
        if self.lb_subnet_ids and not (self.vpc_id and self.allow_public_ingress):
            raise ValueError(
                "lb_subnet_ids are the public subnets of an internet-facing load balancer in an existing VPC: "
                "give them with vpc_id and allow_public_ingress, or remove them"
            )
        if self.vpc_id and self.allow_public_ingress and not self.lb_subnet_ids:
            raise ValueError(
                "allow_public_ingress in an existing VPC needs lb_subnet_ids: an internet-facing load "
                "balancer must be in public subnets (routed to an internet gateway), not in the node subnets"
            )
        if self.vpc_id and isinstance(self.subnet_ids, tuple) and len(self.subnet_ids) < 2:
            raise ValueError(
                "vpc_id needs subnet_ids in at least two availability zones (the load balancer requires two)"
            )
        if self.subnet_ids and not self.vpc_id:
            raise ValueError("subnet_ids were given without vpc_id; give both, or neither to create a VPC")
        wide = [
            c for c in self.allowed_cidrs if ipaddress.ip_network(c, strict=False).prefixlen < WIDEST_PRIVATE_PREFIX
        ]
        if not self.allow_public_ingress and wide:
            raise ValueError(
                f"allowed_cidrs {wide} opens the endpoint to the internet (wider than /{WIDEST_PRIVATE_PREFIX}, "
                "the widest private block); set allow_public_ingress: true to mean it"
            )
        if len(self.allowed_cidrs) + len(self.allowed_security_group_ids) > MAX_CLIENT_RULES:
            raise ValueError(
                f"{len(self.allowed_cidrs)} allowed_cidrs and {len(self.allowed_security_group_ids)} "
                f"allowed_security_group_ids need more than the {MAX_CLIENT_RULES} inbound rules a security "
                "group holds; merge CIDR blocks"
            )
        if self.domain_name and not self.certificate_arn:
            raise ValueError("domain_name needs certificate_arn (the HTTPS listener's certificate for that name)")
        self._clients_reach_created_vpc()
        return self

    def _platform(self) -> None:
        """The eks platform's own rules: a cluster, none of the EC2 platform's network and node settings, and a load
        balancer's settings only with an ALB Ingress (which never goes public without TLS)."""
        if self.platform == "ec2":
            if self.cluster is not None:
                raise ValueError(
                    "cluster is set but platform is 'ec2'; set platform: eks to serve on that cluster, or "
                    "remove cluster"
                )
            return
        if self.cluster is None:
            raise ValueError("platform 'eks' needs cluster (at least its name: cluster: {name: my-cluster})")
        ignored = sorted(f for f in EC2_ONLY if f in self.model_fields_set)
        ignored += ["weights.cache_in_s3"] if "cache_in_s3" in self.weights.model_fields_set else []
        if ignored:
            raise ValueError(
                f"{', '.join(ignored)} shape the EC2 platform's VPC, AMI and Auto Scaling groups and would "
                "be ignored on platform 'eks' (the cluster owns the network; Karpenter buys the nodes); "
                "remove them"
            )
        balancer = sorted(f for f in LOAD_BALANCER_ONLY if f in self.model_fields_set)
        if balancer and self.cluster.ingress != "alb":
            raise ValueError(
                f"{', '.join(balancer)} configure a load balancer, and cluster.ingress is "
                f"{self.cluster.ingress!r}; set cluster.ingress: alb for an ALB Ingress, or remove them"
            )
        if self.api_port < UNPRIVILEGED_PORT_START:
            raise ValueError(
                f"api_port {self.api_port} is below {UNPRIVILEGED_PORT_START}: the vLLM container runs with "
                "every Linux capability dropped (no NET_BIND_SERVICE), so it cannot listen there. To fix: "
                "use a port from 1024, e.g. the default 8000"
            )
        if self.allowed_security_group_ids:
            raise ValueError(
                "allowed_security_group_ids: the ALB Ingress admits clients by CIDR (inbound-cidrs); give "
                "allowed_cidrs instead"
            )
        reserved = sorted(k for k in self.tags if k.startswith(KARPENTER_RESERVED_TAGS))
        if reserved:
            raise ValueError(f"tags {reserved} are Karpenter's own (it refuses them in an EC2NodeClass); rename them")

    def _clients_reach_created_vpc(self) -> None:
        """An internal load balancer in a VPC created here is reachable only from inside that VPC: a client CIDR
        outside it can never connect."""
        if (
            self.platform != "ec2"
            or self.vpc_id
            or self.allow_public_ingress
            or not self.allowed_cidrs
            or self.allowed_security_group_ids
        ):
            return
        vpc = ipaddress.ip_network(self.vpc_cidr, strict=False)
        if not any(ipaddress.ip_network(c, strict=False).overlaps(vpc) for c in self.allowed_cidrs):
            raise ValueError(
                f"allowed_cidrs {list(self.allowed_cidrs)} lie outside the created VPC {self.vpc_cidr!r}, "
                "so no allowed client can reach its internal load balancer; set vpc_cidr to a range the "
                "clients are in (or give vpc_id and subnet_ids of the clients' VPC)"
            )

    @property
    def known_subnet_ids(self) -> tuple[str, ...]:
        """The subnet ids known now (pre-flight checks their zones; Outputs are checked by AWS at deployment)."""
        return tuple(s for s in self.subnet_ids if isinstance(s, str)) if isinstance(self.subnet_ids, tuple) else ()

    @property
    def https(self) -> bool:
        """Whether the listener terminates TLS."""
        return self.certificate_arn is not None
