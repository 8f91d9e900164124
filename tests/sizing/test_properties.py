"""Invariants, checked over many random cases with hypothesis."""

from hypothesis import given, settings
from hypothesis import strategies as st

from sizing.catalog.engines import get_engine
from sizing.catalog.formats import all_formats, get_format
from sizing.memory.demand import memory_demand
from sizing.memory.layout import Layout
from sizing.memory.weights import weight_bytes_per_gpu
from sizing.models.presets import load_preset, preset_names
from sizing.planner.layouts import engine_refusal
from sizing.planner.plan import plan
from sizing.planner.ranking import RANK_COST_BAND
from sizing.planner.request import PlanRequest, Workload

MODELS = st.sampled_from(preset_names())
SERVABLE_FORMATS = st.sampled_from(["bf16", "fp16", "fp8", "int8", "int4-awq", "int4-gptq"])


@settings(max_examples=200, deadline=None)
@given(
    model=MODELS,
    fmt=SERVABLE_FORMATS,
    batch=st.integers(1, 512),
    extra=st.integers(1, 512),
    seq_len=st.integers(1, 32768),
    kv_bytes=st.sampled_from([1, 2]),
)
def test_more_concurrency_never_needs_less_memory(model, fmt, batch, extra, seq_len, kv_bytes):
    m = load_preset(model)
    less = memory_demand(m, get_format(fmt), Layout(), get_engine(), kv_bytes, batch, seq_len)
    more = memory_demand(m, get_format(fmt), Layout(), get_engine(), kv_bytes, batch + extra, seq_len)
    assert more.total_gib >= less.total_gib
    assert more.kv_cache_gib >= less.kv_cache_gib


@settings(max_examples=200, deadline=None)
@given(
    model=MODELS,
    fmt=st.sampled_from(sorted(all_formats())),
    tp=st.sampled_from([1, 2, 4, 8]),
    pp=st.sampled_from([1, 2, 4]),
)
def test_higher_tp_never_needs_more_weight_memory_per_gpu(model, fmt, tp, pp):
    m = load_preset(model)
    if engine_refusal(m, get_format(fmt), Layout(tp=tp * 2, pp=pp)):
        return
    lower = weight_bytes_per_gpu(m, get_format(fmt), Layout(tp=tp, pp=pp))
    higher = weight_bytes_per_gpu(m, get_format(fmt), Layout(tp=tp * 2, pp=pp))
    assert higher <= lower


@settings(max_examples=25, deadline=None)
@given(concurrency=st.integers(1, 400), extra=st.integers(1, 400), tpot=st.sampled_from([None, 40.0, 80.0]))
def test_more_concurrency_never_costs_less(concurrency, extra, tpot):
    # Never less beyond the ranking's cost band: the fleet that serves more users serves fewer too, so the cheapest
    # plan of the lighter load costs at most as much; the ranking then counts costs within RANK_COST_BAND of the
    # cheapest as equal and takes the faster (issue 19), which may cost up to the band more.
    m = load_preset("llama-3.1-8b")
    low = plan(PlanRequest(model=m, workload=Workload(concurrency=concurrency, tpot_ms=tpot)))
    high = plan(PlanRequest(model=m, workload=Workload(concurrency=concurrency + extra, tpot_ms=tpot)))
    assert high.hourly_cost_usd * (1 + RANK_COST_BAND) >= low.hourly_cost_usd - 1e-9


def test_a_lighter_load_may_buy_a_faster_fleet_within_the_cost_band():
    # Found by the property above (stated without the band until now): 60 users at TPOT 40 ms take one H100
    # ($6.88/h, 5.5 s in the system) over two g7e.2xlarge nodes ($6.73/h, 2% cheaper: equal for the ranking, and
    # slower by more than RANK_LATENCY_BAND), while 83 users need the g7e pair. Within the band, never past it.
    m = load_preset("llama-3.1-8b")
    low = plan(PlanRequest(model=m, workload=Workload(concurrency=60, tpot_ms=40.0)))
    high = plan(PlanRequest(model=m, workload=Workload(concurrency=83, tpot_ms=40.0)))
    assert high.hourly_cost_usd < low.hourly_cost_usd <= high.hourly_cost_usd * (1 + RANK_COST_BAND)
    cheaper = [a for a in low.alternatives if a.candidate.hourly_cost_usd < low.hourly_cost_usd]
    assert cheaper and all("within 5% of the cheapest" in a.why_lost for a in cheaper)
