"""Side by side with a peer: NVIDIA aiconfigurator, and NVIDIA's published NIM measurements, for a few sizing
questions. Run from the repository root: python benchmarks/aiconfigurator.py

aiconfigurator is not a dependency: when its CLI is on PATH this runs it on each question (`aiconfigurator cli
default ...`, aggregated serving) and prints its report; otherwise it prints a notice. Either way the published
answers below are printed as fixed references, with their sources, next to ours.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.engines import get_engine
from sizing.catalog.formats import get_format, kv_bytes_per_element
from sizing.catalog.gpus import get_gpu
from sizing.memory.budget import EngineSettings, activation_dtype_bytes, memory_breakdown
from sizing.memory.layout import Layout
from sizing.models.presets import load_preset
from sizing.planner.replica import memory_batch_limit, replica_load
from sizing.planner.request import Workload
from sizing.speed.load import ReplicaLoad
from sizing.speed.model import ReplicaSpeed

AICONFIGURATOR_TIMEOUT_S = 600


@dataclass(frozen=True)
class Question:
    """One sizing question: a model on N GPUs of one node, a request shape and latency targets."""

    name: str
    preset: str
    weights: str
    gpu: str
    gpus: int
    input_tokens: int
    output_tokens: int
    ttft_ms: float
    tpot_ms: float
    kv_dtype: str
    """KV cache dtype the peer ran with (auto: the model's)."""
    aiconfigurator_args: tuple[str, ...]
    reference: str
    """The published answer, quoted with its source."""


QUESTIONS = (
    Question(
        "70B bf16 on 8x H100, 4000 in / 500 out, TTFT <= 600 ms, TPOT <= 50 ms",
        "llama-3.1-70b",
        "bf16",
        "H100",
        8,
        4000,
        500,
        600,
        50,
        "auto",
        (
            "--model",
            "LLAMA3.1_70B",
            "--total_gpus",
            "8",
            "--system",
            "h100_sxm",
            "--isl",
            "4000",
            "--osl",
            "500",
            "--ttft",
            "600",
            "--tpot",
            "50",
        ),
        "aiconfigurator (aggregated): 2 x TP4 replicas, 96 users, 254 tok/s/GPU (as quoted in issue 8)",
    ),
    Question(
        "70B fp8 on 2x H100, 5000 in / 500 out, TTFT <= 700 ms, TPOT <= 40 ms",
        "llama-3.3-70b",
        "fp8",
        "H100",
        2,
        5000,
        500,
        700,
        40,
        "fp8",
        (),
        "NIM 1.8.0 measured, TP2 fp8: 25 users at TTFT 689 ms, ITL 38.8 ms, 623 tok/s = 312 tok/s/GPU; 50 users "
        "at TTFT 835 ms, ITL 59.7 ms (docs.nvidia.com/nim/benchmarking/llm/1.0.0/performance, Llama-3.3-70b)",
    ),
)


def _load(q: Question, tp: int) -> ReplicaLoad | None:
    model, gpu, fmt, engine = load_preset(q.preset), get_gpu(q.gpu), get_format(q.weights), get_engine()
    kv = kv_bytes_per_element(q.kv_dtype, activation_dtype_bytes(fmt))
    w = Workload(input_tokens=q.input_tokens, output_tokens=q.output_tokens)
    layout = Layout(tp=tp)
    mem = memory_breakdown(
        model,
        gpu,
        fmt,
        layout,
        engine,
        EngineSettings(max_model_len=w.engine_max_model_len(model.max_position_embeddings), kv_element_bytes=kv),
    )
    if not mem.fits:
        return None
    limit = memory_batch_limit(model, mem, kv, layout, engine, w.request_tokens)
    speed = ReplicaSpeed(model, gpu, fmt, layout, kv, gpu.interconnect, default_assumptions())
    return replica_load(speed, mem, limit, engine, w)


def ours(q: Question) -> list[str]:
    """Every TP that fits in the node: replicas x users within the targets, and tokens/s per GPU at that load."""
    lines, best = [], None
    for tp in (1, 2, 4, 8):
        if tp > q.gpus:
            continue
        load = _load(q, tp)
        cap = load.capacity(q.tpot_ms / 1000, q.ttft_ms / 1000) if load else None
        if cap is None:
            lines.append(f"    TP{tp}: {'does not fit in memory' if load is None else 'misses the targets even alone'}")
            continue
        replicas = q.gpus // tp
        users, per_gpu = replicas * cap.concurrency, cap.output_tokens_per_s / tp
        lines.append(
            f"    {replicas} x TP{tp}: {users:,.0f} users, {per_gpu:,.0f} tok/s/GPU (TTFT {cap.ttft_s * 1000:,.0f} ms, "
            f"TPOT {cap.tpot_s * 1000:.1f} ms, prefill {cap.prefill_share:.0%} of step time)"
        )
        if best is None or per_gpu > best[1]:
            best = (f"{replicas} x TP{tp}", per_gpu, users)
    if best:
        lines.append(f"  ours (vllm-0.19 profile): best {best[0]}, {best[2]:,.0f} users, {best[1]:,.0f} tok/s/GPU")
    return lines


def peer(q: Question) -> list[str]:
    exe = shutil.which("aiconfigurator")
    if not q.aiconfigurator_args:
        return ["  aiconfigurator: no question posed (the reference is a measurement)"]
    if exe is None:
        return [
            "  aiconfigurator: not installed (pip install aiconfigurator to run it here); the published answer is shown"
        ]
    done = subprocess.run(
        [exe, "cli", "default", *q.aiconfigurator_args],
        capture_output=True,
        text=True,
        timeout=AICONFIGURATOR_TIMEOUT_S,
        check=False,
    )
    tail = (done.stdout or done.stderr).strip().splitlines()[-25:]
    return ["  aiconfigurator (run here):", *[f"    {line}" for line in tail]]


def main() -> None:
    for q in QUESTIONS:
        print(f"{q.name} (KV {q.kv_dtype})")
        print(f"  reference: {q.reference}")
        print("\n".join(peer(q)))
        print("\n".join(ours(q)))
        print()


if __name__ == "__main__":
    main()
