"""preStop hook of the serving container: keep serving while the Service and the load balancer stop sending new
requests (LLMFLEET_PROPAGATION_S), then wait until vLLM reports no request running or waiting on its /metrics, for at
most LLMFLEET_DRAIN_S (the longest request). The kubelet sends SIGTERM when this returns. A LeaderWorkerSet worker
(LLMFLEET_DRAIN_ON=leader) waits on its leader's metrics instead: the engine spans the group, so a worker must outlive
the leader's last request."""

import os
import re
import time
import urllib.request

POLL_S = 5
"""Seconds between two looks at /metrics."""
BUSY = re.compile(r"^vllm:num_requests_(?:running|waiting)\{[^}]*\} ([0-9.eE+-]+)$", re.M)
"""vLLM's gauges of requests in the running batch and in the queue (vllm/v1/metrics/loggers.py)."""


def in_flight(host: str, port: str) -> float | None:
    """Requests running or waiting, or None when the server does not answer (nothing left to drain)."""
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=POLL_S) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    return sum(float(v) for v in BUSY.findall(text))


def drain(env: "os._Environ[str] | dict[str, str]", sleep=time.sleep, clock=time.monotonic) -> str:
    """Wait as described; returns why it stopped waiting."""
    propagation, longest = float(env["LLMFLEET_PROPAGATION_S"]), float(env["LLMFLEET_DRAIN_S"])
    host = env["LWS_LEADER_ADDRESS"] if env.get("LLMFLEET_DRAIN_ON") == "leader" else "127.0.0.1"
    sleep(propagation)
    deadline = clock() + longest
    while clock() < deadline:
        busy = in_flight(host, env["LLMFLEET_PORT"])
        if busy is None:
            return "server gone"
        if busy == 0:
            return "drained"
        sleep(POLL_S)
    return "deadline"


if __name__ == "__main__":
    print(f"llm-fleet drain: {drain(os.environ)}")
