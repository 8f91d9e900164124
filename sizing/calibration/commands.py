"""The benchmark commands that check a plan once it is deployed, and the calibrate command that reads their results
back: plan -> deploy -> benchmark -> calibrate -> plan.

Each command benchmarks ONE replica (the plan's figures are per replica) at the plan's request shape, with fixed
lengths (vLLM's random dataset with --random-range-ratio 0 and --ignore-eos; GuideLLM's synthetic_text data), at a
few concurrencies up to the planned users per replica (closed loops: the clients start together, `--arrivals burst`)
and, where the workload gives a request rate, at the planned rate per replica (Poisson arrivals). Every value in a
command comes from the plan's typed fields (numbers, catalog names, the checkpoint's repo id), quoted for the shell.
"""

from __future__ import annotations

import math
import shlex

from sizing.planner.results import Plan

ENDPOINT = "http://REPLICA_HOST:8000"
"""Placeholder for one replica's address (the fleet's API port; benchmark a replica, not the load balancer)."""
SWEEP_SHARES = (0.25, 0.5, 1.0)
"""Concurrencies benchmarked, as shares of the planned users per replica (plus 1: a lone request)."""
PROMPTS_PER_CLIENT = 8
"""Requests per client in one vLLM run: enough for a steady state after the first wave."""
MIN_PROMPTS = 32
"""Fewest requests in one vLLM run."""


def sweep(users: float) -> list[int]:
    """The concurrencies to benchmark for `users` planned users per replica."""
    top = max(1, math.ceil(users))
    return sorted({1, *(max(1, math.ceil(top * s)) for s in SWEEP_SHARES)})


def _q(value: object) -> str:
    return shlex.quote(str(value))


def vllm_command(plan: Plan, concurrency: int | None = None, rate: float | None = None) -> str:
    """`vllm bench serve` at a closed-loop concurrency or a Poisson rate."""
    w = plan.workload
    label = f"c{concurrency}" if concurrency is not None else f"r{rate:g}"
    load = (
        f"--max-concurrency {concurrency} --num-prompts {max(MIN_PROMPTS, PROMPTS_PER_CLIENT * concurrency)}"
        if concurrency is not None
        else f"--request-rate {rate:.4g} --burstiness 1 --num-prompts {max(MIN_PROMPTS, math.ceil(60 * (rate or 0)))}"
    )
    return (
        f"vllm bench serve --backend vllm --base-url {ENDPOINT} --model {_q(plan.model)} "
        f"--tokenizer {_q(plan.checkpoint.repo or plan.model)} --dataset-name random --random-input-len "
        f"{w.input_tokens} "
        f"--random-output-len {w.output_tokens} --random-range-ratio 0 --ignore-eos {load} "
        f"--percentile-metrics ttft,tpot,itl --metric-percentiles 50,95,99 --save-result "
        f"--result-filename vllm-{label}.json --metadata engine_version={_q(plan.engine)}{_goodput(plan)}"
    )


def _goodput(plan: Plan) -> str:
    """vLLM's --goodput with the plan's mean latency targets (last: it takes every value after it), '' without
    targets. vLLM counts the requests that meet each target (request_goodput in the result)."""
    w = plan.workload
    slos = [f"{name}:{value:g}" for name, value in (("ttft", w.ttft_ms), ("tpot", w.tpot_ms)) if value is not None]
    return f" --goodput {' '.join(slos)}" if slos else ""


def guidellm_command(plan: Plan, concurrencies: list[int]) -> str:
    """GuideLLM (0.8) at the same concurrencies, one report holding every run."""
    w = plan.workload
    streams = ",".join(str(c) for c in concurrencies)
    return (
        f"guidellm run --backend kind=openai_http,target={ENDPOINT},model={_q(plan.model)} "
        f"--profile kind=concurrent,streams={concurrencies[0]} --override profile.streams {streams} "
        f"--data kind=synthetic_text,prompt_tokens={w.input_tokens},output_tokens={w.output_tokens} "
        f"--constraint kind=max_requests,max_requests={MIN_PROMPTS} --output kind=json,path=guidellm.json"
    )


def calibrate_command(plan: Plan) -> str:
    """Reading the results back into a calibration of the chosen GPU, model, format and engine."""
    c = plan.choice
    return (
        f"python -m sizing calibrate vllm-*.json --model {_q(plan.model)} --gpu {_q(c.gpu)} "
        f"--tp {c.tensor_parallel} --weights {_q(c.weights or plan.weights)} --kv-dtype {_q(plan.kv_dtype)} "
        f"--engine {_q(plan.engine)} --out calibration.toml"
    )


def bench_commands(plan: Plan) -> dict[str, list[str]]:
    """The commands that check `plan` once deployed, by tool, and how to read them back."""
    c, w = plan.choice, plan.workload
    concurrencies = sweep(c.planned_concurrency_per_replica)
    vllm = [vllm_command(plan, concurrency=n) for n in concurrencies]
    if w.requests_per_second:
        vllm.append(vllm_command(plan, rate=w.requests_per_second / max(c.replicas_required, 1)))
    return {"vllm": vllm, "guidellm": [guidellm_command(plan, concurrencies)], "calibrate": [calibrate_command(plan)]}


def bench_lines(plan: Plan) -> list[str]:
    """The commands in words, with what the plan predicts they will measure."""
    c = plan.choice
    out = [
        "",
        (
            f"Check it once deployed (one replica at {ENDPOINT}; the plan predicts TTFT {c.ttft_ms:,.0f} ms, TPOT "
            f"{c.tpot_ms:.1f} ms at {c.planned_concurrency_per_replica:,.1f} users per replica, under Poisson "
            "arrivals; these closed loops start together: compare with `speed --arrivals burst`):"
        ),
    ]
    for tool, commands in bench_commands(plan).items():
        out += [f"  {tool}:", *(f"    {line}" for line in commands)]
    return out
