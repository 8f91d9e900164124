"""`python -m sizing calibrate RESULT... --model M --gpu G --tp N --out FILE`: fit the speed model to the user's own
benchmark files and write the calibration (sizing/calibration/)."""

from __future__ import annotations

import argparse
import datetime
from typing import TYPE_CHECKING

from sizing.calibration.store import Calibration, read_calibration, write_calibration
from sizing.catalog.engines import engine_and_factor
from sizing.catalog.instances import resolve_gpu_or_instance
from sizing.cli.args import assumptions_from_args, format_from_args, model_from_args
from sizing.errors import InvalidInputError
from sizing.memory.budget import kv_element_bytes
from sizing.memory.layout import Layout
from sizing.speed.model import ReplicaSpeed

if TYPE_CHECKING:  # the fit and the result readers load with the command that uses them (issue 21: start-up time)
    from sizing.calibration.fit import Replica
    from sizing.calibration.results import MeasuredPoint

UNKNOWN_VERSION = "unknown"
"""The engine version when neither --engine-version nor the result files say."""


def replica_from_args(args: argparse.Namespace) -> Replica:
    """What the benchmark ran, from the calibrate arguments."""
    from sizing.calibration.fit import Replica

    model = model_from_args(args)
    gpu, instance = resolve_gpu_or_instance(args.gpu)
    fmt = format_from_args(args, model)
    profile, factor, _ = engine_and_factor(args.engine)
    speed = ReplicaSpeed(
        model,
        gpu,
        fmt,
        Layout(tp=args.tp),
        kv_element_bytes(args.kv_dtype, fmt),
        instance.gpu_link if instance else gpu.interconnect,
        assumptions_from_args(args),
    )
    return Replica(
        speed=speed, profile=profile, step_time_factor=factor, max_num_batched_tokens=args.max_num_batched_tokens
    )


def engine_version(given: str | None, points: list[MeasuredPoint]) -> str:
    """--engine-version, else the one version every result file records."""
    from sizing.calibration.kinds import safe_name

    if given:
        return safe_name(given)
    recorded = {p.engine_version for p in points if p.engine_version}
    if len(recorded) > 1:
        raise InvalidInputError(
            f"the result files record different engine versions ({', '.join(sorted(recorded))}). "
            "To fix: calibrate each version's files separately, or say which with --engine-version."
        )
    return safe_name(recorded.pop()) if recorded else UNKNOWN_VERSION


def calibrate_command(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """Read the files, fit, write the calibration; every point's residual error is printed."""
    from sizing.calibration.fit import calibrate
    from sizing.calibration.results import read_results

    points = [p for path in args.results for p in read_results(path)]
    replica = replica_from_args(args)
    _, _, engine = engine_and_factor(args.engine)
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    cal = calibrate(replica, points, engine, engine_version(args.engine_version, points), today)
    write_calibration(cal, args.out)
    read_calibration(args.out)  # what was written reads back
    return {"calibration": cal.model_dump(mode="json"), "out": args.out}, calibration_lines(cal, points, args.out)


def calibration_lines(cal: Calibration, points: list[MeasuredPoint], out: str) -> list[str]:
    """The fit in words: values, then every point measured against calibrated."""
    f = cal.fitted
    lines = [
        f"Calibration of {cal.summary}",
        (
            f"  decode bandwidth efficiency {f.decode_bw_efficiency:.3f}, decode compute efficiency "
            f"{f.decode_compute_efficiency:.3f}, prefill compute efficiency {f.prefill_compute_efficiency:.3f}, "
            f"step overhead {f.decode_step_overhead_ms:.3f} ms (engine step-time factor folded in: 1.0)"
        ),
        "",
        "  "
        f"{'file':<28}{'load':<22}{'in/out':>11}{'tok/s':>10}{'err':>8}{'ITL ms':>9}{'err':>8}"
        f"{'TTFT ms':>10}{'err':>8}",
    ]
    for p, r in zip(points, cal.points, strict=True):
        lines.append(
            f"  {p.source[:27]:<28}{p.load[:21]:<22}{f'{r.input_tokens}/{r.output_tokens}':>11}"
            f"{p.output_tokens_per_s:>10,.1f}{100 * r.output_tokens_per_s_error:>+7.1f}%{p.itl_ms:>9.2f}"
            f"{100 * r.itl_error:>+7.1f}%{p.ttft_ms:>10.1f}{100 * r.ttft_error:>+7.1f}%"
        )
    lines += [
        "",
        f"  written to {out} (sources: " + ", ".join(f"{s.file} sha256 {s.sha256[:12]}" for s in cal.sources) + ")",
    ]
    return lines
