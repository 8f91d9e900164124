"""MLA/MoE prefill (DeepSeek-V3/R1) against published vLLM time to first token of one request alone.

tests/data/moe_prefill.csv: R1 (the vLLM recipe, 8xH200 FP8, 7,902 tokens) and M1 (8xH100 AWQ, 128-8,192 tokens).
No speed-model parameter is fitted on these rows (the expert GEMM efficiency comes from vLLM's kernel benchmark, PR
23280, in assumptions.toml and kernels.toml), so all of them are held out. Predictions carry the V1 engine's
step_time_factor (engines.toml vllm-0.19), as the plan's and `speed`'s TTFT do: both sources ran vLLM V1 (0.9-0.10).
Bars: the issue's 30% on the recipe row and on the median of the M1 rows; 50% on each M1 row (its TTFTs are the mean
of 2-8 requests and move non-monotonically: 132 ms at 3,072 tokens, 120 at 4,096).
"""

import statistics

import pytest

from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.engines import step_time_factor
from sizing.catalog.formats import get_format
from sizing.catalog.gpus import get_gpu
from sizing.memory.layout import Layout
from sizing.models.presets import load_preset
from sizing.speed.model import ReplicaSpeed
from tests.conftest import read_rows

ROWS = read_rows("moe_prefill.csv")
RECIPE_TOLERANCE = 0.30
MEDIAN_TOLERANCE = 0.30
ROW_TOLERANCE = 0.50
PRESETS = {"DeepSeek-R1-0528": "deepseek-r1", "DeepSeek-R1-0528-AWQ": "deepseek-r1"}
ENGINE = "vllm-0.19"
"""The V1 engine profile whose speed bias the rows are compared with."""


def predicted_ttft_ms(row: dict[str, str]) -> float:
    """The speed model's prefill of one prompt alone for a tests/data/moe_prefill.csv row."""
    gpu = get_gpu(row["gpu"])
    layout = Layout(tp=int(row["tp"]), ep=row["ep"] == "true")
    rs = ReplicaSpeed(
        load_preset(PRESETS[row["model"]]),
        gpu,
        get_format(row["weights"]),
        layout,
        2,
        gpu.interconnect,
        default_assumptions(),
    )
    return rs.prefill_s(int(row["input_tokens"])) * step_time_factor(ENGINE) * 1000


def _error(row: dict[str, str]) -> float:
    return predicted_ttft_ms(row) / float(row["ttft_ms"]) - 1


def test_recipe_ttft_within_the_issue_bar():
    """Issue 19, item 8: DeepSeek-style TTFT within 30% of vLLM's published recipe (560 ms for 7,902 tokens)."""
    row = next(r for r in ROWS if r["source"] == "R1")
    assert abs(_error(row)) <= RECIPE_TOLERANCE


def test_awq_sweep_median_within_bar():
    errors = [abs(_error(r)) for r in ROWS if r["source"] == "M1"]
    assert statistics.median(errors) <= MEDIAN_TOLERANCE


@pytest.mark.parametrize("row", [r for r in ROWS if r["source"] == "M1"], ids=lambda r: r["case"])
def test_awq_sweep_row(row):
    assert abs(_error(row)) <= ROW_TOLERANCE


def test_issue19_reproducer10_deepseek_prefill_not_optimistic():
    """Issue 19, reproducer 10: `speed --model deepseek-v3 --gpu p5en.48xlarge --tp 8 --input-tokens 8000` gave a
    178 ms TTFT where the vLLM recipe shows about 560 ms (and 84 ms for 4,000 tokens where a peer estimates 266):
    routed experts were costed as one long GEMM at the dense efficiency on FP8 peak."""
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
    factor = step_time_factor(ENGINE) * 1000
    assert abs(rs.prefill_s(8000) * factor / 560 - 1) <= RECIPE_TOLERANCE
    assert abs(rs.prefill_s(4000) * factor / 266 - 1) <= RECIPE_TOLERANCE


def test_dense_prefill_keeps_one_long_gemm():
    """The expert-GEMM efficiency applies to routed experts only: a dense model's prefill is unchanged by it."""
    gpu = get_gpu("H100")
    a = default_assumptions()
    slow = a.model_copy(update={"moe_prefill_gemm_half_tokens": 10_000.0})
    m = load_preset("llama-3.1-8b")
    fast_s = ReplicaSpeed(m, gpu, get_format("bf16"), Layout(tp=1), 2, gpu.interconnect, a).prefill_s(4096)
    slow_s = ReplicaSpeed(m, gpu, get_format("bf16"), Layout(tp=1), 2, gpu.interconnect, slow).prefill_s(4096)
    assert fast_s == slow_s
