"""The programs the fleet's pods run, run here as the manifests carry them (the same source text): the init container
that fetches the secrets with the pod's role (against moto), the launcher that puts them in vLLM's environment, and the
preStop drain (against an HTTP server that answers as vLLM's /metrics does)."""

from __future__ import annotations

import http.server
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from components.eks.scripts import drain, source
from tests.components.k8s_rules import templates, vllm
from tests.stack_runs import stack_run

REGION = "us-east-1"


def _run_as_pod(name: str, env: dict[str, str]) -> None:
    """Execute scripts/<name>.py's text as `python3 -c` would, with this environment."""
    old = dict(os.environ)
    os.environ.update(env)
    try:
        exec(compile(source(name), f"<{name}>", "exec"), {"__name__": "__main__"})
    finally:
        os.environ.clear()
        os.environ.update(old)


@pytest.fixture
def aws(no_aws_credentials, monkeypatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


def test_manifests_carry_the_tested_sources():
    for _, t in templates(stack_run("batch")):
        assert t["spec"]["initContainers"][0]["command"] == ["python3", "-c", source("fetch_secrets")]
        assert vllm(t)["command"] == ["python3", "-c", source("launch")]
        assert vllm(t)["lifecycle"]["preStop"]["exec"]["command"] == ["python3", "-c", source("drain")]


def test_init_container_fetches_the_key_and_token_owner_only(aws, tmp_path):
    sm = boto3.client("secretsmanager", region_name=REGION)
    key = sm.create_secret(Name="fleet/api-key", SecretString="k-123")["ARN"]
    token = sm.create_secret(Name="fleet/hf-token", SecretString="hf_" + "x" * 34)["ARN"]
    _run_as_pod(
        "fetch_secrets",
        {
            "LLMFLEET_SECRETS_DIR": str(tmp_path),
            "LLMFLEET_API_KEY_SECRET": key,
            "LLMFLEET_HF_TOKEN_SECRET": token,
            "AWS_REGION": REGION,
        },
    )
    assert (tmp_path / "api-key").read_text() == "k-123"
    assert (tmp_path / "hf-token").read_text().startswith("hf_")
    assert stat.S_IMODE((tmp_path / "api-key").stat().st_mode) == 0o600


def test_init_container_reads_an_ssm_token(aws, tmp_path):
    key = boto3.client("secretsmanager", region_name=REGION).create_secret(Name="k", SecretString="k")["ARN"]
    boto3.client("ssm", region_name=REGION).put_parameter(Name="/hf/token", Value="tok", Type="SecureString")
    _run_as_pod(
        "fetch_secrets",
        {
            "LLMFLEET_SECRETS_DIR": str(tmp_path),
            "LLMFLEET_API_KEY_SECRET": key,
            "LLMFLEET_HF_TOKEN_PARAMETER": "/hf/token",
            "AWS_REGION": REGION,
        },
    )
    assert (tmp_path / "hf-token").read_text() == "tok"


def test_init_container_fails_without_the_key_after_its_retries(aws, tmp_path, monkeypatch):
    """A missing secret (or a role that may not read it) fails the init container after a few tries (a new Pod
    Identity association takes seconds to work; on a LeaderWorkerSet a failed init container restarts the whole
    group): Kubernetes retries it, and the server never starts without a key."""
    from components.eks.scripts import fetch_secrets

    pauses: list[float] = []
    env = {
        "LLMFLEET_SECRETS_DIR": str(tmp_path),
        "AWS_REGION": REGION,
        "LLMFLEET_API_KEY_SECRET": f"arn:aws:secretsmanager:{REGION}:123456789012:secret:x",
    }
    with pytest.raises(Exception, match="ResourceNotFound"):
        fetch_secrets.main(env, sleep=pauses.append)
    assert pauses == [3.0, 6.0, 12.0, 24.0] and not (tmp_path / "api-key").exists()


def _launch(folder, *command: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LLMFLEET_SECRETS_DIR": str(folder)}
    env.pop("VLLM_API_KEY", None)
    return subprocess.run(
        [sys.executable, "-c", source("launch"), *command], env=env, capture_output=True, text=True, timeout=30
    )


def test_launcher_hands_the_key_to_the_server_in_its_environment(tmp_path):
    (tmp_path / "api-key").write_text("k-123\n")
    shown = _launch(
        tmp_path, sys.executable, "-c", "import os, sys; print(os.environ['VLLM_API_KEY'], sys.argv[1:])", "a"
    )
    assert shown.returncode == 0 and shown.stdout.strip() == "k-123 ['a']"


def test_launcher_refuses_to_serve_without_a_key(tmp_path):
    refused = _launch(tmp_path, sys.executable, "-c", "print('serving')")
    assert refused.returncode != 0 and "refusing to serve" in refused.stderr and "serving" not in refused.stdout


class _Metrics(http.server.BaseHTTPRequestHandler):
    """Answers as vLLM's /metrics does (v0.19.0 exposition: one series per engine)."""

    running = [2.0, 0.0]

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        value = self.running.pop(0) if len(self.running) > 1 else self.running[0]
        body = (
            f"# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
            f'vllm:num_requests_running{{engine="0",model_name="m"}} {value}\n'
            f'vllm:num_requests_waiting{{engine="0",model_name="m"}} 0.0\n'
            f'vllm:kv_cache_usage_perc{{engine="0",model_name="m"}} 0.5\n'
        ).encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def metrics_port() -> Iterator[int]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Metrics)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _env(port: int, **extra: str) -> dict[str, str]:
    return {"LLMFLEET_PORT": str(port), "LLMFLEET_PROPAGATION_S": "30", "LLMFLEET_DRAIN_S": "600", **extra}


def test_drain_waits_for_the_running_requests(metrics_port):
    slept: list[float] = []
    _Metrics.running = [2.0, 1.0, 0.0]
    assert drain.drain(_env(metrics_port), sleep=slept.append, clock=lambda: len(slept)) == "drained"
    assert slept == [30, drain.POLL_S, drain.POLL_S]  # propagation first, then until nothing runs


def test_drain_stops_at_the_longest_request(metrics_port):
    _Metrics.running = [1.0]
    now = iter(range(0, 10_000, 100))
    assert drain.drain(_env(metrics_port), sleep=lambda s: None, clock=lambda: next(now)) == "deadline"


def test_drain_ends_when_the_server_is_gone():
    assert drain.drain(_env(1), sleep=lambda s: None) == "server gone"


def test_worker_drains_on_its_leader(metrics_port):
    _Metrics.running = [0.0]
    env = _env(metrics_port, LLMFLEET_DRAIN_ON="leader", LWS_LEADER_ADDRESS="127.0.0.1")
    assert drain.drain(env, sleep=lambda s: None) == "drained"
