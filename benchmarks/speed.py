"""Engine speed against its targets (issue 21, item 7). Run from the repository root: python benchmarks/speed.py

- a whole-process `python -m sizing plan` (the default workload) at most WHOLE_PROCESS_RATIO_TARGET times a bare
  `python -c "import pydantic, yaml"` on the same machine, the two run alternately, each after a warm-up run and with
  bytecode cached as an installed package has it (PYTHONDONTWRITEBYTECODE, where set, is dropped for them: pydantic
  and yaml come compiled, and comparing them with a project compiled afresh on every run would measure the compiler);
- one plan() in-process under PLAN_TARGET_S of CPU (median);
- a 1,000-scenario sweep under SWEEP_TARGET_S of CPU.

Beside the whole-process figure it prints, as information and not a target, the floor under it: the baseline plus
one frozen pydantic model with a bound, defined and validated (FLOOR_COMMAND). Any command line built on pydantic
models pays it before the engine does anything of its own, so the ratio target less this floor is what the engine's
imports, its plan and its output have left.

The targets are judged on CPU time (time.process_time in-process, the children's rusage for processes): the
development machine is shared, and wall time there measures the neighbours' load as much as the code (it runs up to
1.5x the CPU time). Wall time is printed too. Exits 1 when a target is missed."""

from __future__ import annotations

import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sizing.errors import InfeasibleError  # noqa: E402
from sizing.models.presets import load_preset, preset_names  # noqa: E402
from sizing.planner.plan import plan  # noqa: E402
from sizing.planner.request import Deployment, PlanRequest, Workload  # noqa: E402

SWEEP_SIZE = 1000
WorkKind = Literal["interactive", "batch"]
WORK_KINDS: list[WorkKind] = ["interactive", "batch"]
PLAN_REPEATS = 50
PROCESS_REPEATS = 9
"""Runs of each process, alternating, of which the median is taken."""
SEED = 2026
PLAN_TARGET_S = 0.020
"""Issue 21, item 7: one in-process plan under 20 ms of CPU."""
SWEEP_TARGET_S = 10.0
"""Issue 21, item 7: the 1,000-scenario sweep under 10 s of CPU."""
WHOLE_PROCESS_RATIO_TARGET = 2.5
"""Issue 21, item 7: a whole-process plan at most 2.5x the time of importing pydantic and yaml."""
BASELINE_COMMAND = ("-c", "import pydantic, yaml")
"""What any command line of the engine pays before it runs: the interpreter and its two dependencies."""
FLOOR_COMMAND = (
    "-c",
    "import pydantic, yaml\n"
    "from pydantic import BaseModel, ConfigDict, Field\n"
    "class Floor(BaseModel):\n"
    "    model_config = ConfigDict(frozen=True)\n"
    "    x: int = Field(1, ge=0)\n"
    "Floor(x=2)",
)
"""The baseline plus pydantic's model machinery: one frozen model with a bound, defined and validated (what the
engine's ~45 models cost on top of it is the engine's own)."""
PLAN_COMMAND = ("-m", "sizing", "plan")
"""The whole-process plan measured: the default workload, as `python -m sizing plan` with no options."""


def time_one_plan() -> list[float]:
    model = load_preset("llama-3.1-70b")
    # warm the catalog caches, as a long-lived process would be
    plan(PlanRequest(model=model, deployment=Deployment(weights="auto")))
    times = []
    for i in range(PLAN_REPEATS):
        req = PlanRequest(
            model=model,
            workload=Workload(concurrency=32 + i, ttft_ms=2000, tpot_ms=50),
            deployment=Deployment(weights="auto"),
        )  # the command line's default: formats searched
        start = time.process_time()
        plan(req)
        times.append(time.process_time() - start)
    return times


