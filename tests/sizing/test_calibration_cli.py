"""`calibrate`, `speed --calibration/--arrivals/--engine` and `plan --calibration` end to end, on GenAI-Perf
measurements (N1, tests/data/serving_load.csv: Llama-3-8B, NIM 2024, closed loops started together) written in
`vllm bench serve`'s result layout. Reproducers of issue 20."""

from __future__ import annotations

import json
import statistics

import pytest

from sizing.calibration.fit import Replica
from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.engines import engine_and_factor
from sizing.catalog.formats import get_format
from sizing.catalog.gpus import get_gpu
from sizing.cli.main import main
from sizing.memory.layout import Layout
from sizing.models.presets import load_preset
from sizing.speed.model import ReplicaSpeed
from tests.conftest import read_rows
from tests.sizing.calibration_data import as_vllm_result, n1_rows

TRT_BUDGET = "8192"
"""TensorRT-LLM's max_num_tokens of N1's builds (tests/sizing/load_calibration.py)."""
GPU, WEIGHTS, SHAPE = "A100-SXM-80GB", "bf16", (200, 200)
N1_WEIGHTS = "fp16"
"""N1 measured fp16; the CLI is asked for bf16, which the A100 runs at the same size and tensor rate (312 TFLOPS
dense, gpus.csv) and which a plan serves from the bf16 checkpoint (vllm_rules.toml checkpoint-quantization)."""


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def a100_replica() -> Replica:
    profile, factor, _ = engine_and_factor("nim-tensorrt-llm-2024")
    speed = ReplicaSpeed(
        load_preset("llama-3.1-8b"),
        get_gpu(GPU),
        get_format(WEIGHTS),
        Layout(tp=1),
        2,
        "nvswitch",
        default_assumptions(),
    )
    return Replica(speed=speed, profile=profile, step_time_factor=factor, max_num_batched_tokens=int(TRT_BUDGET))


def _calibrate(capsys, tmp_path, concurrencies=(1, 10, 50)):
    rows = {int(r["concurrency"]): r for r in n1_rows(GPU, N1_WEIGHTS, 1, *SHAPE)}
    files = [as_vllm_result(rows[c], tmp_path) for c in concurrencies]
    out_file = tmp_path / "a100.toml"
    code, out, err = run(
        capsys,
        "calibrate",
        *files,
        "--model",
        "llama-3.1-8b",
        "--gpu",
        GPU,
        "--tp",
        "1",
        "--weights",
        WEIGHTS,
        "--engine",
        "nim-tensorrt-llm-2024",
        "--max-num-batched-tokens",
        TRT_BUDGET,
        "--out",
        out_file,
    )
    assert code == 0, err
    return rows, out_file, out


def test_calibrate_prints_every_point_and_writes_the_file(capsys, tmp_path):
    _, path, out = _calibrate(capsys, tmp_path)
    assert "Calibration of llama-3.1-8b bf16 on A100-SXM-80GB (TP1), nim-tensorrt-llm-2024 nim-2024" in out
    for c in (1, 10, 50):
        assert f"{c} clients (burst)" in out
    assert "sha256" in out and path.exists()


def test_three_concurrencies_of_one_curve_predict_the_others_within_10_percent(capsys, tmp_path):
    """Issue 20, item 5: a calibration fitted on three concurrencies of one curve predicts the others (throughput and
    ITL) within 10%: N1's A100 fp16 200/200 curve, fitted at 1, 10 and 50 clients, predicted at the other seven."""
    rows, path, _ = _calibrate(capsys, tmp_path)
    errs = []
    for c, row in rows.items():
        if c in (1, 10, 50):
            continue
        code, out, _ = run(
            capsys,
            "speed",
            "--model",
            "llama-3.1-8b",
            "--gpu",
            GPU,
            "--weights",
            WEIGHTS,
            "--input-tokens",
            SHAPE[0],
            "--output-tokens",
            SHAPE[1],
            "--concurrency",
            c,
            "--arrivals",
            "burst",
            "--calibration",
            path,
            "--engine",
            "nim-tensorrt-llm-2024",
            "--max-num-batched-tokens",
            TRT_BUDGET,
            "--json",
        )
        data = json.loads(out)
        assert code == 0 and data["calibration"]["file"] == str(path) and data["arrivals"] == "burst"
        errs += [
            data["output_tokens_per_second"] / float(row["output_tokens_per_s"]) - 1,
            data["tpot_ms"] / float(row["itl_ms_mean"]) - 1,
        ]
    assert statistics.median(abs(e) for e in errs) < 0.10


def test_speed_says_its_figures_are_calibrated(capsys, tmp_path):
    _, path, _ = _calibrate(capsys, tmp_path)
    code, out, _ = run(
        capsys, "speed", "--model", "llama-3.1-8b", "--gpu", GPU, "--weights", WEIGHTS, "--calibration", path
    )
    assert code == 0 and "figures: CALIBRATED from" in out
    code, out, _ = run(capsys, "speed", "--model", "llama-3.1-8b", "--gpu", GPU, "--weights", WEIGHTS)
    assert "figures: first-principles model (no calibration)" in out


