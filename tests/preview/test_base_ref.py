"""The report's base side is planned by the base commit's own code (a prices-only change shows as a cost change), and
every emitted resource's inputs are diffed (an image change is an update of the launch template, a CIDR change a
replacement of the named rule), with input values never shown."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from preview.base import cache_file
from preview.cli import report_command
from preview.report import build, render_json, render_markdown
from tests.preview.conftest import load

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "stacks/Pulumi.dev.yaml"
CODE = ["sizing", "deploy", "components", "preview", "__main__.py"]
BASE_PRICE_FACTOR = 0.9
"""The base commit's on-demand price of the head plan's instance type, as a fraction of this checkout's."""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory) -> tuple[Path, str]:
    """A one-commit repository: this checkout's code and dev stack, except that the instance type the dev stack plans
    costs less in prices.csv. Returns the repository, its commit and the head and base hourly prices of that type."""
    repo = tmp_path_factory.mktemp("base-repo")
    for item in CODE:
        src = ROOT / item
        if src.is_dir():
            shutil.copytree(src, repo / item, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, repo / item)
    (repo / "stacks").mkdir()
    shutil.copy(DEV, repo / "stacks" / DEV.name)
    chosen = load(DEV).plan
    assert chosen is not None
    head_price, base_price = lower_price(repo / "sizing/data/prices.csv", chosen.instance_type, BASE_PRICE_FACTOR)
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "base")
    return repo, git(repo, "rev-parse", "HEAD"), head_price, base_price


def lower_price(prices: Path, instance_type: str, factor: float) -> tuple[float, float]:
    """Rewrites the us-east-1 on-demand price of one type in a prices.csv copy; returns (old, new) USD per hour."""
    lines = prices.read_text().splitlines(keepends=True)
    prefix = f"{instance_type},us-east-1,true,"
    [index] = [i for i, line in enumerate(lines) if line.startswith(prefix)]
    old = lines[index][len(prefix) :].split(",", 1)[0]
    new = f"{float(old) * factor:.4f}"
    lines[index] = prefix + new + lines[index][len(prefix) + len(old) :]
    prices.write_text("".join(lines))
    return float(old), float(new)


def test_a_prices_only_change_shows_as_a_cost_change(base_repo, tmp_path, monkeypatch):
    repo, commit, head_price, base_price = base_repo
    monkeypatch.setenv("LLMFLEET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(repo)
    out = tmp_path / "report.json"
    assert report_command([str(DEV)], [], "json", str(out), base_ref=commit) == 0
    stack = json.loads(out.read_text())["stacks"][0]
    assert stack["name"] == "dev" and stack["status"] == "changed"
    assert stack["base"]["plan"]["instance_type"] == stack["head"]["plan"]["instance_type"]
    hours = stack["head"]["plan"]["assumptions"]["hours_per_month"]
    instances = stack["head"]["plan"]["choice"]["instances"]
    expected = (head_price - base_price) * hours * instances
    assert stack["head_monthly_cost_usd"] - stack["base_monthly_cost_usd"] == pytest.approx(expected, rel=0.01)
    assert stack["resource_changes"] == []  # same resources: only the price moved
    assert cache_file(commit).exists()  # cached by commit and export driver
    assert cache_file(commit).parent == tmp_path / "cache" / "report"


def test_the_commit_cache_is_reused(base_repo, tmp_path, monkeypatch):
    from preview.base import base_stacks

    repo, commit, _, _ = base_repo
    monkeypatch.setenv("LLMFLEET_CACHE_DIR", str(tmp_path))
    (tmp_path / "report").mkdir()
    cache_file(commit).write_text('[{"name": "cached", "plan": null, "error": "x", "inputs": {}}]')
    assert base_stacks(commit, repo)[0]["name"] == "cached"


def test_an_unknown_base_ref_is_a_clear_error(base_repo, capsys, monkeypatch):
    repo, *_ = base_repo
    monkeypatch.chdir(repo)
    assert report_command([str(DEV)], [], "markdown", None, base_ref="no-such-branch") == 2
    assert "To fix: pass a commit, branch or tag" in capsys.readouterr().err


def _variant(tmp_path: Path, old: str, new: str) -> Path:
    text = DEV.read_text()
    assert old in text
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(text.replace(old, new))
    return path


def test_an_image_change_is_an_update_of_the_launch_template(tmp_path):
    head = _variant(tmp_path, "  llmfleet:fleet:\n", "  llmfleet:fleet:\n    vllm_image: vllm/vllm-openai:v0.19.1\n")
    report = build([load(head)], [load(DEV)])
    changes = [(c.action, c.name, c.inputs) for c in report.diffs[0].changes]
    assert changes == [("update", "dev-compute-node", ("userData",))]
    assert report.diffs[0].status == "changed"
    text = render_markdown(report)
    assert "| update | `aws:ec2/launchTemplate:LaunchTemplate` | `dev-compute-node` | `userData` |" in text
    assert "v0.19.1" not in text  # values are never shown


def test_a_cidr_change_names_the_rule_and_replaces_it(tmp_path):
    head = _variant(tmp_path, '["10.0.0.0/8"]', '["10.42.0.0/16"]')  # still inside the created VPC
    changes = build([load(head)], [load(DEV)]).diffs[0].changes
    assert [(c.action, c.type, c.name, c.inputs) for c in changes] == [
        ("replace", "aws:ec2/securityGroupRule:SecurityGroupRule", "dev-net-client-cidr-0", ("cidrBlocks",))
    ]
    assert render_json(build([load(head)], [load(DEV)]))["stacks"][0]["resource_changes"][0]["action"] == "replace"


def test_a_base_plan_written_by_another_engine_version_is_read():
    """The base commit's engine may write fields this version has dropped (or not yet added): they are ignored."""
    from preview.inputs import read_plan

    plan = load(DEV).plan
    assert plan is not None
    data = json.loads(plan.model_dump_json())
    data["workload"]["field_from_another_version"] = 1
    data["field_from_another_version"] = {"x": 1}
    assert read_plan(json.dumps(data)).instance_type == plan.instance_type
    del data["choice"]
    with pytest.raises(Exception, match="choice"):
        read_plan(json.dumps(data))


def test_a_base_interpreter_that_cannot_run_is_a_clear_error(base_repo, tmp_path, capsys, monkeypatch):
    repo, commit, *_ = base_repo
    monkeypatch.setenv("LLMFLEET_CACHE_DIR", str(tmp_path))
    monkeypatch.chdir(repo)
    from sizing.cli.main import main

    assert main(["report", "--base-ref", commit, "--base-python", str(tmp_path / "no-python")]) == 2
    assert "cannot run the base's interpreter" in capsys.readouterr().err
