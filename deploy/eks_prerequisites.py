"""What the EKS platform needs in the cluster, pinned in one place, and the check that it is there.

The fleet's objects are validated against these releases' schemas (tests/data/crds/, and the Kubernetes OpenAPI of
KUBERNETES_SCHEMA), examples/eks/ installs these chart versions, and before any resource the component asks the cluster
whether each CustomResourceDefinition is served at the version it emits (where the cluster can be read: pre-flight on,
AWS credentials that may describe the cluster and read CRDs). No pulumi here: boto3 and the Kubernetes REST API."""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from deploy.errors import MissingPrerequisiteError

KUBERNETES_SCHEMA = "1.34.0"
"""Kubernetes version whose OpenAPI the built-in objects are validated against (kubernetes-validate)."""
MINIMUM_KUBERNETES = (1, 31)
"""Oldest cluster version served: PodDisruptionBudget unhealthyPodEvictionPolicy is GA from 1.31
(https://kubernetes.io/docs/tasks/run-application/configure-pdb/#unhealthy-pod-eviction-policy)."""


@dataclass(frozen=True)
class Product:
    """A cluster add-on the fleet relies on, at the release its schemas were taken from."""

    name: str
    """What it is called."""
    version: str
    """Release the fleet is built and tested against."""
    chart: str
    """Helm chart reference examples/eks installs (repository URL or OCI reference)."""
    chart_name: str
    """Chart name within that repository ('' for an OCI reference)."""
    chart_version: str
    """Chart version examples/eks installs."""
    docs: str
    """Where its API is documented."""


KARPENTER = Product(
    "Karpenter", "1.14.1", "oci://public.ecr.aws/karpenter/karpenter", "", "1.14.1", "https://karpenter.sh/docs/"
)
LWS = Product(
    "LeaderWorkerSet", "0.10.0", "oci://registry.k8s.io/lws/charts/lws", "", "0.10.0", "https://lws.sigs.k8s.io/docs/"
)
KEDA = Product("KEDA", "2.20.2", "https://kedacore.github.io/charts", "keda", "2.20.2", "https://keda.sh/docs/2.20/")
PROMETHEUS_OPERATOR = Product(
    "Prometheus Operator",
    "0.93.0",
    "https://prometheus-community.github.io/helm-charts",
    "kube-prometheus-stack",
    "88.0.0",  # the chart release that ships operator v0.93.0
    "https://prometheus-operator.dev/docs/api-reference/api/",
)
NVIDIA_DEVICE_PLUGIN = Product(
    "NVIDIA device plugin",
    "0.20.0",
    "https://nvidia.github.io/k8s-device-plugin",
    "nvidia-device-plugin",
    "0.20.0",
    "https://github.com/NVIDIA/k8s-device-plugin",
)
"""Advertises nvidia.com/gpu; Karpenter does not count a GPU node as initialized without it. Its chart tolerates the
nvidia.com/gpu taint the fleet's NodePools carry."""
EFA_DEVICE_PLUGIN = Product(
    "EFA device plugin",
    "0.5.20",
    "https://aws.github.io/eks-charts",
    "aws-efa-k8s-device-plugin",
    "0.5.30",
    "https://docs.aws.amazon.com/eks/latest/userguide/node-efa.html",
)
"""Advertises vpc.amazonaws.com/efa (multi-node replicas). Its chart tolerates nothing by default: it needs the
nvidia.com/gpu toleration to run on the fleet's nodes."""
ADD_ONS = (KARPENTER, LWS, KEDA, PROMETHEUS_OPERATOR, NVIDIA_DEVICE_PLUGIN, EFA_DEVICE_PLUGIN)
"""Everything examples/eks installs, at these versions."""


@dataclass(frozen=True)
class Crd:
    """A CustomResourceDefinition the fleet emits objects of."""

    name: str
    """metadata.name of the CRD (plural.group)."""
    version: str
    """The served version the fleet's objects use."""
    kind: str
    """Kind of those objects."""
    product: Product
    """Who installs it."""
    needed_when: str
    """always, multi-node (LeaderWorkerSet) or pod-monitor."""
    instead: str = ""
    """What the stack can set to do without it ('' when nothing can)."""

    @property
    def api_version(self) -> str:
        """group/version of the objects."""
        return f"{self.name.split('.', 1)[1]}/{self.version}"


CRDS = (
    Crd("nodepools.karpenter.sh", "v1", "NodePool", KARPENTER, "always"),
    Crd("ec2nodeclasses.karpenter.k8s.aws", "v1", "EC2NodeClass", KARPENTER, "always"),
    Crd("scaledobjects.keda.sh", "v1alpha1", "ScaledObject", KEDA, "always"),
    Crd("leaderworkersets.leaderworkerset.x-k8s.io", "v1", "LeaderWorkerSet", LWS, "multi-node"),
    Crd(
        "podmonitors.monitoring.coreos.com",
        "v1",
        "PodMonitor",
        PROMETHEUS_OPERATOR,
        "pod-monitor",
        "llmfleet:fleet.cluster.pod_monitor: false, with a Prometheus that scrapes the pods' prometheus.io annotations",
    ),
)
"""Every CRD the fleet may emit objects of, and when it does."""
API_TIMEOUT_S = 10.0
"""Each call to the cluster's API gets this long."""
TOKEN_LIFETIME_S = 60
"""Life of the presigned STS URL that is the EKS bearer token (aws-iam-authenticator's scheme)."""


