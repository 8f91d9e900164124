"""Expert parallelism and MLA data-parallel attention: memory, KV capacity, the planner's pick and the vLLM flags."""

from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.engines import get_engine
from sizing.catalog.formats import get_format
from sizing.catalog.gpus import get_gpu
from sizing.memory.budget import EngineSettings, memory_breakdown
from sizing.memory.layout import Layout
from sizing.memory.weights import stage_weights
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.replica import memory_batch_limit
from sizing.planner.request import PlanRequest, Workload

DEEPSEEK = load_preset("deepseek-v3")
FP8_BLOCK = get_format("fp8-block")


def test_data_parallel_attention_replicates_attention_and_spreads_experts():
    tp8 = stage_weights(DEEPSEEK, FP8_BLOCK, Layout(tp=8))[0]
    dp8 = stage_weights(DEEPSEEK, FP8_BLOCK, Layout(tp=1, dp=8, ep=True))[0]
    assert dp8.expert_bytes == tp8.expert_bytes  # 1/8 of the experts either way
    assert dp8.other_bytes > 4 * tp8.other_bytes  # attention, dense layers and embeddings whole on every rank


def _capacity(layout: Layout) -> int:
    engine, gpu = get_engine(), get_gpu("H200")
    settings = EngineSettings(max_model_len=9000, kv_element_bytes=2)
    mem = memory_breakdown(DEEPSEEK, gpu, FP8_BLOCK, layout, engine, settings)
    return memory_batch_limit(DEEPSEEK, mem, 2, layout, engine, 9000)


def test_each_data_parallel_rank_holds_its_own_requests_latent_cache():
    """TP8 keeps every request's latent on all 8 GPUs; DP8 keeps it on one, so one p5en holds several times more
    9000-token requests (before: 72, the TP8 figure, was the most the planner saw)."""
    tp8, dp8 = _capacity(Layout(tp=8)), _capacity(Layout(tp=1, dp=8, ep=True))
    assert tp8 < 100 and dp8 >= 256 and dp8 > 4 * tp8


def r1_plan():
    """DeepSeek-R1 (same architecture as V3) for 256 users, 8000 in / 1000 out. Before: no layout held the latent
    cache of 256 users on one node but a p6-b200 or TP1 PP8 (one 8-deep pipeline); with 1000/1000 two A100 nodes with
    block FP8, which vLLM refuses."""
    # The memory claim: one node at full load, without the limits a plan adds (the 80% ceiling and, since MoE prefill
    # is costed at its grouped GEMMs' efficiency, the 100 ms reading-speed TPOT holds a p5en to ~130 users).
    full_load = default_assumptions().model_copy(
        update={"interactive_max_utilization": None, "interactive_default_tpot_ms": None}
    )
    return plan(
        PlanRequest(
            model=load_preset("deepseek-r1"),
            assumptions=full_load,
            workload=Workload(concurrency=256, input_tokens=8000, output_tokens=1000),
        )
    )


def test_deepseek_r1_at_256_users_fits_one_p5en_with_data_parallel_attention():
    c = r1_plan().choice
    assert (c.instance_type, c.instances, c.data_parallel, c.expert_parallel) == ("p5en.48xlarge", 1, 8, True)
    assert c.batch_per_replica >= 256


def test_dense_models_get_no_expert_layouts():
    p = plan(PlanRequest(model=load_preset("llama-3.1-70b"), workload=Workload(concurrency=64)))
    assert not any(a.candidate.expert_parallel or a.candidate.data_parallel > 1 for a in p.alternatives)
    assert not p.choice.expert_parallel


def test_cli_refuses_expert_layouts_for_dense_models(capsys):
    from sizing.cli.main import main

    assert main(["memory", "--model", "llama-3.1-8b", "--gpu", "H100", "--dp", "2"]) == 2
    assert "To fix: drop --dp/--ep" in capsys.readouterr().err


def test_expert_parallel_waits_for_the_busiest_gpu():
    """Whole experts per GPU: at batch 1 (8 of 256 experts touched) some GPU holds about 3 of them where the TP slice
    reads an even 1/8 of 8; once every expert is touched the two read the same."""
    from sizing.speed.moe import busiest_rank_fraction

    moe = DEEPSEEK.moe
    few = 8 / 256
    assert busiest_rank_fraction(moe, Layout(tp=8), few) == few
    assert 2.5 * few < busiest_rank_fraction(moe, Layout(tp=8, ep=True), few) < 4 * few
    assert busiest_rank_fraction(moe, Layout(tp=8, ep=True), 1.0) == 1.0
