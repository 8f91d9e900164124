"""What a whole-process `python -m sizing plan` loads and does before it plans (issue 21, item 7: start-up time): the
modules of other commands stay unloaded, and the shortcuts taken for speed answer as the full paths do."""

import csv
import io
import subprocess
import sys
import tomllib

import pytest

from sizing.catalog import files
from sizing.models.presets import _aliases, load_preset, preset_names

PLAN_SKIPS = (
    "sizing.cli.calibrate",
    "sizing.cli.catalog",
    "sizing.calibration.results",
    "sizing.memory.demand",
    "sizing.models.raw",
    "sizing.cli.command_inputs",
    "difflib",
)
"""Modules of other commands (and difflib, for an error's "did you mean") that a plain `plan` never imports."""


def _modules_after_plan() -> set[str]:
    probe = (
        "import contextlib, io, sys\n"
        "from sizing.cli.main import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert main(['plan']) == 0\n"
        "print('\\n'.join(sys.modules))"
    )
    env = {"LLMFLEET_PREFLIGHT": "off", "PATH": ""}
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, env=env)
    return set(result.stdout.split())


def test_a_plain_plan_loads_no_other_commands_modules():
    loaded = _modules_after_plan()
    assert "sizing.planner.plan" in loaded  # the probe did plan
    assert not [m for m in PLAN_SKIPS if m in loaded]


def test_a_plan_reads_the_kept_parsed_forms_without_the_toml_parser():
    _modules_after_plan()  # keeps the data files' parsed forms where bytecode may be written
    kept = list(files.PARSED_DIR.glob("*.toml.*"))
    if not kept:
        pytest.skip("sizing/data/__pycache__ is not writable here: every run parses the TOML files")
    assert "tomllib" not in _modules_after_plan()


def test_a_preset_found_by_name_is_the_one_the_alias_index_names():
    index = _aliases()
    assert all(index[name] == name for name in preset_names())
    by_name, by_repo = load_preset(" Llama-3.1-8B "), load_preset("meta-llama/Llama-3.1-8B-Instruct")
    assert by_name.model_dump() == by_repo.model_dump()  # dumps: another test may have re-imported the model classes


def _kept_in(tmp_path, monkeypatch, write: bool = True):
    """files.py reading tmp_path/data and keeping parsed forms in tmp_path/data/__pycache__."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setattr(files, "DATA_DIR", data)
    monkeypatch.setattr(files, "PARSED_DIR", data / "__pycache__")
    monkeypatch.setattr(sys, "dont_write_bytecode", not write)
    return data


def _parse_once(raw: bytes) -> object:
    raise AssertionError("parsed again although a kept form matches the file")


def test_a_data_file_is_parsed_once_then_read_from_its_kept_form(tmp_path, monkeypatch):
    data = _kept_in(tmp_path, monkeypatch)
    (data / "t.toml").write_text('a = 1\nb = ["x"]\n')
    assert files._parsed("t.toml", lambda raw: tomllib.loads(raw.decode())) == {"a": 1, "b": ["x"]}
    assert files._parsed("t.toml", _parse_once) == {"a": 1, "b": ["x"]}


def test_an_edited_data_file_is_parsed_afresh_and_its_old_form_removed(tmp_path, monkeypatch):
    data = _kept_in(tmp_path, monkeypatch)
    (data / "t.toml").write_text("a = 1\n")
    files._parsed("t.toml", lambda raw: tomllib.loads(raw.decode()))
    (data / "t.toml").write_text("a = 2\n")  # same size, possibly the same mtime: the digest tells them apart
    assert files._parsed("t.toml", lambda raw: tomllib.loads(raw.decode())) == {"a": 2}
    assert len(list((data / "__pycache__").glob("t.toml.*"))) == 1


def test_a_corrupt_kept_form_is_parsed_over(tmp_path, monkeypatch):
    data = _kept_in(tmp_path, monkeypatch)
    (data / "t.toml").write_text("a = 1\n")
    files._parsed("t.toml", lambda raw: tomllib.loads(raw.decode()))
    (kept,) = (data / "__pycache__").glob("t.toml.*")
    kept.write_bytes(b"\x00garbage")
    assert files._parsed("t.toml", lambda raw: tomllib.loads(raw.decode())) == {"a": 1}


def test_nothing_is_kept_where_bytecode_would_not_be_written(tmp_path, monkeypatch):
    data = _kept_in(tmp_path, monkeypatch, write=False)
    (data / "t.toml").write_text("a = 1\n")
    assert files._parsed("t.toml", lambda raw: tomllib.loads(raw.decode())) == {"a": 1}
    assert not (data / "__pycache__").exists()


def test_a_folder_that_cannot_be_written_is_no_error(tmp_path, monkeypatch):
    data = _kept_in(tmp_path, monkeypatch)
    (data / "t.toml").write_text("a = 1\n")
    (data / "__pycache__").write_text("a file where the folder would be")
    assert files._parsed("t.toml", lambda raw: tomllib.loads(raw.decode())) == {"a": 1}


def test_csv_rows_are_those_of_dictreader():
    text = '# a comment\na,b,c\r\n1,2\r\n\r\n1,2,3,4\n"x\ny",2,3\n# another\n5,6,7\n'
    lines = [line for line in io.StringIO(text, newline="") if not line.startswith("#")]
    assert files._parse_csv(text.encode()) == tuple(csv.DictReader(lines))
    for name in sorted(p.name for p in files.DATA_DIR.glob("*.csv")):
        with open(files.DATA_DIR / name, newline="") as fh:
            assert files.read_csv(name) == tuple(csv.DictReader([r for r in fh if not r.startswith("#")])), name


def test_a_kept_form_is_readable_by_whoever_reads_its_source(tmp_path, monkeypatch):
    data = _kept_in(tmp_path, monkeypatch)
    (data / "t.toml").write_text("a = 1\n")
    (data / "t.toml").chmod(0o644)
    files._parsed("t.toml", lambda raw: tomllib.loads(raw.decode()))
    (kept,) = (data / "__pycache__").glob("t.toml.*")
    assert kept.stat().st_mode & 0o777 == 0o644
