"""The issue's reproducers on the command line, one per kind: each exits 2 (or 1 where nothing fits) with a
message that says what to fix, never a traceback or a hang."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fuzz.harness import check, run_cli
from tests.fuzz.strategies import ROOT

RAW = ["--layers", "32", "--kv-heads", "8", "--head-dim", "128"]
L8 = ["--model", "llama-3.1-8b"]

BAD_INPUT = [
    ["memory", "--params-b", "nan", *RAW],
    ["memory", "--params-b", "inf", *RAW],
    ["memory", "--params-b", "1e300", *RAW],
    ["plan", "--assume", "container_pull_s=inf", "--workload", "batch"],
    ["plan", "--assume", "container_pull_s=nan", "--workload", "batch"],
    ["memory", *L8, "--gpu", "H100", "--pp", "1000"],
    ["memory", *L8, "--tp", "3"],
    ["memory", *L8, "--tp", "64"],
    ["memory", "--model", "qwen3-235b-a22b", "--dp", "0"],
    ["memory", "--model", "qwen3-235b-a22b", "--gpu", "p5.48xlarge", "--tp", "4", "--dp", "4", "--ep"],
    ["memory", *L8, "--batch", "0"],
    ["memory", *L8, "--batch", "-4"],
    ["memory", *L8, "--seq-len", "0"],
    ["memory", *L8, "--seq-len", "-2048"],
    ["memory", "--params-b", "8", *RAW, "--hidden", "0"],
    ["memory", "--params-b", "8", *RAW, "--vocab", "0"],
    ["memory", "--model", "x" * 1000],
    ["plan", "--model", "llama-3.1-70b", "--weights", "q4_k_m"],
    ["plan", "--input-tokens", "200000"],
    ["plan", "--model", "gemma-2-27b", "--input-tokens", "4097", "--output-tokens", "4096"],
    ["memory", "--gpu", "g5.xlarge", "--tp", "8"],
    ["speed", "--gpu", "H100", "--output-tokens", "-1"],
    ["speed", "--gpu", "H100", "--batch", "max", "--tpot-ms", "0"],
    ["speed", "--gpu", "H100", "--input-tokens", "0"],
    ["plan", "--tpot-ms", "0"],
    ["plan", "--concurrency", "1e9"],
    ["plan", "--requests-per-second", "inf"],
    ["plan", "--gpu-memory-utilization", "nan"],
    ["memory", "--gpu-memory-utilization", "1.5", "--gpu", "H100"],
    ["plan", "--instance-types", ",".join(["g5.xlarge"] * 5000)],
    # hostile review: subnormal shares and rates made times and costs infinite (exit 0 with inf, or a ValueError)
    ["plan", "--assume", "prefill_compute_efficiency=1e-320"],
    ["plan", "--assume", "decode_compute_efficiency=1e-320"],
    ["plan", "--assume", "allreduce_pcie_cross_switch_bandwidth_share=1e-320"],
    ["plan", "--assume", "decode_bw_efficiency=1e-320"],
    ["plan", "--assume", "hours_per_month=1e-320"],
    ["plan", "--assume", "download_nic_efficiency=1e-320"],
    ["plan", "--assume", "instance_store_gb_per_s=1e-320"],
    ["speed", "--gpu", "H100", "--assume", "decode_bw_efficiency=1e-320"],
    ["plan", "--requests-per-second", "1e-320"],
    ["plan", "--output-tokens-per-second", "1e-320"],
    ["plan", "--model", "deepseek-r1", "--ttft-ms", "5e-324"],  # 0 s after ms -> s: ZeroDivisionError (long fuzz run)
    ["speed", "--gpu", "H100", "--batch", "max", "--tpot-ms", "5e-324"],
    ["memory", "--params-b", "8", *RAW, "--bytes-per-param", "1e-320", "--gpu", "H100"],  # 0.00 GiB of weights, exit 0
    # contradictions that were silently resolved one way
    ["plan", "--max-model-len", "2000", "--max-input-tokens", "4000"],  # vLLM refuses the longest prompt
    ["plan", "--max-input-tokens", "1000000"],  # capped at the 131072-token context without a word, exit 0
    ["speed", "--gpu", "H100", "--prefix-hit-rate", "0.5", "--batch", "4"],  # ignored without a steady state
    ["speed", "--gpu", "H100", "--prefix-hit-rate", "0.5"],
    ["speed", "--gpu", "H100", "--tpot-ms", "10"],  # ignored unless --batch max
    ["speed", "--gpu", "H100", "--tpot-ms", "10", "--batch", "4"],
    ["speed", "--gpu", "H100", "--tpot-ms", "10", "--concurrency", "4"],
    ["memory", "llama-3.1-8b", "--model", "llama-3.1-70b"],  # the positional model was ignored
    ["memory", *L8, "--gpu-memory-utilization", "0.5"],  # ignored without --gpu
]


@pytest.mark.parametrize("argv", BAD_INPUT, ids=lambda a: " ".join(a)[:60])
def test_reproducer_is_bad_input(argv):
    o = run_cli(argv)
    check(o, argv)
    assert o.code == 2, o.err
    assert "To fix" in o.err


def _config(tmp_path: Path, **fields) -> str:
    base = json.loads((Path(__file__).parents[2] / "sizing/data/models/llama-3.1-8b.json").read_text())["config"]
    base.update(fields)
    path = tmp_path / "config.json"
    path.write_text(json.dumps(base))
    return str(path)


CONFIG_CASES = {
    "string hidden_size": lambda t: _config(t, hidden_size="4096"),
    "vision_config not a mapping": lambda t: _config(t, text_config={"hidden_size": 4096}, vision_config="x"),
    "partial MLA": lambda t: _config(t, kv_lora_rank=512),
    "a billion layers": lambda t: _config(t, num_hidden_layers=10**9),
    "float layers": lambda t: _config(t, num_hidden_layers=32.5),
    "negative heads": lambda t: _config(t, num_attention_heads=-32),
    "list not object": lambda t: (t / "c.json").write_text("[1, 2]") and str(t / "c.json"),
    "deeply nested": lambda t: (t / "c.json").write_text("[" * 100000 + "]" * 100000) and str(t / "c.json"),
    "binary": lambda t: (t / "c.json").write_bytes(b"\xff\xfe\x00garbage\x80") and str(t / "c.json"),
    "directory without config": lambda t: str(t),
    "device": lambda t: "/dev/zero",
    "fifo": lambda t: (os.mkfifo(t / "fifo.json"), str(t / "fifo.json"))[1],
    "too large": lambda t: (t / "big.json").write_bytes(b" " * (9 << 20) + b"{}") and str(t / "big.json"),
}


@pytest.mark.parametrize("case", list(CONFIG_CASES))
def test_hostile_config_json_is_bad_input(case, tmp_path):
    argv = ["memory", "--model", CONFIG_CASES[case](tmp_path)]
    o = run_cli(argv)
    check(o, argv)
    assert o.code == 2, o.err
    assert "To fix" in o.err


def test_bad_config_field_names_itself_and_its_type(tmp_path):
    o = run_cli(["memory", "--model", _config(tmp_path, hidden_size="4096")])
    assert "hidden_size" in o.err and "integer" in o.err


@pytest.mark.parametrize("command", [["memory", "--gpu", "H100", "--pp", "8"], ["plan", "--workload", "batch"]])
def test_thirty_thousand_layers_answer_quickly(tmp_path, command):
    """`plan` took 42 s here through a quadratic loop in stage weights; now about 0.5 s."""
    argv = [*command, "--model", _config(tmp_path, num_hidden_layers=30000)]
    o = run_cli(argv)
    check(o, argv)
    assert o.elapsed_s < 5


@pytest.mark.parametrize(
    "argv",
    [
        ["memory", *L8, "--gpu", "T4", "--batch", "4096", "--seq-len", "8192"],
        ["speed", "--model", "llama-3.1-70b", "--gpu", "T4"],
    ],
)
def test_infeasible_prints_the_nearest_miss_on_stderr(argv):
    o = run_cli(argv)
    check(o, argv)
    assert o.code == 1
    assert "Nearest miss" in o.err or "short" in o.err


def test_zero_seq_len_is_not_taken_as_absent():
    assert run_cli(["memory", *L8, "--seq-len", "0", "--max-model-len", "4096"]).code == 2


@pytest.mark.parametrize("argv", [["plan"], ["report", "stacks/Pulumi.dev.yaml"]])
def test_a_reader_that_goes_away_gets_no_traceback(argv):
    """`python -m sizing plan | head -1`: the closed pipe ended in a BrokenPipeError traceback."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LLMFLEET_PREFLIGHT": "off"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sizing", *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    proc.stdout.close()  # before the child has printed anything: its first write meets a closed pipe
    err = proc.stderr.read()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "BrokenPipe" not in err, err


def test_a_rejection_never_misses_by_a_negative_amount():
    """Found by the long fuzz run: 'misses TTFT p95 by -1.5 ms (126.5 ms for a lone request vs 128 ms)'; the lone
    request was evaluated at a lighter load than the one the capacity search checks."""
    argv = ["plan", "--concurrency", "1", "--ttft-p95-ms", "128", "--json"]
    o = run_cli(argv)
    check(o, argv)  # every number non-negative: relative_miss included
    assert o.code == 0 and "by -" not in o.out
