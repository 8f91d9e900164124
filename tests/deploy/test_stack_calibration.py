"""A stack names its calibration (llmfleet:workload.calibration): read, checked, used for the candidates it describes,
and said so in the PR report."""

from __future__ import annotations

import pytest

from deploy.stack_config import ConfigError, load_stack_config
from preview.report import _calibration_lines
from sizing.calibration.fit import calibrate
from sizing.calibration.results import read_results
from sizing.calibration.store import write_calibration
from sizing.planner.plan import plan
from tests.sizing.calibration_data import as_vllm_result, n1_rows
from tests.sizing.test_calibration_cli import N1_WEIGHTS, a100_replica


@pytest.fixture
def calibration_file(tmp_path):
    rows = [r for r in n1_rows("A100-SXM-80GB", N1_WEIGHTS, 1, 200, 200) if r["concurrency"] in ("1", "10", "50")]
    points = [p for r in rows for p in read_results(as_vllm_result(r, tmp_path))]
    path = tmp_path / "a100.toml"
    write_calibration(calibrate(a100_replica(), points, "nim-tensorrt-llm-2024", "nim-2024", "2026-12-07"), path)
    return path


def _raw(calibration: object) -> dict:
    return {
        "model": "llama-3.1-8b",
        "workload": {"concurrency": 64, "tpot_ms": 40, "calibration": calibration},
        "deployment": {"region": "us-east-1", "instance_types": ["p4de.24xlarge"], "weights": "bf16"},
    }


def test_a_stack_plans_with_its_calibration_and_the_report_says_so(calibration_file):
    stack = load_stack_config(_raw(str(calibration_file)))
    assert stack.request.calibration is not None and stack.request.workload.concurrency == 64
    result = plan(stack.request)
    assert result.choice.calibrated and result.calibration and result.calibration.applies_to_choice
    line = _calibration_lines(result)[0]
    assert line.startswith("**Speed figures: calibrated** from 3 measured points") and "residual error" in line
    assert _calibration_lines(plan(load_stack_config({**_raw(""), "workload": {"concurrency": 64}}).request))[0] == (
        "**Speed figures:** first-principles model (no calibration)."
    )


@pytest.mark.parametrize(
    "value, says", [("missing.toml", "does not exist"), (7, "is not a file path"), ("", "is not a file path")]
)
def test_a_bad_calibration_key_names_the_key(value, says):
    with pytest.raises(ConfigError, match=f"llmfleet:workload.calibration.*{says}"):
        load_stack_config(_raw(value))
