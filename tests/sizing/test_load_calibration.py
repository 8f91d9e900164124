"""The steady-state load model against measurements nobody here tuned: tests/data/serving_load.csv (N1: NIM on
TensorRT-LLM, Llama-3-8B, A100/H100, TP1/2, 1-250 closed-loop clients), tests/data/nim_load.csv (P1: NIM 1.8,
Llama-3.3-70B FP8 on 2x H100, 5000 in / 500 out, 1-250 clients) and tests/data/static_batch.csv (B1:
TensorRT-LLM 0.9 static batches, Llama 2 7B-70B and Mistral on H100, A100 and PCIe L40 at TP1-8).
Assumptions per source are in tests/sizing/load_calibration.py; the only per-engine number is the step-time factor in
sizing/data/engines.toml, taken from the batch-1 rows alone. benchmarks/accuracy.py prints every figure.

Tolerances, and why:
- N1 throughput: 90% of points within 30%, every point within 70%, median within 15%. An analytic step model with one
  efficiency per kind of work meets the issue's 30% bar on most points; the outliers are the overloaded ends of some
  curves, where the measured throughput falls as clients are added (s306 -> s307) and no steady-state model follows.
- N1 mean ITL: 90% within 45%, every point within 120%, median within 15%. TensorRT-LLM of that time ran prompts in
  separate context steps and GenAI-Perf's ITL leaves the request's own prompt out, while the model spreads every
  prompt's prefill over the steps; on prompt-heavy curves (2000 in / 200 out on A100) that doubles the ITL at 25-50
  clients while throughput stays within 35%.
- Saturation concurrency (throughput at 90% of the curve's maximum): the measured grid steps 25, 50, 100, 150, 200, 250,
  so the measured point is known to a factor 1.5-2; the model must land within a factor 2 on 90% of the 36 curves and
  its median ratio within [0.6, 1.3].
- TTFT: the model's TTFT grows with clients on every curve, as measured. Its level is NOT matched below saturation
  (median 71-77% low): GenAI-Perf starts clients with identical lengths together, and they stay partly in step, so
  a prompt waits for part of its wave's prefill; real users do not synchronise, and the model assumes they do not
  (sizing/speed/load.py). A fully synchronised wave (load_calibration.synchronized_wave_ttft_s, same step model,
  nothing fitted) over-predicts instead (median +33% to +74%, worst +613%), and NIM 1.8 with chunked prefill matches
  the desynchronised model, not the wave (+414%). So no principled single model fits N1's level without a fitted
  "how synchronised" parameter; what is tested is that the measured level lies between the two bounds (25% slack)
  on at least 85% of the unsaturated points of each GPU and format. Where the replica is saturated by KV slots, TTFT is
  queueing, which the model does follow: on 16-bit rows within a factor 2.5 at the median and the curve's top
  concurrency.
- P1 (the 70B FP8 long-prompt case the planner's headline example is about; engine factor 1.0, not fitted): ITL and
  throughput within 15% at every point; TTFT within 25% while the replica has free slots (chunked prefill: no
  waves), and within a factor 2 once clients queue for KV slots (the queue is N - slots, so a small error in the slot
  count moves it a lot: +63% at 100 clients, 20-27% above); saturation inside the measured 50-100 bracket widened by
  1.5x either side.
- B1 ITL per point (dense models; Mixtral's rows are tested with the MoE model in test_moe_speed.py): 90% within 30%
  and median within 15%.
- PCIe TP (B1 L40, Llama 2 70B, 2048-token prompts): measured prefill time is flat from TP2 to TP8 (all-reduces over
  PCIe eat the compute gain) while ITL falls. The cross-switch bandwidth share (assumptions.toml) was read off the
  batch-1 rows; at batches 2-16 the model's TP8/TP2 ratios must be within 15% (prefill) and 25% (ITL) of measured.
"""

import statistics
from collections import defaultdict

import pytest

from tests.sizing.load_calibration import (
    NIM_ROWS,
    SERVING_ROWS,
    STATIC_ROWS,
    load_for,
    predict_serving,
    predict_static,
    synchronized_wave_ttft_s,
)


def _err(predicted: float, measured: float) -> float:
    return abs(predicted / measured - 1)


def _share_within(errors: list[float], bar: float) -> float:
    return sum(e <= bar for e in errors) / len(errors)


@pytest.fixture(scope="module")
def serving():
    return [(r, predict_serving(r)) for r in SERVING_ROWS]


def test_serving_throughput_per_point(serving):
    errors = [_err(p.output_tokens_per_s, float(r["output_tokens_per_s"])) for r, p in serving]
    assert len(errors) == 355
    assert _share_within(errors, 0.30) >= 0.90
    assert max(errors) <= 0.70
    assert statistics.median(errors) <= 0.15


def test_serving_mean_itl_per_point(serving):
    errors = [_err(p.tpot_s * 1000, float(r["itl_ms_mean"])) for r, p in serving]
    assert _share_within(errors, 0.45) >= 0.90
    assert max(errors) <= 1.20
    assert statistics.median(errors) <= 0.15


