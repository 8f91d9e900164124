"""The EKS platform's pre-flight: the cluster's Kubernetes version and the CRDs the fleet emits objects of, asked of
the cluster (EKS DescribeCluster against moto; the Kubernetes API over TLS against a local server holding a
self-signed CA, as an EKS endpoint does)."""

from __future__ import annotations

import base64
import datetime
import http.server
import ipaddress
import json
import ssl
import threading
import urllib.parse
from collections.abc import Iterator

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deploy import eks_prerequisites as prerequisites
from deploy.eks_prerequisites import (
    CRDS,
    MissingPrerequisiteError,
    api_reader,
    check_cluster,
    check_version,
    eks_token,
    missing,
    needed,
)
from preview.mock_run import MockRun, run_stack
from sizing.live import preflight
from tests.live.conftest import ENOUGH, Account
from tests.stack_runs import STACKS

REGION = "us-east-1"


def crd(name: str, *versions: str) -> dict:
    return {"metadata": {"name": name}, "spec": {"versions": [{"name": v, "served": True} for v in versions]}}


def reader_of(installed: dict[str, dict]):
    return lambda name: installed.get(name)


ALL = {c.name: crd(c.name, c.version) for c in CRDS}


def test_a_complete_cluster_lacks_nothing():
    assert missing(needed(multi_node=True, pod_monitor=True), reader_of(ALL)) == []


def test_what_is_missing_is_named_with_what_installs_it():
    installed = {k: v for k, v in ALL.items() if not k.startswith("leaderworkersets")}
    installed["scaledobjects.keda.sh"] = crd("scaledobjects.keda.sh", "v1alpha0")
    problems = missing(needed(multi_node=True, pod_monitor=False), reader_of(installed))
    assert problems == [
        "ScaledObject (keda.sh/v1alpha1): it serves ['v1alpha0']; install KEDA 2.20.2 (https://keda.sh/docs/2.20/)",
        "LeaderWorkerSet (leaderworkerset.x-k8s.io/v1): it is not installed; install LeaderWorkerSet 0.10.0 "
        "(https://lws.sigs.k8s.io/docs/)",
    ]


def test_a_missing_prometheus_operator_says_how_to_do_without():
    installed = {k: v for k, v in ALL.items() if not k.startswith("podmonitors")}
    (problem,) = missing(needed(multi_node=False, pod_monitor=True), reader_of(installed))
    assert "install Prometheus Operator 0.93.0" in problem and "pod_monitor: false" in problem


def test_single_node_fleets_do_not_need_leaderworkerset():
    assert "LeaderWorkerSet" not in {c.kind for c in needed(multi_node=False, pod_monitor=True)}
    assert "PodMonitor" not in {c.kind for c in needed(multi_node=True, pod_monitor=False)}


@pytest.mark.parametrize("version,too_old", [("1.30", True), ("1.31", False), ("1.34", False), ("2.0", False)])
def test_kubernetes_version(version, too_old):
    assert bool(check_version(version)) is too_old


