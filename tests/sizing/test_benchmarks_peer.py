"""benchmarks/aiconfigurator.py runs without aiconfigurator installed: it says so and still prints the published
answer next to ours."""

import shutil

from benchmarks import aiconfigurator


def test_peer_benchmark_without_aiconfigurator(monkeypatch, capsys):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    aiconfigurator.main()
    out = capsys.readouterr().out
    assert "aiconfigurator: not installed" in out
    assert "2 x TP4 replicas, 96 users, 254 tok/s/GPU" in out  # the fixed reference, with its source
    assert "ours (vllm-0.19 profile): best" in out
