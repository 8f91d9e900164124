"""GuideLLM's report (`guidellm run --output kind=json`, guidellm 0.8.1's GenerativeBenchmarksReport, report schema
version 2): one load point per benchmark of the report.

Read per benchmark: config.strategy (type_ synchronous, concurrent with `streams`, throughput, constant or poisson with
`rate`) and metrics.<name>.successful.{mean, count, percentiles.p99} of requests_per_second,
output_tokens_per_second, time_to_first_token_ms, inter_token_latency_ms, prompt_token_count and output_token_count.
Synchronous is one client, concurrent N clients: both start their streams together and send the next request when one
completes (burst). Poisson is an open loop. Constant (evenly spaced arrivals) and throughput (every request at once,
unbounded) are not reproduced by the load model and are refused by name.
"""

from __future__ import annotations

from typing import Any

from sizing.calibration.results import number, text
from sizing.errors import ResultFileError

CLOSED = {"synchronous", "concurrent"}
"""Strategies that are closed loops of fixed clients."""


def _successful(metrics: dict[str, Any], name: str, key: str, where: str) -> float | None:
    """metrics[name].successful[key] (key 'p99' reads percentiles.p99)."""
    entry = metrics.get(name)
    ok = entry.get("successful") if isinstance(entry, dict) else None
    if not isinstance(ok, dict):
        return None
    if key == "p99":
        pct = ok.get("percentiles")
        return number(pct.get("p99"), f"{name}.successful.percentiles.p99", where) if isinstance(pct, dict) else None
    return number(ok.get(key), f"{name}.successful.{key}", where)


def _strategy(bench: dict[str, Any], where: str) -> tuple[str, float | None, float | None]:
    """(arrivals, clients, rate) of one benchmark's scheduling strategy."""
    config = bench.get("config")
    strategy = config.get("strategy") if isinstance(config, dict) else None
    kind = text(strategy.get("type_")) if isinstance(strategy, dict) else None
    if kind == "synchronous":
        return "burst", 1.0, None
    if kind == "concurrent" and isinstance(strategy, dict):
        return "burst", number(strategy.get("streams"), "config.strategy.streams", where), None
    if kind == "poisson" and isinstance(strategy, dict):
        return "poisson", None, number(strategy.get("rate"), "config.strategy.rate", where)
    raise ResultFileError(
        f"result file {where!r}: GuideLLM strategy {str(kind)[:40]!r} is not reproduced by the load model "
        "(it reproduces closed loops of fixed clients and Poisson arrivals). To fix: benchmark with "
        "--profile kind=concurrent or kind=synchronous, or kind=poisson; or leave this file out."
    )


def guidellm_points(benchmarks: list[Any], where: str) -> list[dict[str, Any]]:
    """The fields of every benchmark in a GuideLLM report, for results.MeasuredPoint."""
    out = []
    for i, bench in enumerate(benchmarks):
        if not isinstance(bench, dict) or not isinstance(bench.get("metrics"), dict):
            raise ResultFileError(
                f"result file {where!r}: benchmarks[{i}] has no metrics. To fix: pass the report "
                "GuideLLM wrote (--output kind=json)."
            )
        m, name = bench["metrics"], f"{where} benchmarks[{i}]"
        arrivals, clients, rate = _strategy(bench, name)
        out.append(
            {
                "tool": "guidellm",
                "arrivals": arrivals,
                "concurrency": clients,
                "request_rate": rate,
                "completed": int(_successful(m, "request_latency", "count", name) or 0),
                "input_tokens": _successful(m, "prompt_token_count", "mean", name),
                "output_tokens": _successful(m, "output_token_count", "mean", name),
                "output_tokens_per_s": _successful(m, "output_tokens_per_second", "mean", name),
                "requests_per_s": _successful(m, "requests_per_second", "mean", name),
                "ttft_ms": _successful(m, "time_to_first_token_ms", "mean", name),
                "itl_ms": _successful(m, "inter_token_latency_ms", "mean", name),
                "ttft_p99_ms": _successful(m, "time_to_first_token_ms", "p99", name),
                "itl_p99_ms": _successful(m, "inter_token_latency_ms", "p99", name),
            }
        )
    return out
