"""The engine's memory budget against measured vLLM start-up logs (tests/data/vllm_memory.csv).

Tolerance on KV capacity in tokens: 5% on every H100 row (vLLM 0.19, S1), 15% on the A100 and A10 rows (V0 engines,
S2/S3), as the issue sets. The A10 row is one the engine refused to start; the prediction must refuse it too."""

import pytest

from sizing.catalog.engines import get_engine
from sizing.catalog.formats import get_format, kv_bytes_per_element
from sizing.catalog.gpus import get_gpu
from sizing.memory.budget import EngineSettings, activation_dtype_bytes, memory_breakdown
from sizing.memory.layout import Layout
from tests.conftest import CALIBRATION_MODELS, read_rows

ROWS = read_rows("vllm_memory.csv")
GPU_FOR_ROW = {"H100-SXM-80GB": "H100-SXM-80GB", "A100-SXM-40GB": "A100-SXM-40GB", "A10-24GB": "A10G-24GB"}
FORMAT_FOR_ROW = {"bf16": "bf16", "fp32": "fp32", "fp8 (--quantization fp8)": "fp8", "int4-gptq": "int4-gptq"}
TOLERANCE = {"H100-SXM-80GB": 0.05, "A100-SXM-40GB": 0.15, "A10-24GB": 0.15}


def engine_for(row) -> str:
    return "vllm-0.19" if row["engine"].startswith("vllm-0.19") else "vllm-v0"


def predict(row):
    model = CALIBRATION_MODELS[row["model"]]()
    fmt = get_format(FORMAT_FOR_ROW[row["weights"]])
    kv_bytes = kv_bytes_per_element(row["kv_dtype"], activation_dtype_bytes(fmt))
    settings = EngineSettings(
        gpu_memory_utilization=float(row["util"]), max_model_len=int(row["max_model_len"]), kv_element_bytes=kv_bytes
    )
    return memory_breakdown(
        model,
        get_gpu(GPU_FOR_ROW[row["gpu"]]),
        fmt,
        Layout(tp=int(row["tp"]), pp=int(row["pp"])),
        get_engine(engine_for(row)),
        settings,
    )


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["case"])
def test_kv_capacity_tokens_within_tolerance(row):
    predicted = predict(row).kv_cache_tokens
    measured = int(row["kv_cache_tokens"])
    assert abs(predicted - measured) / measured <= TOLERANCE[row["gpu"]]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["case"])
def test_weights_within_one_percent(row):
    assert predict(row).weights_gib == pytest.approx(float(row["weights_gib"]), rel=0.01)


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["case"])
def test_engine_start_verdict_matches(row):
    # vLLM starts exactly when max_concurrency >= 1 (one max_model_len request fits).
    assert predict(row).fits == (float(row["max_concurrency"]) >= 1)


@pytest.mark.parametrize("row", [r for r in ROWS if r["engine"].startswith("vllm-0.19")], ids=lambda r: r["case"])
def test_max_concurrency_within_five_percent(row):
    assert predict(row).max_concurrency == pytest.approx(float(row["max_concurrency"]), rel=0.05)


def test_a10_row_is_refused_with_the_shortfall():
    row = next(r for r in ROWS if r["case"] == "c17")
    mem = predict(row)
    assert not mem.fits
    # one 131072-token request needs 131072 x 131072 bytes = 16 GiB of KV; about 4.2 GiB is there
    assert mem.shortfall_gib == pytest.approx(16 - mem.kv_cache_gib, abs=0.01)


def test_budget_arithmetic_by_hand():
    row = next(r for r in ROWS if r["case"] == "c01")
    mem = predict(row)
    assert mem.budget_gib == pytest.approx(79.19 * 0.95)
    assert mem.kv_cache_gib == pytest.approx(mem.budget_gib - mem.weights_gib - mem.activation_gib - mem.non_torch_gib)
    assert mem.kv_cache_tokens % 16 == 0
    assert mem.kv_cache_tokens == int(mem.kv_cache_gib * 2**30 / 131072) // 16 * 16
