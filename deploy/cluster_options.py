"""The EKS cluster a fleet is served on (stack config key `llmfleet:fleet.cluster`, with
`llmfleet:fleet.platform: eks`).

The cluster exists already, with Karpenter v1, LeaderWorkerSet and KEDA installed (deploy/eks_prerequisites.py
names the versions; examples/eks/ creates such a cluster). Everything here is a plain value except the IRSA provider
ARN, which only wires an IAM trust policy and may be an Output of the program that made the cluster."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from deploy.inputs import StrInput
from sizing.names import DASHED_NAME

EKS_CLUSTER_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}")
"""Cluster names EKS accepts (CreateCluster: 1-100 characters, a letter or digit first, then letters, digits, - and _;
https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateCluster.html#API_CreateCluster_RequestSyntax)."""
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""RFC 1123 label: what Kubernetes takes as a namespace name (at most 63 characters;
https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#dns-label-names)."""
IAM_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
"""IAM role names (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html: 1-64 of letters, digits
and _+=,.@-)."""
TAG_KEY = re.compile(r"[\w .:/=+\-@]{1,128}")
"""AWS tag keys (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html)."""
CAPACITY_RESERVATION_ID = re.compile(r"cr-[0-9a-z]+")
"""What EC2NodeClass.spec.capacityReservationSelectorTerms[].id accepts (Karpenter v1 CRD pattern ^cr-[0-9a-z]+$)."""
ZONE = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9][a-z]")
"""An Availability Zone name, e.g. us-east-1a."""
AMI_ALIAS = re.compile(r"(al2023|bottlerocket)@(latest|v[0-9][0-9.]*)")
"""EC2NodeClass amiSelectorTerms alias for a GPU family Karpenter resolves to its NVIDIA variant by itself (AL2023 and
Bottlerocket; https://karpenter.sh/docs/concepts/nodeclasses/#specamiselectorterms): family@latest or family@vYYYYMMDD
(AL2023) / family@v1.x.y (Bottlerocket)."""
PROMETHEUS_URL = re.compile(r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?")
"""An in-cluster or private Prometheus query endpoint (no credentials, query string or fragment in it)."""
DEFAULT_NODE_ROLE_PREFIX = "KarpenterNodeRole-"
"""Karpenter's getting-started stack names the nodes' role KarpenterNodeRole-<cluster name>
(https://karpenter.sh/docs/getting-started/getting-started-with-karpenter/)."""
DEFAULT_DISCOVERY_TAG = "karpenter.sh/discovery"
"""The tag (value: the cluster name) that Karpenter's getting-started guide puts on the cluster's node subnets and
security group, and that the EC2NodeClass selects them by."""
DEFAULT_PROMETHEUS_URL = "http://kube-prometheus-stack-prometheus.monitoring.svc:9090"
"""Where KEDA queries vLLM's metrics: the Prometheus service of the kube-prometheus-stack Helm chart installed as
`kube-prometheus-stack` in namespace `monitoring` (as examples/eks does)."""

OIDC_PROVIDER_ARN = re.compile(r"arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/[A-Za-z0-9./_-]+")
"""An IAM OIDC identity provider ARN (IRSA's trust principal)."""
FIELD_PATTERNS: dict[str, tuple[re.Pattern[str], str]] = {
    "name": (
        EKS_CLUSTER_NAME,
        "an EKS cluster name (1-100 of letters, digits, - and _, starting with a letter or digit)",
    ),
    "node_role": (IAM_ROLE_NAME, "an IAM role name (1-64 of letters, digits and _+=,.@-); give the name, not the ARN"),
    "zone": (ZONE, "an Availability Zone name like 'us-east-1a'"),
    "oidc_provider_arn": (OIDC_PROVIDER_ARN, "an IAM OIDC provider ARN (arn:aws:iam::<account>:oidc-provider/...)"),
    "prometheus_url": (
        PROMETHEUS_URL,
        "an http(s) URL of a Prometheus server (scheme, host, port, path; no credentials or query)",
    ),
    "ami_alias": (
        AMI_ALIAS,
        "a GPU AMI alias Karpenter resolves: al2023@<version> or bottlerocket@<version> (latest, or a pinned v...)",
    ),
}
"""Fields whose whole value must match a pattern, and what the pattern stands for."""
DEFAULT_MONITOR_LABELS = {"release": "kube-prometheus-stack"}
"""What kube-prometheus-stack's Prometheus selects PodMonitors by when installed as release `kube-prometheus-stack`
(its default podMonitorSelector matches the release label); without it the monitor is ignored and KEDA sees no load."""

Identity = Literal["pod-identity", "irsa"]
Ingress = Literal["none", "alb"]


class EksClusterOptions(BaseModel):
    """The existing EKS cluster the fleet runs on, and how the fleet uses it."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    """EKS cluster name (the Kubernetes provider is built from its endpoint and certificate unless the program passes
    one in `providers`)."""
    namespace: str = DASHED_NAME
    """Namespace the fleet's workload, Service, autoscaler and monitor live in (created, with the baseline Pod Security
    Standard enforced)."""
    node_role: str | None = None
    """IAM role Karpenter gives the GPU nodes (EC2NodeClass spec.role; None: KarpenterNodeRole-<cluster name>)."""
    discovery_tag: str = DEFAULT_DISCOVERY_TAG
    """Tag key (value: the cluster name) that marks the subnets and security groups the nodes launch into."""
    zone: str | None = None
    """Availability Zone of multi-node replicas (EFA and NCCL need every node of a replica in one zone; None: the first
    zone pre-flight finds offering the type)."""
    identity: Identity = "pod-identity"
    """How the pods get their AWS role: EKS Pod Identity (the eks-pod-identity-agent add-on) or IRSA (an OIDC
    provider)."""
    oidc_provider_arn: StrInput | None = None
    """IRSA only: the cluster's IAM OIDC provider
    (arn:aws:iam::<account>:oidc-provider/oidc.eks.<region>.amazonaws.com/id/<id>)."""
    ingress: Ingress = "none"
    """none: a ClusterIP Service only; alb: also an Ingress for the AWS Load Balancer Controller routing /v1 only."""
    prometheus_url: str = DEFAULT_PROMETHEUS_URL
    """Prometheus the KEDA ScaledObject queries for vLLM's metrics."""
    pod_monitor: bool = True
    """Emit a PodMonitor (Prometheus Operator) that scrapes vLLM's /metrics."""
    monitor_labels: dict[str, str] = Field(default=DEFAULT_MONITOR_LABELS, max_length=10)
    """Labels on the PodMonitor: a Prometheus selects monitors by label (kube-prometheus-stack: release=<its
    release>)."""
    alternative_instance_types: bool = False
    """Let Karpenter also buy the plan's alternatives of the same GPU shape (same GPU, count and layout)."""
    ami_alias: str = "al2023@latest"
    """EC2NodeClass AMI alias; pin a version (al2023@v20261120) so that a new AMI does not drift every node."""
    capacity_reservation_ids: tuple[str, ...] = Field(default=(), max_length=20)
    """Capacity Block or On-Demand Capacity Reservation ids (cr-...) the nodes launch into when the plan buys
    capacity-block."""

    @field_validator(*FIELD_PATTERNS)
    @classmethod
    def _pattern(cls, value: Any, info: ValidationInfo) -> Any:
        pattern, what = FIELD_PATTERNS[info.field_name or ""]
        if isinstance(value, str) and not pattern.fullmatch(value):  # an Output is checked by AWS
            raise ValueError(f"{info.field_name} {value!r} is not {what}")
        return value

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, namespace: str) -> str:
        if not DNS_LABEL.fullmatch(namespace) or namespace.startswith("kube-"):
            raise ValueError(
                f"namespace {namespace!r} is not a namespace the fleet can own: a DNS label (lower-case "
                "letters, digits and -, at most 63) not starting with kube-"
            )
        return namespace

    @field_validator("discovery_tag")
    @classmethod
    def _tag(cls, key: str) -> str:
        if not TAG_KEY.fullmatch(key) or key.lower().startswith("aws:"):
            raise ValueError(f"discovery_tag {key!r} is not an AWS tag key")
        return key

    @field_validator("monitor_labels")
    @classmethod
    def _labels(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, value in labels.items():  # https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/
            name = key.rsplit("/", 1)[-1]
            if not re.fullmatch(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)", name) or not re.fullmatch(
                r"(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)", value
            ):
                raise ValueError(f"monitor label {key}={value!r} is not a Kubernetes label")
        return labels

    @field_validator("capacity_reservation_ids")
    @classmethod
    def _reservations(cls, ids: tuple[str, ...]) -> tuple[str, ...]:
        bad = [i for i in ids if not CAPACITY_RESERVATION_ID.fullmatch(i)]
        if bad:
            raise ValueError(f"capacity_reservation_ids {bad} are not reservation ids like 'cr-0123456789abcdef0'")
        return ids

    @model_validator(mode="after")
    def _identity(self) -> EksClusterOptions:
        if self.identity == "irsa" and self.oidc_provider_arn is None:
            raise ValueError("identity 'irsa' needs oidc_provider_arn (the cluster's IAM OIDC provider)")
        if self.identity == "pod-identity" and self.oidc_provider_arn is not None:
            raise ValueError("oidc_provider_arn is used by identity 'irsa' only; remove it or set identity: irsa")
        return self

    @property
    def karpenter_node_role(self) -> str:
        """The role the EC2NodeClass names."""
        return self.node_role or f"{DEFAULT_NODE_ROLE_PREFIX}{self.name}"[:64]
