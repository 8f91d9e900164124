"""A calibration is data: the speed model's efficiencies fitted to one (GPU, model, weight format, engine) from the
user's own benchmark files, kept as a TOML file with the digests of those files, the date, the engine version and the
residual error of every point. `speed --calibration FILE`, `plan --calibration FILE` and a stack's
`llmfleet:workload.calibration` read it back; like every file, it is bounded, typed and checked before it decides
anything."""

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sizing.bounded import read_text
from sizing.calibration.kinds import Arrivals, Tool, safe_name
from sizing.catalog.assumptions import Assumptions
from sizing.errors import CalibrationFileError
from sizing.limits import (
    MAX_CONTEXT_TOKENS,
    MAX_LATENCY_MS,
    MAX_PARALLEL,
    MAX_RATE,
    MIN_SHARE,
)

FORMAT_VERSION = 1
"""The layout of calibration files this code writes and reads."""
MAX_CALIBRATION_BYTES = 1 << 20
"""A calibration file (1 MiB; one point takes about 400 bytes)."""
MAX_POINTS = 1_000
"""Points in one calibration."""
SAFE_TEXT = r"^[A-Za-z0-9][A-Za-z0-9._+:/@-]{0,199}$"
"""Names a calibration carries into plans and PR reports (files, versions, engines): no spaces, quotes, backticks or
Markdown, so a value printed in a comment cannot format or link anything."""
FIX = "pass a file written by `python -m sizing calibrate ... --out FILE` (unchanged since)."


