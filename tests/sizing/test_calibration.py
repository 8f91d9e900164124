"""Calibration from the user's own benchmarks (issue 20): the real tools' result files read, the fit within physical
bounds, the calibration file, `calibrate`, `speed/plan --calibration`, `--arrivals burst`, `--engine`, and the
benchmark commands a plan prints."""

from __future__ import annotations

import json
import shlex
import statistics

import pytest

from sizing.calibration.fit import (
    CalibrationRefused,
    calibrate,
    errors,
    fit,
    predict,
    shape_of,
)
from sizing.calibration.results import ResultFileError, read_results
from sizing.calibration.store import (
    CalibrationFileError,
    read_calibration,
    write_calibration,
)
from sizing.cli.main import main
from tests.sizing.calibration_data import (
    BENCHMARKS,
    CPU_FIT_RUNS,
    CPU_HELD_OUT_RUNS,
    CPU_RESULTS,
    as_vllm_result,
    cpu_replica,
    n1_rows,
)


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- result files: the real tools' own output --------------------------------------------------------------------


def test_vllm_bench_serve_files_written_by_the_real_tool_are_read():
    (point,) = read_results(CPU_RESULTS / "vllm-c8.json")
    assert (point.tool, point.arrivals, point.concurrency, point.request_rate) == ("vllm-bench-serve", "burst", 8, None)
    assert (point.completed, point.input_tokens, point.output_tokens) == (32, 128, 64)
    assert point.engine_version == "0.32.0" and len(point.sha256) == 64
    raw = json.loads((CPU_RESULTS / "vllm-c8.json").read_text())
    assert point.ttft_ms == raw["mean_ttft_ms"] and point.itl_ms == raw["mean_tpot_ms"]
    assert point.output_tokens_per_s == raw["output_throughput"]


def test_a_finite_request_rate_is_poisson_arrivals():
    (point,) = read_results(CPU_RESULTS / "vllm-r4.json")
    assert (point.arrivals, point.concurrency, point.request_rate) == ("poisson", None, 4.0)


def test_guidellm_report_written_by_the_real_tool_is_read():
    points = read_results(CPU_RESULTS / "guidellm.json")
    assert [(p.tool, p.arrivals, p.concurrency) for p in points] == [("guidellm", "burst", 2), ("guidellm", "burst", 8)]
    for p in points:
        assert p.completed == 32 and p.input_tokens == 127 and p.output_tokens == 64
        assert p.output_tokens_per_s == pytest.approx(p.completed * p.output_tokens / (p.completed / p.requests_per_s))


def test_aiperf_export_written_by_the_real_tool_is_read():
    """AIPerf 0.13's layout: the load is in input_config.phases, not input_config.loadgen."""
    (point,) = read_results(CPU_RESULTS / "aiperf-c4" / "profile_export_aiperf.json")
    assert (point.tool, point.arrivals, point.concurrency, point.completed) == ("aiperf", "burst", 4, 32)
    raw = json.loads((CPU_RESULTS / "aiperf-c4" / "profile_export_aiperf.json").read_text())
    assert point.itl_ms == raw["inter_token_latency"]["avg"] and point.input_tokens == 127 and point.model_id == "tiny"


def test_aiperf_export_is_read():
    (point,) = read_results(BENCHMARKS / "aiperf" / "profile_export_aiperf.json")
    assert (point.tool, point.arrivals, point.concurrency, point.completed) == ("aiperf", "burst", 100, 200)
    assert (point.input_tokens, point.ttft_ms, point.itl_ms) == (550, pytest.approx(1588.8, rel=1e-4), 51.76)


@pytest.mark.parametrize(
    "content, says",
    [
        ("not json", "not valid JSON"),
        ('{"hello": 1}', "none of the formats"),
        (
            '{"completed": 4, "output_throughput": "fast", "request_rate": "inf", "max_concurrency": 2}',
            "not a finite number",
        ),
        ('{"completed": 4, "output_throughput": 10, "request_rate": 2, "burstiness": 0.5}', "gamma process"),
        ('{"benchmarks": [{"metrics": {}, "config": {"strategy": {"type_": "throughput"}}}]}', "not reproduced"),
        ('{"completed": 0, "output_throughput": 10, "request_rate": "inf", "max_concurrency": 2}', "completed"),
    ],
)
def test_a_bad_result_file_is_refused_with_a_fix(tmp_path, capsys, content, says):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    with pytest.raises(ResultFileError, match=says):
        read_results(bad)
    code, _, err = run(
        capsys, "calibrate", bad, "--model", "llama-3.1-8b", "--gpu", "H100", "--out", tmp_path / "c.toml"
    )
    assert code == 2 and "To fix:" in err and "Traceback" not in err


# --- the fit --------------------------------------------------------------------------------------------------------


def _cpu_points(runs):
    return [p for c in runs for p in read_results(CPU_RESULTS / f"vllm-c{c}.json")]


