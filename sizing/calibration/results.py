"""Benchmark result files read into measured load points: `vllm bench serve --save-result` JSON, GuideLLM's
benchmarks.json and AIPerf's profile_export_aiperf.json. Every file is untrusted input: a regular file of bounded
size, JSON of bounded depth, every number finite and within sizing/limits.py, and the tool recognised by the keys it
writes (never by the file name).

Where each format comes from (the fields read, checked against the tools' own writers):
- vLLM: vllm/benchmarks/serve.py of vLLM 0.32.0 (`result_json`: date, model_id, request_rate "inf" or a number,
  burstiness, max_concurrency, completed, total_input_tokens, total_output_tokens, request_throughput,
  output_throughput, mean_/median_/pNN_ of ttft_ms, tpot_ms, itl_ms); tests/data/benchmarks/vllm/ holds files the
  real tool wrote (tests/sizing/test_real_calibration.py).
- GuideLLM: guidellm 0.8.1's GenerativeBenchmarksReport (benchmarks[].config.strategy type_ and streams or rate,
  metrics.{output_tokens_per_second, requests_per_second, time_to_first_token_ms, inter_token_latency_ms,
  time_per_output_token_ms, prompt_token_count, output_token_count}.successful.{mean, count, percentiles}).
- AIPerf: profile_export_aiperf.json, metrics as {unit, avg, p50...}; the load in input_config.loadgen {concurrency,
  request_rate, request_rate_mode} up to 0.1 (aiperf/exporters/json_exporter.py at db4f639, v0.1.1) and in
  input_config.phases [{kind profiling, type concurrency|poisson, concurrency|rate}] in 0.13 (a file the real AIPerf
  0.13.0 wrote is in tests/data/benchmarks/cpu/aiperf-c4/).

How the clients arrived decides which load model reproduces a point (sizing/speed/load.py): a fixed number of clients
sending as fast as they can (vLLM's --max-concurrency at an infinite rate, GuideLLM's concurrent and synchronous
strategies, AIPerf's concurrency_burst) start together: "burst"; a finite rate with Poisson arrivals: "poisson".
"""

import hashlib
import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sizing.bounded import depth, read_text
from sizing.calibration.kinds import Arrivals, Tool, safe_name
from sizing.errors import ResultFileError
from sizing.limits import (
    MAX_BATCH,
    MAX_CONTEXT_TOKENS,
    MAX_JSON_DEPTH,
    MAX_LATENCY_MS,
    MAX_NAME_CHARS,
    MAX_RATE,
)

MAX_RESULT_BYTES = 256 << 20
"""A result file (256 MiB): vLLM's --save-detailed keeps every request's token times, about 10 KB per request."""
MAX_POINTS_PER_FILE = 1_000
"""Benchmarks in one file (a GuideLLM sweep has 10 by default)."""
POISSON_BURSTINESS = 1.0
"""vLLM bench serve's --burstiness of a Poisson process (gamma shape 1); other values are not Poisson."""
FIX = (
    "pass the JSON a benchmark tool wrote: `vllm bench serve --save-result`, GuideLLM's benchmarks.json, or AIPerf's "
    "profile_export_aiperf.json."
)


class MeasuredPoint(BaseModel):
    """One measured steady state of a served model, as a benchmark tool recorded it."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)

    tool: Tool
    """The tool that wrote the file."""
    source: str = Field(max_length=MAX_NAME_CHARS)
    """The file's name (not its path: calibrations travel between machines)."""
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    """SHA-256 of the file's bytes."""
    index: int = Field(ge=0, lt=MAX_POINTS_PER_FILE)
    """Position of this benchmark in the file (GuideLLM and sweeps hold several)."""
    arrivals: Arrivals
    """How requests arrived: burst (closed-loop clients starting together) or poisson (open loop)."""
    concurrency: float | None = Field(default=None, gt=0, le=MAX_BATCH)
    """Closed loop: clients, each sending its next request when the previous one completes."""
    request_rate: float | None = Field(default=None, gt=0, le=MAX_RATE)
    """Open loop: Poisson arrival rate, requests per second."""
    completed: int = Field(ge=1, le=1 << 40)
    """Requests completed in the measurement."""
    input_tokens: float = Field(ge=1, le=MAX_CONTEXT_TOKENS)
    """Mean prompt tokens per request."""
    output_tokens: float = Field(ge=1, le=MAX_CONTEXT_TOKENS)
    """Mean generated tokens per request."""
    output_tokens_per_s: float = Field(gt=0, le=MAX_RATE)
    """Generated tokens per second, all requests."""
    requests_per_s: float = Field(gt=0, le=MAX_RATE)
    """Completed requests per second."""
    ttft_ms: float = Field(gt=0, le=MAX_LATENCY_MS)
    """Mean time to first token, milliseconds."""
    itl_ms: float = Field(gt=0, le=MAX_LATENCY_MS)
    """Mean inter-token latency, milliseconds: per request (latency - TTFT) / (output tokens - 1), averaged over
    requests where the tool records it (vLLM's TPOT, GuideLLM's and AIPerf's inter-token latency)."""
    ttft_p99_ms: float | None = Field(default=None, gt=0, le=MAX_LATENCY_MS)
    """p99 time to first token, milliseconds, when recorded."""
    itl_p99_ms: float | None = Field(default=None, gt=0, le=MAX_LATENCY_MS)
    """p99 of the per-request inter-token latency, milliseconds, when recorded."""
    model_id: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    """The served model as the tool names it."""
    engine_version: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    """The engine version, when the file records it (vLLM: --metadata engine_version=... or vllm_version=...)."""
    date: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    """When the benchmark ran, as the tool wrote it."""

    @property
    def load(self) -> str:
        """The load in words: '8 clients (burst)' or '2.5 req/s (poisson)'."""
        if self.concurrency is not None:
            return f"{self.concurrency:g} clients ({self.arrivals})"
        return f"{self.request_rate:g} req/s ({self.arrivals})"


