"""Checkpoints: the plan names the repository it downloads and sizes disk and cold start from that download."""

import pytest

from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.files import read_csv
from sizing.catalog.formats import all_formats, get_format
from sizing.catalog.instances import get_instance_type
from sizing.memory.weights import total_weight_bytes
from sizing.models.presets import load_preset, preset_names
from sizing.planner.checkpoint import checkpoint_for
from sizing.planner.cold_start import cold_start
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload
from sizing.units import to_gib


def test_405b_fp8_downloads_the_fp8_release_not_the_bf16_repository():
    """Issue 9 reproducer: --weights fp8 on the 405B preset downloaded 756 GiB of bf16 onto a disk sized for 382 GiB."""
    model = load_preset("llama-3.1-405b")
    c = checkpoint_for(model, get_format("fp8"))
    assert c.repo == "meta-llama/Llama-3.1-405B-Instruct-FP8" and c.prequantized and c.format == "fp8"
    assert c.download_bytes == round(total_weight_bytes(model, get_format("fp8")))
    assert 375 < to_gib(c.download_bytes) < 390  # not the 756 GiB of the bf16 repository


def test_without_a_release_the_base_checkpoint_is_downloaded_and_quantized_at_load():
    req = PlanRequest(
        model=load_preset("qwen2.5-7b"),
        workload=Workload(concurrency=16),
        deployment=Deployment(weights="fp8", instance_types=("g6e.xlarge",)),
    )
    p = plan(req)
    bf16_bytes = total_weight_bytes(req.model, get_format("bf16"))
    assert p.checkpoint.repo == "Qwen/Qwen2.5-7B-Instruct" and not p.checkpoint.prequantized
    assert p.checkpoint.download_bytes == round(bf16_bytes) and p.vllm_quantization == "fp8"
    a, g6e = default_assumptions(), get_instance_type("g6e.xlarge")
    expected = cold_start(g6e, bf16_bytes, bf16_bytes, a).total_s  # download and load at the disk and network rates
    assert p.choice.cold_start_s == pytest.approx(expected)  # from the bf16 download, not the fp8 weights in memory


def test_prequantized_plan_needs_no_quantization_flag_and_json_carries_the_checkpoint():
    p = plan(
        PlanRequest(
            model=load_preset("llama-3.1-70b"),
            workload=Workload(concurrency=16),
            deployment=Deployment(weights="fp8", instance_types=("p5.48xlarge",)),
        )
    )
    assert p.vllm_quantization == ""
    dumped = p.model_dump(mode="json")["checkpoint"]
    assert dumped["repo"] == "RedHatAI/Meta-Llama-3.1-70B-Instruct-FP8" and dumped["format"] == "fp8"
    assert dumped["download_bytes"] > 0


def test_native_format_downloads_the_preset_repository():
    model = load_preset("deepseek-v3")
    c = checkpoint_for(model, get_format(model.native_format))
    assert c.repo == model.hf_repo and not c.prequantized


def test_every_release_row_names_a_preset_and_a_format():
    repos = {load_preset(name).hf_repo for name in preset_names()}
    for row in read_csv("checkpoints.csv"):
        assert row["base_repo"] in repos, row
        assert row["weights"] in all_formats(), row
        assert row["source"] and row["as_of"], row


def test_a_recorded_size_wins_over_the_computed_one(monkeypatch):
    from sizing.catalog.checkpoints import Release
    from sizing.planner import checkpoint

    release = Release(
        base_repo="meta-llama/Llama-3.1-8B-Instruct",
        weights="fp8",
        repo="example/recorded-FP8",
        download_bytes=9.1e9,
        source="model card file list",
        as_of="2026-01-21",
    )
    monkeypatch.setattr(checkpoint, "prequantized_release", lambda repo, weights: release)
    c = checkpoint.checkpoint_for(load_preset("llama-3.1-8b"), get_format("fp8"))
    assert c.download_bytes == 9_100_000_000 and "recorded size" in c.source