@pytest.fixture
def eks(monkeypatch, tmp_path) -> Iterator[boto3.Session]:
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("LLMFLEET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "on")
    with mock_aws():
        session = boto3.Session(region_name=REGION)
        iam = session.client("iam")
        role = iam.create_role(RoleName="eks", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        ec2 = session.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
        for name in ("research", "ml-platform"):
            session.client("eks").create_cluster(
                name=name, version="1.34", roleArn=role, resourcesVpcConfig={"subnetIds": [subnet]}
            )
        yield session


def test_check_cluster_refuses_a_cluster_without_leaderworkerset(eks):
    without_lws = {k: v for k, v in ALL.items() if not k.startswith("leaderworkersets")}
    with pytest.raises(MissingPrerequisiteError, match="LeaderWorkerSet.*To fix"):
        check_cluster("research", REGION, needed(True, True), eks, lambda *_: reader_of(without_lws))
    assert check_cluster("research", REGION, needed(True, True), eks, lambda *_: reader_of(ALL)) == []


def test_check_cluster_says_when_it_cannot_ask(eks):
    notices = check_cluster("no-such-cluster", REGION, needed(False, True), eks)
    assert notices and "could not be described" in notices[0]

    def unreachable(*_):
        def read(name):
            raise OSError("connection refused")

        return read

    assert "could not be read" in check_cluster("research", REGION, needed(False, True), eks, unreachable)[0]


def test_a_multi_node_preview_fails_before_any_resource_when_the_cluster_lacks_lws(eks, monkeypatch):
    without_lws = {k: v for k, v in ALL.items() if not k.startswith("leaderworkersets")}
    monkeypatch.setattr(prerequisites, "api_reader", lambda *_: reader_of(without_lws))
    monkeypatch.setattr(preflight, "boto_clients", lambda region: Account(ENOUGH))
    recorded = MockRun(stack="batch")
    with pytest.raises(Exception) as info:
        run_stack(STACKS["batch"], recorded)
    assert "EKS cluster 'research' lacks what the fleet needs: LeaderWorkerSet" in str(info.value)
    assert "To fix" in str(info.value)
    assert recorded.resources == []


def test_the_eks_token_is_a_presigned_sts_call_naming_the_cluster(eks):
    token = eks_token(eks, "research", REGION)
    assert token.startswith("k8s-aws-v1.")
    url = base64.urlsafe_b64decode(token.removeprefix("k8s-aws-v1.") + "==").decode()
    query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
    assert url.startswith(f"https://sts.{REGION}.amazonaws.com/?Action=GetCallerIdentity")
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0] and query["X-Amz-Expires"] == ["60"]


def _self_signed(tmp_path) -> tuple[str, str, bytes]:
    """(cert file, key file, PEM of the CA) for 127.0.0.1."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubernetes")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "cert.pem").write_bytes(pem)
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"), pem


class _Api(http.server.BaseHTTPRequestHandler):
    installed: dict[str, dict] = {}
    seen_tokens: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.seen_tokens.append(self.headers.get("Authorization", ""))
        name = self.path.rsplit("/", 1)[-1]
        if name == "forbidden":
            self.send_response(403)
            self.end_headers()
            return
        found = self.installed.get(name)
        self.send_response(200 if found else 404)
        self.end_headers()
        self.wfile.write(json.dumps(found or {"kind": "Status", "code": 404}).encode())

    def log_message(self, *args: object) -> None:
        pass


def test_api_reader_reads_crds_over_tls_trusting_only_the_cluster_ca(tmp_path):
    cert, key, pem = _self_signed(tmp_path)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Api)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    _Api.installed = {"nodepools.karpenter.sh": crd("nodepools.karpenter.sh", "v1")}
    endpoint = f"https://127.0.0.1:{server.server_address[1]}"
    try:
        read = api_reader(endpoint, base64.b64encode(pem).decode(), "k8s-aws-v1.abc")
        assert read("nodepools.karpenter.sh")["spec"]["versions"][0]["name"] == "v1"
        assert read("scaledobjects.keda.sh") is None
        with pytest.raises(OSError, match="403"):
            read("forbidden")
        assert _Api.seen_tokens[0] == "Bearer k8s-aws-v1.abc"
        _, _, other_ca = _self_signed(tmp_path)  # a new key and certificate: not the server's
        with pytest.raises(OSError):  # another CA: the server is not trusted
            api_reader(endpoint, base64.b64encode(other_ca).decode(), "t")("nodepools.karpenter.sh")
    finally:
        server.shutdown()


def test_quota_preflight_counts_what_the_node_pools_may_buy():
    """On eks the vCPU quotas are checked at the NodePools' limits (the autoscaling ceiling plus a surge replica): the
    batch stack's spot pool holds 48 GPUs, 6 x p5.48xlarge of 192 vCPUs."""
    from deploy.preflight import quota_checks
    from sizing.live.facts import embedded_facts
    from tests.stack_runs import stack_options, stack_run

    plan = stack_run("batch").plan
    checks = {
        c.name: c.needed_vcpus for c in quota_checks(plan, embedded_facts("us-east-1", "test"), stack_options("batch"))
    }
    assert checks["All P Spot Instance Requests"] == 6 * 192