def read_results(path: str | Path) -> list[MeasuredPoint]:
    """Every load point of one result file; the tool is recognised by the keys it writes."""
    raw = read_text(path, MAX_RESULT_BYTES, "result file", FIX, ResultFileError)
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    data = _parse(raw, str(path))
    name = safe_name(Path(path).name)
    base = {"source": name, "sha256": digest}
    if isinstance(data, dict) and "output_throughput" in data and "completed" in data:
        return [_point(name, _vllm(data), base, 0)]
    if isinstance(data, dict) and isinstance(data.get("benchmarks"), list):
        from sizing.calibration.guidellm import guidellm_points

        found = guidellm_points(data["benchmarks"], name)
        return [_point(name, fields, base, i) for i, fields in enumerate(found[:MAX_POINTS_PER_FILE])]
    if isinstance(data, dict) and isinstance(data.get("output_token_throughput"), dict):
        return [_point(name, _aiperf(data, name), base, 0)]
    raise ResultFileError(
        f"result file {name!r} is none of the formats read here (no vLLM 'output_throughput', no "
        f"GuideLLM 'benchmarks', no AIPerf 'output_token_throughput'). To fix: {FIX}"
    )


def _parse(text: str, shown: str) -> Any:
    """JSON with NaN/Infinity read as missing values (numpy writes NaN for an empty statistic)."""
    try:
        value = json.loads(text, parse_constant=lambda _: None)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ResultFileError(
            f"result file {shown[:200]!r} is not valid JSON ({type(exc).__name__}). To fix: {FIX}"
        ) from None
    if depth(value) > MAX_JSON_DEPTH:
        raise ResultFileError(f"result file {shown[:200]!r} nests deeper than {MAX_JSON_DEPTH} levels. To fix: {FIX}")
    return value


def _point(name: str, fields: dict[str, Any], base: dict[str, Any], index: int) -> MeasuredPoint:
    from pydantic import ValidationError

    try:
        return MeasuredPoint(**base, **fields, index=index)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}={str(e.get('input'))[:60]!r}: {e['msg']}" for e in exc.errors()
        )
        raise ResultFileError(
            f"result file {name!r}, benchmark {index}: {problems}. To fix: benchmark with at least one "
            f"completed request and fixed lengths; {FIX}"
        ) from None


