"""`plan --stack` after an edit (issue 21, item 6): the fresh plan in full beside the lock's differences, its own exit
code; an edit that does not size the fleet keeps the lock."""

from __future__ import annotations

import json
import shutil

import pytest

from deploy.plan_lock import SIZING_KEYS, lock_path, read_lock
from sizing.cli.main import EXIT_STALE_LOCK, main
from tests.stack_runs import STACKS


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "off")


def locked_copy(tmp_path, stack: str):
    target = tmp_path / STACKS[stack].name
    shutil.copy(STACKS[stack], target)
    shutil.copy(lock_path(STACKS[stack]), lock_path(target))
    return target


def test_an_edit_shows_the_fresh_plan_and_exits_with_its_own_code(tmp_path, capsys):
    """Reproducer: after an edit `plan --stack` exited 2 (bad input) with a summary only."""
    stack = locked_copy(tmp_path, "dev")
    stack.write_text(stack.read_text().replace("concurrency: 16", "concurrency: 64"))
    code = main(["plan", "--stack", str(stack)])
    out, err = capsys.readouterr()
    assert code == EXIT_STALE_LOCK == 3
    assert "changed since: workload.concurrency: 16 -> 64" in out and "(locked) ->" in out
    assert "Workload: interactive, 64 concurrent" in out and "\nChoice: " in out and "\nAlternatives (" in out
    assert "--update-lock" in err
    assert main(["plan", "--stack", str(stack), "--json"]) == EXIT_STALE_LOCK
    data = json.loads(capsys.readouterr().out)
    assert data["plan_lock"]["status"] == "stale" and data["workload"]["concurrency"] == 64


@pytest.mark.parametrize(
    "edit",
    [
        ("    tags:\n", "    tags:\n      owner: someone\n"),
        ("    weights:\n", "    weights:\n      hf_model_id: meta-llama/Llama-3.1-8B-Instruct\n"),
    ],
)
def test_an_edit_that_does_not_size_the_fleet_keeps_the_lock(tmp_path, capsys, edit):
    """Reproducer: adding `hf_model_id` invalidated the lock."""
    stack = locked_copy(tmp_path, "dev")
    text = stack.read_text()
    assert edit[0] in text
    stack.write_text(text.replace(edit[0], edit[1], 1))
    assert main(["plan", "--stack", str(stack), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["plan_lock"]["status"] == "locked"


def test_the_committed_locks_record_the_sizing_keys():
    for stack in STACKS.values():
        lock = read_lock(lock_path(stack))
        assert lock is not None and lock.config is not None
        assert set(lock.config["config"]) & set(SIZING_KEYS)


def test_a_stack_plan_says_why_it_keeps_the_checkpoint_weights(capsys):
    """Reproducer (the stack side): the same workload as a stack planned bf16 without saying why."""
    from tests.sizing.test_cli_usability import DEV_WORKLOAD

    assert main(["plan", "--stack", str(STACKS["dev"]), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["weights"] == "bf16"
    assert "a stack file's default" in data["weights_note"] and "weights: auto" in data["weights_note"]
    assert main(["plan", *DEV_WORKLOAD, "--weights", "native", "--json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    assert cli["choice"]["instance_type"] == data["choice"]["instance_type"]  # the same plan, asked alike