def test_a_calibration_of_another_gpu_is_refused_by_speed(capsys, tmp_path):
    _, path, _ = _calibrate(capsys, tmp_path)
    code, _, err = run(
        capsys, "speed", "--model", "llama-3.1-8b", "--gpu", "H100", "--weights", WEIGHTS, "--calibration", path
    )
    assert code == 2 and "was fitted to llama-3.1-8b bf16 on A100-SXM-80GB" in err and "To fix:" in err


def test_plan_sizes_the_calibrated_gpu_with_the_calibration(capsys, tmp_path):
    _, path, _ = _calibrate(capsys, tmp_path)
    argv = (
        "plan",
        "--model",
        "llama-3.1-8b",
        "--weights",
        WEIGHTS,
        "--instance-types",
        "p4de.24xlarge",
        "--concurrency",
        "64",
        "--tpot-ms",
        "40",
    )
    code, out, _ = run(capsys, *argv, "--calibration", path, "--json")
    data = json.loads(out)
    assert code == 0 and data["choice"]["calibrated"] is True
    assert data["calibration"]["applies_to_choice"] and data["calibration"]["points"] == 3
    code, text, _ = run(capsys, *argv, "--calibration", path)
    assert "figures: CALIBRATED" in text
    code, plain, _ = run(capsys, *argv, "--json")
    assert "calibrated" not in json.loads(plain)["choice"] and "calibration" not in json.loads(plain)  # keys as before


def test_plan_says_when_the_calibration_does_not_describe_the_choice(capsys, tmp_path):
    _, path, _ = _calibrate(capsys, tmp_path)
    code, out, _ = run(
        capsys,
        "plan",
        "--model",
        "llama-3.1-8b",
        "--weights",
        WEIGHTS,
        "--instance-types",
        "p5.48xlarge",
        "--calibration",
        path,
    )
    assert code == 0 and "does not describe the choice" in out


# --- reproducers: how benchmark clients arrive, and the engine a benchmark ran -----------------------------------


def test_speed_takes_every_engine_with_a_step_time_factor(capsys):
    """Issue 20: `speed --engine nim-tensorrt-llm-2024` was refused ("Unknown engine profile") although engines.toml
    has its step-time factor, so a benchmark of that engine could not be reproduced as measured."""
    code, out, err = run(
        capsys,
        "speed",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        GPU,
        "--weights",
        WEIGHTS,
        "--concurrency",
        "10",
        "--engine",
        "nim-tensorrt-llm-2024",
        "--json",
    )
    assert code == 0, err
    assert json.loads(out)["engine"] == "nim-tensorrt-llm-2024"


def test_burst_arrivals_put_the_prompts_in_ttft_not_in_itl(capsys):
    """Issue 20: closed-loop clients with fixed lengths that start together see their prompts prefilled in TTFT; the
    Poisson model put them into the inter-token latency (A100, 10-100 clients: +54% to +111%) and its mean TTFT was 5x
    below GenAI-Perf's. With --arrivals burst (JSON keys unchanged) the median TTFT of N1's rows is within 2x."""
    ratios, itl = [], []
    rows = [
        r for r in read_rows("serving_load.csv") if r["gpu"] == GPU and r["tp"] == "1" and r["weights"] == N1_WEIGHTS
    ]
    for row in rows[::3]:
        code, out, err = run(
            capsys,
            "speed",
            "--model",
            "llama-3.1-8b",
            "--gpu",
            GPU,
            "--weights",
            WEIGHTS,
            "--input-tokens",
            row["input_tokens"],
            "--output-tokens",
            row["output_tokens"],
            "--concurrency",
            row["concurrency"],
            "--arrivals",
            "burst",
            "--engine",
            "nim-tensorrt-llm-2024",
            "--max-num-batched-tokens",
            TRT_BUDGET,
            "--json",
        )
        assert code == 0, err
        data = json.loads(out)
        ratios.append(data["ttft_ms"] / float(row["ttft_ms_mean"]))
        itl.append(data["tpot_ms"] / float(row["itl_ms_mean"]) - 1)
    assert 0.5 <= statistics.median(ratios) <= 2.0
    assert abs(statistics.median(itl)) < 0.20


def test_burst_itl_at_one_wave_is_the_pure_decode_step(capsys):
    shape = (
        "speed",
        "--model",
        "llama-3.1-8b",
        "--gpu",
        GPU,
        "--weights",
        WEIGHTS,
        "--input-tokens",
        "200",
        "--output-tokens",
        "200",
        "--json",
    )
    argv = (*shape, "--concurrency", "10")
    _, burst, _ = run(capsys, *argv, "--arrivals", "burst")
    _, poisson, _ = run(capsys, *argv)
    _, batch, _ = run(capsys, *shape, "--batch", "10")
    b, p = json.loads(burst), json.loads(poisson)
    assert b["tpot_ms"] == pytest.approx(json.loads(batch)["tpot_ms"], rel=0.01)  # no prompt in a decode step
    assert b["tpot_ms"] < p["tpot_ms"] and b["ttft_ms"] > p["ttft_ms"]
    assert set(p) - {"arrivals"} <= set(b) and p["arrivals"] == "poisson"


def test_arrivals_needs_a_closed_loop(capsys):
    code, _, err = run(
        capsys, "speed", "--model", "llama-3.1-8b", "--gpu", GPU, "--request-rate", "2", "--arrivals", "burst"
    )
    assert code == 2 and "needs --concurrency" in err and "To fix:" in err