def number(value: Any, where: str, name: str) -> float | None:
    """A finite JSON number, or None when missing; a string, boolean or other value is refused by name."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ResultFileError(
            f"result file {name!r}: {where}={str(value)[:60]!r} is not a finite number. To fix: {FIX}"
        )
    return float(value)


def text(value: Any) -> str | None:
    """A short string field, or None."""
    return value[:MAX_NAME_CHARS] if isinstance(value, str) else None


def _vllm(d: dict[str, Any]) -> dict[str, Any]:
    """`vllm bench serve --save-result`: --max-concurrency C at an infinite rate is a closed loop of C clients
    started together; a finite rate with burstiness 1 is Poisson; an infinite rate without a cap sends every prompt
    at once (a closed loop of num_prompts clients)."""
    name = text(d.get("model_id")) or "vllm result"
    completed = number(d.get("completed"), "completed", name) or 0
    rate_field = d.get("request_rate")
    rate = None if rate_field in ("inf", None) else number(rate_field, "request_rate", name)
    cap = number(d.get("max_concurrency"), "max_concurrency", name)
    burstiness = number(d.get("burstiness"), "burstiness", name)
    if rate is not None and burstiness not in (None, POISSON_BURSTINESS):
        raise ResultFileError(
            f"result file {name!r}: burstiness={burstiness:g} is a gamma process, not Poisson arrivals; "
            "the load model reproduces closed loops and Poisson arrivals. To fix: benchmark with "
            "--burstiness 1, or at an infinite --request-rate with --max-concurrency."
        )
    if rate is None:
        arrivals, concurrency = "burst", cap if cap is not None else number(d.get("num_prompts"), "num_prompts", name)
    else:
        arrivals, concurrency = "poisson", None
    tpot = number(d.get("mean_tpot_ms"), "mean_tpot_ms", name)
    return {
        "tool": "vllm-bench-serve",
        "arrivals": arrivals,
        "concurrency": concurrency,
        "request_rate": rate,
        "completed": int(completed),
        "input_tokens": _per_request(d.get("total_input_tokens"), completed, "total_input_tokens", name),
        "output_tokens": _per_request(d.get("total_output_tokens"), completed, "total_output_tokens", name),
        "output_tokens_per_s": number(d.get("output_throughput"), "output_throughput", name),
        "requests_per_s": number(d.get("request_throughput"), "request_throughput", name),
        "ttft_ms": number(d.get("mean_ttft_ms"), "mean_ttft_ms", name),
        "itl_ms": tpot if tpot else number(d.get("mean_itl_ms"), "mean_itl_ms", name),
        "ttft_p99_ms": number(d.get("p99_ttft_ms"), "p99_ttft_ms", name) or None,
        "itl_p99_ms": number(d.get("p99_tpot_ms"), "p99_tpot_ms", name) or None,
        "model_id": text(d.get("model_id")),
        "date": text(d.get("date")),
        "engine_version": text(d.get("engine_version")) or text(d.get("vllm_version")),
    }


def _per_request(total: Any, completed: float, where: str, name: str) -> float | None:
    value = number(total, where, name)
    return value / completed if value is not None and completed > 0 else None


def _stat(d: dict[str, Any], metric: str, key: str, name: str) -> float | None:
    """AIPerf: one statistic of one metric ({"unit": ..., "avg": ..., "p99": ...})."""
    entry = d.get(metric)
    return number(entry.get(key), f"{metric}.{key}", name) if isinstance(entry, dict) else None


def _aiperf_load(config: dict[str, Any], name: str) -> tuple[float | None, float | None]:
    """(concurrency, Poisson rate) of an AIPerf run. Up to 0.1 its input_config.loadgen has concurrency, request_rate
    and request_rate_mode (concurrency_burst without a rate); from 0.13 input_config.phases lists the phases, the
    profiling one with type concurrency (and `concurrency`) or poisson (and `rate`)."""
    loadgen = config.get("loadgen")
    if isinstance(loadgen, dict):
        rate = number(loadgen.get("request_rate"), "input_config.loadgen.request_rate", name)
        mode = text(loadgen.get("request_rate_mode")) or ("poisson" if rate is not None else "concurrency_burst")
        kind, concurrency = (
            "poisson" if mode == "poisson" else mode if rate is not None else "concurrency",
            number(loadgen.get("concurrency"), "input_config.loadgen.concurrency", name),
        )
    else:
        listed = config.get("phases")
        phases: list[Any] = listed if isinstance(listed, list) else []
        profiling = [p for p in phases if isinstance(p, dict) and "profiling" in (p.get("kind"), p.get("name"))]
        phase = profiling[-1] if profiling else {}
        kind = text(phase.get("type")) or "concurrency"
        rate = number(phase.get("rate"), "input_config.phases[profiling].rate", name)
        concurrency = number(phase.get("concurrency"), "input_config.phases[profiling].concurrency", name)
    if kind == "concurrency":
        return concurrency, None
    if kind == "poisson":
        return None, rate
    raise ResultFileError(
        f"result file {name!r}: AIPerf load {kind[:40]!r} is not reproduced by the load model (it "
        "reproduces a fixed concurrency and Poisson arrivals). To fix: profile with --concurrency "
        "and no rate, or with --request-rate and --arrival-pattern poisson."
    )


def _aiperf(d: dict[str, Any], name: str) -> dict[str, Any]:
    """AIPerf's profile_export_aiperf.json: a fixed concurrency without a rate is a closed loop started together; a
    request rate with Poisson arrivals is an open loop."""
    given = d.get("input_config")
    config: dict[str, Any] = given if isinstance(given, dict) else {}
    concurrency, rate = _aiperf_load(config, name)
    count = _stat(d, "request_count", "avg", name) or 0
    endpoint = config.get("endpoint")
    models = endpoint.get("model_names") if isinstance(endpoint, dict) else None
    listed = (config.get("models") or {}).get("items") if isinstance(config.get("models"), dict) else None
    if not models and isinstance(listed, list):
        models = [m.get("name") for m in listed if isinstance(m, dict)]
    return {
        "tool": "aiperf",
        "arrivals": "poisson" if rate is not None else "burst",
        "concurrency": concurrency,
        "request_rate": rate,
        "completed": int(count),
        "input_tokens": _stat(d, "input_sequence_length", "avg", name),
        "output_tokens": _stat(d, "output_sequence_length", "avg", name),
        "output_tokens_per_s": _stat(d, "output_token_throughput", "avg", name),
        "requests_per_s": _stat(d, "request_throughput", "avg", name),
        "ttft_ms": _stat(d, "time_to_first_token", "avg", name),
        "itl_ms": _stat(d, "inter_token_latency", "avg", name),
        "ttft_p99_ms": _stat(d, "time_to_first_token", "p99", name),
        "itl_p99_ms": _stat(d, "inter_token_latency", "p99", name),
        "model_id": text(models[0]) if isinstance(models, list) and models else None,
        "date": text(d.get("start_time")),
        "engine_version": None,
    }
