"""Engine speed: one plan() in-process, a 1,000-scenario sweep, and the import time of `sizing`.
Run from the repository root: python benchmarks/speed.py   (targets: plan median < 20 ms, sweep < 10 s)

The targets are judged on CPU time (time.process_time): the development machine is shared, and wall time there
measures the neighbours' load as much as the code (it runs up to 1.5x the CPU time). Wall time is printed too."""

from __future__ import annotations

import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sizing.errors import InfeasibleError  # noqa: E402
from sizing.models.presets import load_preset, preset_names  # noqa: E402
from sizing.planner.plan import plan  # noqa: E402
from sizing.planner.request import Deployment, PlanRequest, Workload  # noqa: E402

SWEEP_SIZE = 1000
PLAN_REPEATS = 50
SEED = 2026


def time_one_plan() -> list[float]:
    model = load_preset("llama-3.1-70b")
    plan(PlanRequest(model=model, deployment=Deployment(weights="auto")))  # warm the catalog caches, as a long-lived process would be
    times = []
    for i in range(PLAN_REPEATS):
        req = PlanRequest(model=model, workload=Workload(concurrency=32 + i, ttft_ms=2000, tpot_ms=50),
                          deployment=Deployment(weights="auto"))  # the command line's default: formats searched
        start = time.process_time()
        plan(req)
        times.append(time.process_time() - start)
    return times


def scenarios(n: int) -> list[PlanRequest]:
    rng = random.Random(SEED)
    names = preset_names()
    out = []
    for _ in range(n):
        kind = rng.choice(["interactive", "batch"])
        workload = Workload(
            concurrency=rng.choice([1, 8, 32, 128, 512]), input_tokens=rng.choice([128, 1024, 4096]),
            output_tokens=rng.choice([64, 256, 1024]), tpot_ms=rng.choice([None, 30.0, 60.0, 120.0]),
            ttft_ms=rng.choice([None, 1000.0, 5000.0]), kind=kind, headroom_replicas=rng.choice([0, 1]),
        )
        deployment = Deployment(region=rng.choice(["us-east-1", "us-west-2", "eu-west-1"]),
                                kv_dtype=rng.choice(["auto", "fp8"]), weights=rng.choice(["auto", "native"]))
        out.append(PlanRequest(model=load_preset(rng.choice(names)), workload=workload, deployment=deployment))
    return out


def time_sweep() -> tuple[float, float, int, int]:
    """(CPU seconds, wall seconds, feasible, infeasible) of the sweep."""
    reqs = scenarios(SWEEP_SIZE)
    feasible = infeasible = 0
    start, wall = time.process_time(), time.perf_counter()
    for req in reqs:
        try:
            plan(req)
            feasible += 1
        except InfeasibleError:
            infeasible += 1
    return time.process_time() - start, time.perf_counter() - wall, feasible, infeasible


def import_time_s() -> float:
    code = "import time; t = time.perf_counter(); import sizing.planner.plan; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout)
            for _ in range(5)]
    return statistics.median(runs)


def main() -> None:
    times = time_one_plan()
    print(f"plan() in-process, llama-3.1-70b, {PLAN_REPEATS} runs: median {statistics.median(times) * 1000:.1f} ms "
          "of CPU, "
          f"p90 {sorted(times)[int(0.9 * len(times))] * 1000:.1f} ms (target: median < 20 ms)")
    total, wall, ok, bad = time_sweep()
    print(f"sweep of {SWEEP_SIZE} scenarios (seed {SEED}): {total:.2f} s of CPU ({wall:.2f} s wall), {ok} feasible, "
          f"{bad} infeasible ({total / SWEEP_SIZE * 1000:.1f} ms each; target: < 10 s of CPU)")
    print(f"import of sizing.planner.plan in a fresh interpreter: median {import_time_s() * 1000:.0f} ms over 5 runs")


if __name__ == "__main__":
    main()
