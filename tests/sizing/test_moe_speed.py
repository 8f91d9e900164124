"""MoE and MLA decode speed against published figures.

Mixtral rows (tests/data/static_batch_moe.csv, TensorRT-LLM 0.9 fixed batches): the measured time per token barely
grows from batch 1 to 32 (6.0 -> 7.7 ms on 2 H100), while reading every expert once, which independent routing of 16
sequences implies (each expert missed with probability (6/8)^16 = 1%), takes at least 46.7 GB / 3.35 TB/s = 14 ms per
step. So the sequences of these synthetic batches route alike, and the rows are compared with
moe_routing_independence = 0 (stated per row, as a user benchmarking such a batch would). TensorRT-LLM runs one fused
MoE plugin per layer, so vLLM's per-layer MoE kernel time (moe_layer_latency_us) is 0 for these rows. Tolerance 30%:
the bar of tests/sizing/test_speed.py for an analytic model; the independent-routing model missed these rows by up
to 3.3x (the issue's "up to 2x slower" understated it).

vLLM rows (tests/data/moe_speed.csv): gpt-oss-120b on 8 H100 at 4-32 users (m04-m07) fixes moe_layer_latency_us
(fitted to m04) and checks independent routing as the batch grows (m05-m07: at 32 users, reading only the experts of
one token would predict 4.4 ms against 5.8 measured); DeepSeek-R1 at batch 1 (m01-m03), where many small MLA and MoE
kernels, not bytes, set the step (4 ms of weight reads in a 16 ms step), fixes mla_layer_latency_us (fitted to m01);
m02 and m03 check the context dependence. Tolerance 15%.
"""

import pytest

from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.formats import get_format
from sizing.catalog.gpus import get_gpu
from sizing.memory.layout import Layout
from sizing.models.presets import load_preset
from sizing.speed.model import ReplicaSpeed
from tests.conftest import read_rows

MIXTRAL_ROWS = read_rows("static_batch_moe.csv")
VLLM_ROWS = read_rows("moe_speed.csv")
MIXTRAL_TOLERANCE = 0.30
VLLM_TOLERANCE = 0.15
TENSORRT_SYNTHETIC_BATCH = {"moe_routing_independence": 0.0, "moe_layer_latency_us": 0.0}
"""The Mixtral rows' engine and prompts, stated as assumption overrides (see the module docstring)."""


def mixtral_speed(row: dict[str, str], **overrides: float) -> ReplicaSpeed:
    gpu = get_gpu(row["gpu"])
    a = default_assumptions().model_copy(update=overrides)
    return ReplicaSpeed(
        load_preset("mixtral-8x7b"), gpu, get_format(row["weights"]), Layout(tp=int(row["tp"])), 2, gpu.interconnect, a
    )


def mixtral_predicted_itl_ms(row: dict[str, str], **overrides: float) -> float:
    i, o, b = int(row["input_tokens"]), int(row["output_tokens"]), int(row["batch"])
    return mixtral_speed(row, **overrides).tpot_s(b, i, o) * 1000


VLLM_MODELS = {"DeepSeek-R1-0528-AWQ": "deepseek-r1", "gpt-oss-120b": "gpt-oss-120b"}


def vllm_predicted_tpot_ms(row: dict[str, str]) -> float:
    """Predicted TPOT of a tests/data/moe_speed.csv row (vLLM, DeepSeek or gpt-oss)."""
    gpu = get_gpu(row["gpu"])
    rs = ReplicaSpeed(
        load_preset(VLLM_MODELS[row["model"]]),
        gpu,
        get_format(row["weights"]),
        Layout(tp=int(row["tp"])),
        2,
        gpu.interconnect,
        default_assumptions(),
    )
    return rs.tpot_s(int(row["concurrency"]), int(row["input_tokens"]), int(row["output_tokens"])) * 1000


@pytest.mark.parametrize("row", MIXTRAL_ROWS, ids=[r["case"] for r in MIXTRAL_ROWS])
def test_mixtral_fixed_batch_itl(row):
    predicted = mixtral_predicted_itl_ms(row, **TENSORRT_SYNTHETIC_BATCH)
    assert abs(predicted / float(row["itl_ms"]) - 1) <= MIXTRAL_TOLERANCE


def test_independent_routing_reads_more_experts_than_these_rows_allow():
    """The bandwidth floor behind the stated override: at batch 16 independent routing predicts well over the
    measured time, so the override is what the data demands, not a fit of convenience."""
    row = next(r for r in MIXTRAL_ROWS if r["gpu"] == "H100-SXM-80GB" and r["batch"] == "16")
    independent = mixtral_predicted_itl_ms(row, moe_layer_latency_us=0.0)
    assert independent > 2 * float(row["itl_ms"])


@pytest.mark.parametrize("row", VLLM_ROWS, ids=[r["case"] for r in VLLM_ROWS])
def test_vllm_moe_tpot(row):
    assert abs(vllm_predicted_tpot_ms(row) / float(row["tpot_ms"]) - 1) <= VLLM_TOLERANCE


def test_deepseek_v3_on_p5en_batch1_is_kernel_latency_bound():
    """Issue 9's reproducer (8 H200, fp8-block, 8000 in / 1000 out, batch 1): 4.6 ms before, a third of published
    vLLM runs; the same latency-bound regime as rows m01-m03 (16.1-16.6 ms on 8 H100) puts it within their band."""
    gpu = get_gpu("H200")
    rs = ReplicaSpeed(
        load_preset("deepseek-v3"),
        gpu,
        get_format("fp8-block"),
        Layout(tp=8),
        2,
        gpu.interconnect,
        default_assumptions(),
    )
    tpot_ms = rs.tpot_s(1, 8000, 1000) * 1000
    assert 16.1 * (1 - VLLM_TOLERANCE) <= tpot_ms <= 16.6 * (1 + VLLM_TOLERANCE)


def test_vllm_serving_routes_independently():
    """m07 (32 users under vLLM): routing every sequence alike would put the step well under the measurement, so real
    (random-prompt) batches keep the default moe_routing_independence = 1."""
    row = next(r for r in VLLM_ROWS if r["case"] == "m07")
    gpu = get_gpu(row["gpu"])
    alike = default_assumptions().model_copy(update={"moe_routing_independence": 0.0})
    rs = ReplicaSpeed(load_preset("gpt-oss-120b"), gpu, get_format("mxfp4"), Layout(tp=8), 2, gpu.interconnect, alike)
    assert rs.tpot_s(32, 1024, 1024) * 1000 < (1 - VLLM_TOLERANCE) * float(row["tpot_ms"])