def needed(multi_node: bool, pod_monitor: bool) -> tuple[Crd, ...]:
    """The CRDs a fleet of this shape emits objects of."""
    when = {"always", *(["multi-node"] if multi_node else []), *(["pod-monitor"] if pod_monitor else [])}
    return tuple(c for c in CRDS if c.needed_when in when)


CrdReader = Callable[[str], dict[str, Any] | None]
"""Reads a CRD by name: its object, None when the cluster has none (404); raises OSError when it cannot ask."""


def missing(crds: tuple[Crd, ...], read: CrdReader) -> list[str]:
    """What the cluster lacks, one line each with what to install."""
    problems = []
    for crd in crds:
        found = read(crd.name)
        served = {v.get("name") for v in (found or {}).get("spec", {}).get("versions", []) if v.get("served")}
        if crd.version not in served:
            have = f"it serves {sorted(served)}" if found else "it is not installed"
            problems.append(
                f"{crd.kind} ({crd.api_version}): {have}; install {crd.product.name} {crd.product.version} "
                f"({crd.product.docs})" + (f", or set {crd.instead}" if crd.instead else "")
            )
    return problems


def check_version(version: str) -> str | None:
    """Why the cluster's Kubernetes version is too old, or None."""
    try:
        major, minor = (int(x) for x in version.split(".")[:2])
    except ValueError:
        return None
    if (major, minor) < MINIMUM_KUBERNETES:
        return (
            f"the cluster runs Kubernetes {version}; the fleet needs {'.'.join(map(str, MINIMUM_KUBERNETES))} or "
            "newer. To fix: upgrade the cluster (https://docs.aws.amazon.com/eks/latest/userguide/update-cluster.html)."
        )
    return None


def require(crds: tuple[Crd, ...], read: CrdReader, cluster: str) -> None:
    """Raise MissingPrerequisiteError naming every missing CRD and what installs it."""
    problems = missing(crds, read)
    if problems:
        raise MissingPrerequisiteError(
            f"EKS cluster {cluster!r} lacks what the fleet needs: "
            + "; ".join(problems)
            + ". To fix: install them (examples/eks/ shows the Helm charts at these versions), or serve on "
            "platform ec2."
        )


def eks_token(session: Any, cluster: str, region: str) -> str:
    """A bearer token for the EKS API: a presigned STS GetCallerIdentity URL naming the cluster (the scheme `aws eks
    get-token` uses; https://github.com/kubernetes-sigs/aws-iam-authenticator#api-authorization-from-outside-a-cluster)."""
    from botocore.signers import RequestSigner

    sts = session.client("sts", region_name=region)
    signer = RequestSigner(
        sts.meta.service_model.service_id, region, "sts", "v4", session.get_credentials(), session.events
    )
    url = signer.generate_presigned_url(
        {
            "method": "GET",
            "url": f"https://sts.{region}.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15",
            "body": {},
            "headers": {"x-k8s-aws-id": cluster},
            "context": {},
        },
        region_name=region,
        expires_in=TOKEN_LIFETIME_S,
        operation_name="",
    )
    return "k8s-aws-v1." + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def api_reader(endpoint: str, certificate_authority_b64: str, token: str) -> CrdReader:
    """A CrdReader over the cluster's API server, trusting only the cluster's certificate authority."""
    context = ssl.create_default_context(cadata=base64.b64decode(certificate_authority_b64).decode())

    def read(name: str) -> dict[str, Any] | None:
        request = urllib.request.Request(
            f"{endpoint}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=API_TIMEOUT_S, context=context) as answer:
                return json.loads(answer.read(2**22))
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise OSError(f"the cluster's API answered {exc.code} for {name}") from None

    return read


ReaderFactory = Callable[[str, str, str], CrdReader]
"""(endpoint, base64 certificate authority, bearer token) -> CrdReader."""


def check_cluster(
    cluster: str, region: str, crds: tuple[Crd, ...], session: Any, reader: ReaderFactory | None = None
) -> list[str]:
    """Ask the cluster, with the deployer's AWS credentials (a boto3 session), for its Kubernetes version and the
    CRDs; raise MissingPrerequisiteError on what is missing. Where it cannot ask, return a notice: the preview goes on,
    and the cluster's API refuses the objects later with its own message."""
    import botocore.exceptions

    from sizing.live.aws import client_config

    try:
        eks = session.client("eks", region_name=region, config=client_config())
        described = eks.describe_cluster(name=cluster)["cluster"]
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
        return [
            f"eks pre-flight: cluster {cluster!r} could not be described ({type(exc).__name__}); its add-ons were "
            "not checked"
        ]
    too_old = check_version(str(described.get("version", "")))
    if too_old:
        raise MissingPrerequisiteError(too_old)
    try:
        read = (reader or api_reader)(
            described["endpoint"], described["certificateAuthority"]["data"], eks_token(session, cluster, region)
        )
        require(crds, read, cluster)
    except (OSError, KeyError, ValueError, botocore.exceptions.BotoCoreError) as exc:
        return [
            f"eks pre-flight: the CRDs of cluster {cluster!r} could not be read ({type(exc).__name__}); not checked"
        ]
    return []