class _Frozen(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", allow_inf_nan=False)


class SourceFile(_Frozen):
    """One benchmark result file a calibration was fitted to."""

    file: str = Field(pattern=SAFE_TEXT)
    """Its name when it was read (characters outside SAFE_TEXT replaced by '_')."""
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    """SHA-256 of its bytes."""
    tool: Tool
    """The tool that wrote it."""
    points: int = Field(ge=1, le=MAX_POINTS)
    """Load points read from it."""


class FittedValues(_Frozen):
    """The speed model's efficiencies for this (GPU, model, format, engine); each replaces the assumption of the same
    name (sizing/catalog/assumptions.py), and the engine's step_time_factor is 1 (the fit measured that engine)."""

    decode_bw_efficiency: float = Field(ge=MIN_SHARE, le=1)
    """Share of peak memory bandwidth a decode step reaches."""
    decode_compute_efficiency: float = Field(ge=MIN_SHARE, le=1)
    """Share of dense peak for the batched matmuls of a decode step."""
    prefill_compute_efficiency: float = Field(ge=MIN_SHARE, le=1)
    """Share of dense peak a prefill reaches."""
    decode_step_overhead_ms: float = Field(ge=0, le=MAX_LATENCY_MS)
    """Host-side time per engine step, milliseconds."""


class PointResidual(_Frozen):
    """One measured point against the calibrated model."""

    file: str = Field(pattern=SAFE_TEXT)
    """The result file it came from."""
    index: int = Field(ge=0, le=MAX_POINTS)
    """Its position in that file."""
    arrivals: Arrivals
    """How its requests arrived."""
    load: float = Field(gt=0, le=MAX_RATE)
    """Clients (burst) or requests per second (poisson)."""
    input_tokens: int = Field(ge=1, le=MAX_CONTEXT_TOKENS)
    """Mean prompt tokens."""
    output_tokens: int = Field(ge=1, le=MAX_CONTEXT_TOKENS)
    """Mean generated tokens."""
    output_tokens_per_s_error: float = Field(ge=-1, le=1e6)
    """Calibrated throughput / measured - 1."""
    itl_error: float = Field(ge=-1, le=1e6)
    """Calibrated mean ITL / measured - 1."""
    ttft_error: float = Field(ge=-1, le=1e6)
    """Calibrated mean TTFT / measured - 1."""


class Calibration(_Frozen):
    """Efficiencies fitted to the user's benchmarks of one (GPU, model, weight format, engine)."""

    format_version: int = Field(ge=FORMAT_VERSION, le=FORMAT_VERSION)
    """The file layout's version."""
    created: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    """The date it was fitted (UTC)."""
    gpu: str = Field(pattern=SAFE_TEXT)
    """The GPU's catalog name (sizing/data/gpus.csv) or a device described by the caller."""
    model: str = Field(pattern=SAFE_TEXT)
    """The model's name as the engine names it (ModelSpec.name)."""
    weights: str = Field(pattern=SAFE_TEXT)
    """The weight format (sizing/data/weight_formats.csv)."""
    engine: str = Field(pattern=SAFE_TEXT)
    """The engine measured (a key of engines.toml [step_time_factor])."""
    engine_version: str = Field(pattern=SAFE_TEXT)
    """Its version as given or recorded in the result files ('unknown' when neither says)."""
    tensor_parallel: int = Field(ge=1, le=MAX_PARALLEL)
    """The TP degree benchmarked (the fit holds per GPU; other TP degrees keep the model's all-reduce terms)."""
    fitted: FittedValues
    """The fitted efficiencies."""
    median_abs_error: float = Field(ge=0, le=1e6)
    """Median |predicted / measured - 1| over the points' throughput and ITL."""
    max_abs_error: float = Field(ge=0, le=1e6)
    """Largest of those."""
    sources: tuple[SourceFile, ...] = Field(min_length=1, max_length=MAX_POINTS)
    """The result files, with their digests."""
    points: tuple[PointResidual, ...] = Field(min_length=1, max_length=MAX_POINTS)
    """Every point's residual error."""

    def applies_to(self, gpu: str, model: str, weights: str) -> bool:
        """Whether this calibration describes a replica of `model` in `weights` on `gpu`."""
        return (gpu, safe_name(model), weights) == (self.gpu, self.model, self.weights)

    def assumptions(self, base: Assumptions) -> Assumptions:
        """`base` with the fitted efficiencies in place of its own."""
        return base.model_copy(update=self.fitted.model_dump())

    @property
    def summary(self) -> str:
        """One line: what it is fitted to and how well."""
        return (
            f"{self.model} {self.weights} on {self.gpu} (TP{self.tensor_parallel}), {self.engine} "
            f"{self.engine_version}, fitted {self.created} to {len(self.points)} points: median error "
            f"{100 * self.median_abs_error:.1f}%, worst {100 * self.max_abs_error:.1f}%"
        )


def write_calibration(cal: Calibration, path: str | Path) -> None:
    """The calibration as a commented TOML file."""
    lines = [
        "# llm-fleet calibration: the speed model's efficiencies fitted to measured benchmarks by",
        "# `python -m sizing calibrate`. Use it with `speed/plan --calibration FILE` or a stack's",
        "# llmfleet:workload.calibration. Errors are predicted / measured - 1.",
        "",
    ]
    data = cal.model_dump(mode="json")
    for key in (
        "format_version",
        "created",
        "gpu",
        "model",
        "weights",
        "engine",
        "engine_version",
        "tensor_parallel",
        "median_abs_error",
        "max_abs_error",
    ):
        lines.append(f"{key} = {_toml_value(data[key])}")
    lines += ["", "[fitted]", *(f"{k} = {_toml_value(v)}" for k, v in data["fitted"].items())]
    for table in ("sources", "points"):
        for row in data[table]:
            lines += ["", f"[[{table}]]", *(f"{k} = {_toml_value(v)}" for k, v in row.items())]
    Path(path).write_text("\n".join(lines) + "\n")


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    return str(value)


def read_calibration(path: str | Path) -> Calibration:
    """A calibration file, checked: bounded size, valid TOML, every field typed and within its bounds."""
    raw = read_text(path, MAX_CALIBRATION_BYTES, "calibration file", FIX, CalibrationFileError)
    shown = repr(str(path)[:200])
    import tomllib  # loaded when a calibration is read: a plan without one never needs it (start-up time)

    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as exc:
        raise CalibrationFileError(f"calibration file {shown} is not valid TOML ({exc}). To fix: {FIX}") from None
    try:
        return Calibration.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise CalibrationFileError(
            f"calibration file {shown} is not a calibration ({problems}). To fix: {FIX}"
        ) from None
