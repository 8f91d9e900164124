"""The calibration loop on a real engine (`make e2e`): vLLM's CPU build serves the tiny random-weight model, the real
`vllm bench serve` measures it at four concurrencies, a CPU device described in tests/data/cpu_device.csv is
calibrated from half of the runs and the other half predicted; and the benchmark commands `plan --bench-commands`
prints are read by vLLM's own argument parser. What is pinned is that the loop works on the real tool's files; the
accuracy of a CPU profile is not the point (2 shared cores, a tiny model dominated by host overhead).

Set LLMFLEET_BENCH_OUT to a folder to keep the result files (tests/data/benchmarks/cpu/ holds a committed set, so
that CI checks the parsers on real files without vLLM)."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time
import urllib.request

import pytest

from sizing.calibration.fit import calibrate, errors, predict, shape_of
from sizing.calibration.results import read_results
from sizing.cli.main import main
from tests.sizing.calibration_data import cpu_replica
from tests.stack_runs import ROOT

PYTHON = os.environ.get("LLMFLEET_VLLM_PYTHON")
pytestmark = pytest.mark.skipif(not PYTHON, reason="LLMFLEET_VLLM_PYTHON not set (a Python with vLLM)")
START_TIMEOUT_S = 600
"""A CPU vLLM serving a tiny model starts in one to three minutes on two cores."""
FIT, HELD_OUT = (1, 4), (2, 8)
"""Concurrencies fitted and predicted."""
INPUT_TOKENS, OUTPUT_TOKENS = 128, 64


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


PORT = _free_port()


def _healthy() -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """The tiny model served by vLLM's CPU build, benchmarked by the real `vllm bench serve` at four concurrencies."""
    folder = tmp_path_factory.mktemp("bench")
    model = folder / "model"
    subprocess.run(
        [PYTHON, str(ROOT / "tools/tiny_model.py"), str(model)], check=True, capture_output=True, timeout=300
    )
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    log = (folder / "server.log").open("w")
    server = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "vllm.entrypoints.openai.api_server",
            "--model",
            str(model),
            "--served-model-name",
            "tiny",
            "--host",
            "127.0.0.1",
            "--port",
            str(PORT),
            "--max-model-len",
            "2048",
            "--dtype",
            "bfloat16",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and not _healthy():
            assert server.poll() is None, (folder / "server.log").read_text()[-3000:]
            time.sleep(5)
        for c in FIT + HELD_OUT:
            subprocess.run(
                [
                    PYTHON,
                    str(ROOT / "tools/vllm_bench.py"),
                    "--backend",
                    "vllm",
                    "--base-url",
                    f"http://127.0.0.1:{PORT}",
                    "--model",
                    "tiny",
                    "--tokenizer",
                    str(model),
                    "--dataset-name",
                    "random",
                    "--random-input-len",
                    str(INPUT_TOKENS),
                    "--random-output-len",
                    str(OUTPUT_TOKENS),
                    "--num-prompts",
                    str(max(16, 4 * c)),
                    "--max-concurrency",
                    str(c),
                    "--ignore-eos",
                    "--save-result",
                    "--result-dir",
                    str(folder),
                    "--result-filename",
                    f"vllm-c{c}.json",
                    "--metadata",
                    "engine_version=e2e",
                ],
                env=env,
                check=True,
                capture_output=True,
                timeout=600,
            )
    finally:
        server.terminate()
        server.wait(timeout=60)
    keep = os.environ.get("LLMFLEET_BENCH_OUT")
    if keep:
        for c in FIT + HELD_OUT:
            shutil.copy(folder / f"vllm-c{c}.json", keep)
    return {c: read_results(folder / f"vllm-c{c}.json")[0] for c in FIT + HELD_OUT}


def test_calibrated_from_half_the_real_runs_the_other_half_is_predicted(results):
    replica = cpu_replica()
    cal = calibrate(replica, [results[c] for c in FIT], "vllm-0.19", "e2e", "2026-12-07")
    assert {s.tool for s in cal.sources} == {"vllm-bench-serve"} and len(cal.points) == len(FIT)
    assumptions = cal.assumptions(replica.base)
    for c in HELD_OUT:
        point = results[c]
        assert (point.arrivals, point.concurrency, point.completed) == ("burst", c, max(16, 4 * c))
        errs = errors(predict(replica.load(assumptions, shape_of(point), 1.0), point), point)
        assert errs is not None and all(abs(e) < 1.0 for e in errs), (c, errs)  # the loop works; not an accuracy bar


def test_the_benchmark_commands_a_plan_prints_are_read_by_vllms_own_parser(capsys):
    assert (
        main(
            [
                "plan",
                "--model",
                "llama-3.1-8b",
                "--concurrency",
                "16",
                "--requests-per-second",
                "2",
                "--ttft-ms",
                "2000",
                "--tpot-ms",
                "50",
                "--bench-commands",
                "--json",
            ]
        )
        == 0
    )
    commands = json.loads(capsys.readouterr().out)["bench_commands"]["vllm"]
    for line in commands:
        argv = shlex.split(line)[3:]  # after `vllm bench serve`
        done = subprocess.run(
            [PYTHON, str(ROOT / "tools/vllm_bench.py"), "--check-only", *argv],
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        parsed = json.loads(done.stdout.strip().splitlines()[-1])
        assert parsed["random_input_len"] == 1024 and parsed["random_output_len"] == 256 and parsed["ignore_eos"]
        assert parsed["goodput"] == ["ttft:2000", "tpot:50"]