def scenarios(n: int) -> list[PlanRequest]:
    rng = random.Random(SEED)
    names = preset_names()
    out = []
    for _ in range(n):
        kind: WorkKind = rng.choice(WORK_KINDS)
        workload = Workload(
            concurrency=rng.choice([1, 8, 32, 128, 512]),
            input_tokens=rng.choice([128, 1024, 4096]),
            output_tokens=rng.choice([64, 256, 1024]),
            tpot_ms=rng.choice([None, 30.0, 60.0, 120.0]),
            ttft_ms=rng.choice([None, 1000.0, 5000.0]),
            kind=kind,
            headroom_replicas=rng.choice([0, 1]),
        )
        deployment = Deployment(
            region=rng.choice(["us-east-1", "us-west-2", "eu-west-1"]),
            kv_dtype=rng.choice(["auto", "fp8"]),
            weights=rng.choice(["auto", "native"]),
        )
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


def _children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_process(args: tuple[str, ...]) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one fresh interpreter running `args` from the repository root."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}  # as installed: bytecode cached
    env["LLMFLEET_PREFLIGHT"] = "off"
    cpu, wall = _children_cpu_s(), time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=True)
    return _children_cpu_s() - cpu, time.perf_counter() - wall


Runs = list[tuple[float, float]]


def time_processes() -> tuple[Runs, Runs, Runs]:
    """The baseline's, the floor's and the plan's (CPU, wall) runs, in turn so that all see the same load."""
    commands: tuple[tuple[str, ...], ...] = (BASELINE_COMMAND, FLOOR_COMMAND, PLAN_COMMAND)
    for args in commands:  # warm-up: writes the bytecode, fills the page cache
        run_process(args)
    runs: tuple[Runs, Runs, Runs] = ([], [], [])
    for _ in range(PROCESS_REPEATS):
        for args, found in zip(commands, runs, strict=True):
            found.append(run_process(args))
    return runs


def _median(runs: Runs, i: int) -> float:
    return statistics.median(r[i] for r in runs)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> int:
    """Print the three figures with their targets; 1 when one is missed."""
    baseline, floor, whole = time_processes()
    ratio = _median(whole, 0) / _median(baseline, 0)
    print(
        f"whole process `python {' '.join(PLAN_COMMAND)}`: median {_median(whole, 0) * 1000:.0f} ms of CPU "
        f"({_median(whole, 1) * 1000:.0f} ms wall) vs `python {' '.join(BASELINE_COMMAND)}` "
        f"{_median(baseline, 0) * 1000:.0f} ms ({_median(baseline, 1) * 1000:.0f} ms wall), {PROCESS_REPEATS} runs "
        f"each: {ratio:.2f}x (target: <= {WHOLE_PROCESS_RATIO_TARGET}x) "
        f"{_verdict(ratio <= WHOLE_PROCESS_RATIO_TARGET)}"
    )
    print(
        f"  floor under it (information, not a target): the baseline plus one pydantic model defined and validated, "
        f"median {_median(floor, 0) * 1000:.0f} ms of CPU: {_median(floor, 0) / _median(baseline, 0):.2f}x"
    )
    times = time_one_plan()
    one = statistics.median(times)
    print(
        f"plan() in-process, llama-3.1-70b, {PLAN_REPEATS} runs: median {one * 1000:.1f} ms of CPU, "
        f"p90 {sorted(times)[int(0.9 * len(times))] * 1000:.1f} ms (target: median < {PLAN_TARGET_S * 1000:.0f} ms) "
        f"{_verdict(one < PLAN_TARGET_S)}"
    )
    total, wall, ok, bad = time_sweep()
    print(
        f"sweep of {SWEEP_SIZE} scenarios (seed {SEED}): {total:.2f} s of CPU ({wall:.2f} s wall), {ok} feasible, "
        f"{bad} infeasible ({total / SWEEP_SIZE * 1000:.1f} ms each; target: < {SWEEP_TARGET_S:.0f} s of CPU) "
        f"{_verdict(total < SWEEP_TARGET_S)}"
    )
    missed = ratio > WHOLE_PROCESS_RATIO_TARGET or one >= PLAN_TARGET_S or total >= SWEEP_TARGET_S
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
