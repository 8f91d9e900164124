"""The command line contract: JSON keys, exit codes 0/1/2, and errors without tracebacks."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sizing.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_memory_json_without_gpu(capsys):
    code, out, _ = run(capsys, "memory", "--model", "llama-3.1-8b", "--batch", "20", "--seq-len", "2048", "--json")
    data = json.loads(out)
    assert code == 0
    assert {"weights_gib", "kv_cache_gib", "activation_gib", "overhead_gib", "total_gib"} <= set(data)
    assert data["kv_cache_gib"] == pytest.approx(5.0)


def test_memory_json_with_gpu(capsys):
    code, out, _ = run(
        capsys,
        "memory",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--max-model-len",
        "8192",
        "--gpu-memory-utilization",
        "0.95",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert {"kv_cache_tokens", "max_concurrency", "fits"} <= set(data)
    assert data["fits"] is True
    assert data["kv_cache_tokens"] == pytest.approx(476016, rel=0.05)  # S1 c01


def test_memory_with_instance_type_and_tp(capsys):
    code, out, _ = run(
        capsys,
        "memory",
        "--model",
        "llama-3.1-70b",
        "--gpu",
        "p4d.24xlarge",
        "--tp",
        "8",
        "--max-model-len",
        "8192",
        "--json",
    )
    assert code == 0 and json.loads(out)["gpu"] == "A100-SXM-40GB"


def test_memory_raw_numbers(capsys):
    code, out, _ = run(
        capsys,
        "memory",
        "--params-b",
        "7",
        "--layers",
        "32",
        "--kv-heads",
        "8",
        "--head-dim",
        "128",
        "--bytes-per-param",
        "2",
        "--seq-len",
        "2048",
        "--batch",
        "20",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert data["weights_gib"] == pytest.approx(7e9 * 2 / 2**30, rel=0.01)
    assert data["kv_cache_gib"] == pytest.approx(5.0)


def test_memory_that_does_not_fit_exits_1(capsys):
    code, out, _ = run(capsys, "memory", "--model", "llama-3.1-8b", "--gpu", "A10G", "--json")
    data = json.loads(out)
    assert code == 1 and data["fits"] is False and data["shortfall_gib"] > 10


def test_speed_json(capsys):
    code, out, _ = run(
        capsys,
        "speed",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--tp",
        "1",
        "--input-tokens",
        "1000",
        "--output-tokens",
        "1000",
        "--batch",
        "max",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    assert {"ttft_ms", "tpot_ms", "output_tokens_per_second"} <= set(data)
    assert data["batch"] == data["max_batch"]


def test_speed_bad_batch(capsys):
    code, _, err = run(capsys, "speed", "--model", "llama-3.1-8b", "--gpu", "H100", "--batch", "lots")
    assert code == 2 and "--batch='lots'" in err and "To fix" in err


def test_speed_when_nothing_fits_exits_1(capsys):
    code, _, err = run(capsys, "speed", "--model", "deepseek-v3", "--gpu", "H100", "--batch", "max")
    assert code == 1 and "GiB more per GPU" in err and "To fix" in err


def test_plan_json_contract(capsys):
    code, out, _ = run(
        capsys,
        "plan",
        "--model",
        "llama-3.1-70b",
        "--concurrency",
        "64",
        "--input-tokens",
        "1000",
        "--output-tokens",
        "200",
        "--tpot-ms",
        "50",
        "--ttft-ms",
        "3000",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    required = {
        "instance_type",
        "instances",
        "tensor_parallel",
        "pipeline_parallel",
        "replicas",
        "purchase",
        "hourly_cost_usd",
        "cost_per_million_output_tokens_usd",
        "memory_per_gpu",
        "alternatives",
        "rejected",
    }
    assert required <= set(data)
    assert {"weights_gib", "kv_cache_gib", "activation_gib"} <= set(data["memory_per_gpu"])


def test_plan_human_table(capsys):
    code, out, _ = run(capsys, "plan", "--instance-types", "g6e.xlarge,g5.xlarge")
    assert code == 0 and "Choice:" in out and "Alternatives" in out and "Rejected" in out


def test_plan_infeasible_exits_1(capsys):
    code, _, err = run(capsys, "plan", "--model", "llama-3.1-405b", "--instance-types", "g5.xlarge")
    assert code == 1 and "Nearest miss" in err and "To fix" in err


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["plan", "--model", "lama-3.1-8b"], "Did you mean 'llama-3.1-8b'"),
        (["memory", "--model", "llama-3.1-8b", "--gpu", "H10"], "Did you mean"),
        (["plan", "--concurrency", "0"], "concurrency"),
        (["plan", "--region", "mars-1"], "Unknown region 'mars-1'"),
        (["plan", "--weights", "int3"], "Unknown weight format 'int3'"),
        (["plan", "--assume", "warp_factor=9"], "Unknown assumption 'warp_factor'"),
        (["plan", "--assume", "prefill_compute_efficiency=7"], "prefill_compute_efficiency"),
        (["memory", "--params-b", "7", "--layers", "-1", "--kv-heads", "8", "--head-dim", "128"], "--layers=-1"),
        (["plan", "--input-tokens", "5000", "--max-model-len", "4096"], "raise max_model_len"),
        (["memory", "--model", "llama-3.1-8b", "--tp", "0"], "--tp=0"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(capsys, argv, needle):
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert needle in err
    assert "Traceback" not in err


def test_module_entry_point_runs_in_a_fresh_interpreter():
    result = subprocess.run(
        [sys.executable, "-m", "sizing", "plan", "--json"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0
    assert json.loads(result.stdout)["instances"] >= 1
    bad = subprocess.run(
        [sys.executable, "-m", "sizing", "plan", "--model", "nope"], cwd=ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


LOAD_KEYS = {
    "output_tokens_per_second",
    "requests_per_second",
    "tpot_ms",
    "ttft_ms",
    "tpot_p95_ms",
    "ttft_p95_ms",
    "running_batch",
    "prefill_share",
    "saturated",
}
"""The steady-state JSON contract of `speed --concurrency` / `--request-rate` (issue 8)."""
SPEED_70B = (
    "speed",
    "--model",
    "llama-3.1-70b",
    "--weights",
    "fp8",
    "--gpu",
    "p5.48xlarge",
    "--tp",
    "8",
    "--input-tokens",
    "2000",
    "--output-tokens",
    "200",
)


def test_speed_closed_loop_json(capsys):
    code, out, _ = run(capsys, *SPEED_70B, "--concurrency", "64", "--json")
    data = json.loads(out)
    assert code == 0 and LOAD_KEYS <= set(data)
    # Little's law closes the loop: clients = rate x (TTFT + output tokens x TPOT), within the bisection's precision
    assert data["requests_per_second"] * (data["ttft_ms"] + 200 * data["tpot_ms"]) / 1000 == pytest.approx(64, rel=0.02)
    assert data["output_tokens_per_second"] == pytest.approx(200 * data["requests_per_second"], rel=1e-6)
    assert data["tpot_p95_ms"] >= data["tpot_ms"] and data["ttft_p95_ms"] >= data["ttft_ms"]
    assert 0 < data["prefill_share"] < 1 and data["saturated"] is False


def test_speed_open_loop_json_and_overload_exit_1(capsys):
    code, out, _ = run(capsys, *SPEED_70B, "--request-rate", "5", "--json")
    data = json.loads(out)
    assert code == 0 and LOAD_KEYS <= set(data)
    assert data["requests_per_second"] == pytest.approx(5, rel=0.01)
    code, _, err = run(capsys, *SPEED_70B, "--request-rate", "500")
    assert code == 1
    assert "maximum sustainable rate is" in err and "Traceback" not in err


@pytest.mark.parametrize(
    "extra",
    [
        ("--concurrency", "0"),
        ("--request-rate", "-2"),
        ("--concurrency", "4", "--batch", "2"),
        ("--concurrency", "4", "--prefix-hit-rate", "1"),
    ],
)
def test_speed_load_options_out_of_range_exit_2(capsys, extra):
    code, _, err = run(capsys, *SPEED_70B, *extra)
    assert code == 2 and "To fix:" in err


def test_plan_json_carries_load_capacity_and_frontier(capsys):
    code, out, _ = run(
        capsys,
        "plan",
        "--model",
        "llama-3.1-70b",
        "--weights",
        "fp8",
        "--concurrency",
        "200",
        "--input-tokens",
        "2000",
        "--output-tokens",
        "200",
        "--tpot-ms",
        "30",
        "--instance-types",
        "p5.48xlarge",
        "--json",
    )
    data = json.loads(out)
    assert code == 0
    c = data["choice"]
    assert {
        "concurrency_per_replica",
        "requests_per_second_per_replica",
        "prefill_share",
        "saturation_concurrency",
    } <= set(c)
    assert data["frontier"] and {"tpot_target_ms", "hourly_cost_usd"} <= set(data["frontier"][0])
    assert data["instances"] > 1


def test_batch_and_load_modes_share_the_engine_bias(capsys):
    # --batch 1 and a closed loop of 1 client on a tiny prompt describe the same decode step of the same engine
    base = (
        "speed",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        "H100",
        "--input-tokens",
        "1",
        "--output-tokens",
        "1000",
        "--json",
    )
    _, out, _ = run(capsys, *base, "--batch", "1")
    batch = json.loads(out)
    _, out, _ = run(capsys, *base, "--concurrency", "1")
    load = json.loads(out)
    assert batch["engine"] == load["engine"] == "vllm-0.19"
    assert load["tpot_ms"] == pytest.approx(batch["tpot_ms"], rel=0.02)
