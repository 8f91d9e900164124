"""Issue 21 (item 3): `memory` and `speed` answer with typed results whose dump is the JSON they printed before
(tests/data/cli_json/, recorded from the dict-building code), and publish that JSON's schema under docs/schemas/."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel, TypeAdapter

from sizing import schemas
from sizing.cli import commands
from sizing.cli.main import main
from sizing.memory.results import MemoryDemand, MemoryOnGpu, MemoryResult
from sizing.speed.results import CalibrationUsed, ClosedLoopSpeed, OpenLoopSpeed, SpeedAtBatch, SpeedResult

GOLDEN = Path(__file__).resolve().parents[1] / "data" / "cli_json"
CASES = sorted(p.stem for p in GOLDEN.glob("*.json"))
EXPECTED_TYPE = {
    "memory_demand": MemoryDemand,
    "memory_gpu": MemoryOnGpu,
    "memory_gpu_moe": MemoryOnGpu,
    "memory_gpu_misfit": MemoryOnGpu,
    "speed_batch": SpeedAtBatch,
    "speed_batch_max": SpeedAtBatch,
    "speed_closed_loop": ClosedLoopSpeed,
    "speed_open_loop": OpenLoopSpeed,
}
RESULT = {"memory": MemoryResult, "speed": SpeedResult}


def _golden(case: str) -> dict[str, Any]:
    return json.loads((GOLDEN / f"{case}.json").read_text())


def _same(a: Any, b: Any, where: str = "") -> None:
    """Equal keys all the way down; numbers equal to 1e-9 (the JSON's floats, printed and read back)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys differ: {set(a) ^ set(b)}"
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), where
    else:
        assert a == b, where


def test_every_case_has_its_expected_type():
    assert set(CASES) == set(EXPECTED_TYPE)


@pytest.mark.parametrize("case", CASES)
def test_the_json_is_todays(case):
    golden = _golden(case)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main([*golden["argv"], "--json"])
    assert code == golden["exit_code"]
    _same(json.loads(out.getvalue()), golden["json"])


@pytest.mark.parametrize("case", CASES)
def test_the_typed_result_reads_and_dumps_todays_json(case):
    golden = _golden(case)
    result = TypeAdapter(RESULT[golden["argv"][0]]).validate_python(golden["json"])
    assert type(result) is EXPECTED_TYPE[case]
    _same(result.model_dump(mode="json"), golden["json"])


@pytest.mark.parametrize("case", CASES)
def test_the_commands_return_typed_results(case, monkeypatch):
    seen: list[BaseModel] = []
    for name in ("memory_result", "speed_result"):
        real = getattr(commands, name)
        monkeypatch.setattr(commands, name, lambda args, real=real: seen.append(real(args)) or seen[-1])
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        main([*_golden(case)["argv"], "--json"])
    assert [type(r) for r in seen] == [EXPECTED_TYPE[case]]


@pytest.mark.parametrize("case", CASES)
def test_the_json_meets_its_published_schema(case):
    golden = _golden(case)
    command = golden["argv"][0]
    published = json.loads((schemas.TARGET / f"{command}.schema.json").read_text())
    jsonschema.validate(golden["json"], published)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**golden["json"], "tpot": 1.0}, published)  # a key the results do not have


def test_the_plan_json_meets_its_published_schema(capsys):
    code = main(["plan", "--model", "llama-3.1-8b", "--instance-types", "g6e.xlarge,g5.xlarge", "--json"])
    assert code == 0
    jsonschema.validate(
        json.loads(capsys.readouterr().out), json.loads((schemas.TARGET / "plan.schema.json").read_text())
    )


def test_the_schema_files_are_current():
    assert schemas.main(["--check"]) == 0, "docs/schemas/ is stale. To fix: python -m sizing.schemas"


def test_a_stale_schema_file_is_caught(tmp_path, capsys):
    assert schemas.main([], target=tmp_path) == 0
    speed = tmp_path / "speed.schema.json"
    speed.write_text(speed.read_text().replace("Time per output token", "Time per token"))
    assert schemas.main(["--check"], target=tmp_path) == 1
    assert "speed.schema.json is stale. To fix: python -m sizing.schemas" in capsys.readouterr().err


@pytest.mark.parametrize(
    "model", [MemoryDemand, MemoryOnGpu, SpeedAtBatch, ClosedLoopSpeed, OpenLoopSpeed, CalibrationUsed]
)
def test_every_field_has_a_docstring_and_the_results_are_frozen(model):
    assert model.model_config.get("frozen") is True
    undocumented = [name for name, field in model.model_fields.items() if not field.description]
    assert not undocumented, f"{model.__name__}: fields without a docstring: {undocumented}"