def _curves(serving):
    curves = defaultdict(list)
    for r, p in serving:
        curves[(r["gpu"], r["tp"], r["weights"], r["input_tokens"], r["output_tokens"])].append(
            (float(r["concurrency"]), r, p)
        )
    return {k: sorted(v, key=lambda x: x[0]) for k, v in curves.items()}


def test_saturation_concurrency(serving):
    ratios = []
    for points in _curves(serving).values():
        top = max(float(r["output_tokens_per_s"]) for _, r, _ in points)
        measured = next(n for n, r, _ in points if float(r["output_tokens_per_s"]) >= 0.9 * top)
        ratios.append(load_for(points[0][1]).saturation_concurrency() / measured)
    assert len(ratios) == 36
    assert _share_within([abs(x - 1) if x >= 1 else abs(1 / x - 1) for x in ratios], 1.0) >= 0.90
    assert 0.6 <= statistics.median(ratios) <= 1.3


def test_ttft_grows_with_concurrency(serving):
    for points in _curves(serving).values():
        ttfts = [p.ttft_s for _, _, p in points]
        assert all(b >= a for a, b in zip(ttfts, ttfts[1:], strict=False))
        assert ttfts[-1] > 1.5 * ttfts[0]
        assert float(points[-1][1]["ttft_ms_mean"]) > float(points[0][1]["ttft_ms_mean"])  # as measured


def test_ttft_when_slots_are_full(serving):
    ratios = [p.ttft_s * 1000 / float(r["ttft_ms_mean"]) for r, p in serving if p.saturated and r["weights"] != "fp8"]
    assert len(ratios) >= 10
    assert 1 / 2.5 <= statistics.median(ratios) <= 2.5


def test_static_batch_itl_per_point():
    errors = [_err(predict_static(r).itl_ms, float(r["itl_ms"])) for r in STATIC_ROWS]
    assert len(errors) >= 800
    assert _share_within(errors, 0.30) >= 0.90
    assert statistics.median(errors) <= 0.15


@pytest.mark.parametrize("batch", ["2", "4", "8", "16"])
def test_pcie_tensor_parallel_scaling_on_l40(batch):
    rows = {
        r["tp"]: r
        for r in STATIC_ROWS
        if r["gpu"] == "L40-48GB"
        and r["model"] == "LLaMA v2 70B"
        and r["input_tokens"] == "2048"
        and r["output_tokens"] == "128"
        and r["batch"] == batch
    }
    for metric, bar in (("first_token_ms", 0.15), ("itl_ms", 0.25)):
        measured = float(rows["8"][metric]) / float(rows["2"][metric])
        predicted = getattr(predict_static(rows["8"]), metric) / getattr(predict_static(rows["2"]), metric)
        assert predicted == pytest.approx(measured, rel=bar), metric


@pytest.mark.parametrize("row", NIM_ROWS, ids=lambda r: r["case"])
def test_nim_70b_fp8_long_prompts_per_point(row):
    p = predict_serving(row)
    assert _err(p.tpot_s * 1000, float(row["itl_ms_mean"])) <= 0.15
    assert _err(p.output_tokens_per_s, float(row["output_tokens_per_s"])) <= 0.15
    ttft_bar = 1.0 if p.saturated else 0.25
    assert _err(p.ttft_s * 1000, float(row["ttft_ms_mean"])) <= ttft_bar


def test_nim_70b_fp8_saturation():
    # The measured saturation lies between the last grid point below 90% of the top throughput and the first at or
    # above it (50 and 100 clients); the model must land in that bracket widened by 1.5x either side.
    top = max(float(r["output_tokens_per_s"]) for r in NIM_ROWS)
    below = [float(r["concurrency"]) for r in NIM_ROWS if float(r["output_tokens_per_s"]) < 0.9 * top]
    above = [float(r["concurrency"]) for r in NIM_ROWS if float(r["output_tokens_per_s"]) >= 0.9 * top]
    predicted = load_for(NIM_ROWS[0]).saturation_concurrency()
    assert max(below) / 1.5 <= predicted <= min(above) * 1.5


@pytest.mark.parametrize(
    "gpu, weights", [("A100-SXM-80GB", "fp16"), ("H100-SXM-80GB", "fp16"), ("H100-SXM-80GB", "fp8")]
)
def test_ttft_level_lies_between_desynchronised_and_wave_arrivals(gpu, weights):
    # The known limit, made testable: below saturation the load model (desynchronised arrivals) is a lower bound of
    # N1's TTFT and a fully synchronised wave (load_calibration.synchronized_wave_ttft_s, same step model, nothing
    # fitted) an upper one; the measured level is set by how far the benchmark's clients stay in step. 25% slack on
    # each side for the step model's own error (prefill is within 25-68% on B1).
    points = [
        (float(r["ttft_ms_mean"]) / 1000, p.ttft_s, synchronized_wave_ttft_s(r))
        for r, p in ((r, predict_serving(r)) for r in SERVING_ROWS if r["gpu"] == gpu and r["weights"] == weights)
        if not p.saturated
    ]
    assert len(points) >= 100
    inside = [0.75 * lo <= measured <= 1.25 * hi for measured, lo, hi in points]
    assert sum(inside) / len(points) >= 0.85
    assert statistics.median(measured / lo for measured, lo, _ in points) > 2  # the model alone is well below