def test_a_calibration_fitted_to_half_the_real_cpu_runs_predicts_the_other_half():
    """The loop on the real tools' files (not the accuracy of a CPU profile): fitted to three concurrencies, the other
    three and GuideLLM's two runs are predicted within the bars below."""
    replica = cpu_replica()
    cal = calibrate(replica, _cpu_points(CPU_FIT_RUNS), "vllm-0.19", "0.32.0", "2026-12-07")
    assert cal.median_abs_error < 0.10
    assumptions = cal.assumptions(replica.base)
    held = _cpu_points(CPU_HELD_OUT_RUNS) + read_results(CPU_RESULTS / "guidellm.json")
    errs = [errors(predict(replica.load(assumptions, shape_of(p), 1.0), p), p) for p in held]
    assert all(e is not None for e in errs)
    tok_itl = [abs(x) for e in errs for x in e[:2]]
    assert statistics.median(tok_itl) < 0.25 and max(tok_itl) < 0.40
    assert all(0.5 <= 1 + e[2] <= 2 for e in errs)  # TTFT within 2x


def test_a_fit_that_needs_more_than_the_hardware_peak_is_refused(tmp_path):
    """Twice faster than an A100 can decode: no efficiency within [0, 1] reproduces it, so the model is wrong here."""
    rows = n1_rows("A100-SXM-80GB", "fp16", 1, 200, 200)[:4]
    for row in rows:
        row["itl_ms_mean"] = str(float(row["itl_ms_mean"]) / 4)
        row["output_tokens_per_s"] = str(float(row["output_tokens_per_s"]) * 4)
    points = [p for row in rows for p in read_results(as_vllm_result(row, tmp_path))]
    from tests.sizing.test_calibration_cli import a100_replica

    with pytest.raises(CalibrationRefused, match="outside physical bounds"):
        fit(a100_replica(), points)


def test_one_point_is_not_enough():
    with pytest.raises(ValueError, match="at least 2"):
        fit(cpu_replica(), _cpu_points((1,)))


# --- the calibration file --------------------------------------------------------------------------------------------


def test_the_calibration_file_keeps_its_sources_and_reads_back(tmp_path):
    points = _cpu_points(CPU_FIT_RUNS)
    cal = calibrate(cpu_replica(), points, "vllm-0.19", "0.32.0", "2026-12-07")
    path = tmp_path / "cpu.toml"
    write_calibration(cal, path)
    assert read_calibration(path) == cal
    assert {s.sha256 for s in cal.sources} == {p.sha256 for p in points} and len(cal.points) == 3
    text = path.read_text()
    assert 'engine_version = "0.32.0"' in text and "[fitted]" in text and 'created = "2026-12-07"' in text


@pytest.mark.parametrize(
    "change, says",
    [
        (("decode_bw_efficiency = ", "decode_bw_efficiency = 1.5 #"), "less than or equal to 1"),
        (("engine_version = ", 'engine_version = "`x` [a](b)" #'), "engine_version"),
        (("format_version = 1", "format_version = 2"), "format_version"),
        (("[fitted]", "[fitted"), "not valid TOML"),
    ],
)
def test_an_edited_calibration_file_is_refused(tmp_path, change, says):
    path = tmp_path / "cpu.toml"
    write_calibration(calibrate(cpu_replica(), _cpu_points(CPU_FIT_RUNS), "vllm-0.19", "0.32.0", "2026-12-07"), path)
    old, new = change
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(CalibrationFileError, match=says):
        read_calibration(path)


def test_bench_commands_quote_everything_and_carry_the_plan(capsys):
    code, out, _ = run(
        capsys,
        "plan",
        "--model",
        "llama-3.1-8b",
        "--concurrency",
        "32",
        "--input-tokens",
        "700",
        "--output-tokens",
        "150",
        "--requests-per-second",
        "3",
        "--instance-types",
        "g6e.xlarge",
        "--bench-commands",
        "--json",
    )
    assert code == 0
    commands = json.loads(out)["bench_commands"]
    vllm = [shlex.split(c) for c in commands["vllm"]]
    for argv in vllm:
        assert argv[:3] == ["vllm", "bench", "serve"]
        assert (
            argv[argv.index("--random-input-len") + 1] == "700" and argv[argv.index("--random-output-len") + 1] == "150"
        )
        assert "--ignore-eos" in argv and argv[argv.index("--random-range-ratio") + 1] == "0"
    assert next(a[a.index("--max-concurrency") + 1] for a in vllm if "--max-concurrency" in a) == "1"
    assert any("--request-rate" in a for a in vllm)
    calibrate_argv = shlex.split(commands["calibrate"][0])
    assert calibrate_argv[:4] == ["python", "-m", "sizing", "calibrate"] and "--out" in calibrate_argv
    assert "prompt_tokens=700,output_tokens=150" in commands["guidellm"][0]


def test_bench_commands_count_the_requests_within_the_plans_targets(capsys):
    code, out, _ = run(
        capsys,
        "plan",
        "--model",
        "llama-3.1-8b",
        "--concurrency",
        "8",
        "--ttft-ms",
        "800",
        "--tpot-ms",
        "45",
        "--instance-types",
        "g6e.xlarge",
        "--bench-commands",
        "--json",
    )
    argv = shlex.split(json.loads(out)["bench_commands"]["vllm"][0])
    assert code == 0 and argv[argv.index("--goodput") + 1 :] == ["ttft:800", "tpot:45"]
