"""A plan lock forged, edited by hand, of another format, not a regular file, behind a symlink or on a full disk:
refused before any resource, never echoed raw, never half-written (issue 22, hostile input round three)."""

from __future__ import annotations

import errno
import json
import os

import pytest

from deploy.plan_lock import lock_path
from preview.__main__ import main as preview
from tests.fuzz.harness import check, run_cli
from tests.fuzz.stack_copies import HF_TOKEN, dev_copy, forge, refused_before_any_resource, set_in_plan

pytestmark = pytest.mark.usefixtures("preflight_off")


LOCK_EDITS = {
    "backdoored checkpoint": set_in_plan("checkpoint", "repo", value="attacker/Llama-3.1-8B-Instruct-backdoored"),
    "TP 1024 on one GPU": set_in_plan("choice", "tensor_parallel", value=1024),
    "minSize -5": set_in_plan("choice", "instances", value=-5),
    "1e9 instances": set_in_plan("choice", "instances", value=10**9),
    "gpu-memory-utilization 5": set_in_plan("choice", "memory", "gpu_memory_utilization", value=5),
    "max-model-len -1": set_in_plan("max_model_len", value=-1),
    "max-num-seqs -5": set_in_plan("choice", "batch_per_replica", value=-5),
    "a flag smuggled as a value": set_in_plan("vllm_quantization", value="--trust-remote-code"),
    "another region": set_in_plan("region", value="eu-west-1"),
    "another model": set_in_plan("model", value="llama-3.1-70b"),
    "a p5.48xlarge alternative": lambda plan: plan["alternatives"][0]["candidate"].update(instance_type="p5.48xlarge"),
    "a negative price": set_in_plan("choice", "hourly_cost_usd", value=-1.0),
}


@pytest.mark.parametrize("edit", sorted(LOCK_EDITS))
def test_a_forged_lock_is_refused_before_any_resource(tmp_path, capsys, edit):
    stack = dev_copy(tmp_path)
    forge(stack, LOCK_EDITS[edit])
    err = refused_before_any_resource(stack, capsys)
    assert "--update-lock" in err and "attacker" not in err


def test_a_lock_edited_by_hand_is_refused_and_says_so(tmp_path, capsys):
    stack = dev_copy(tmp_path)
    path = lock_path(stack)
    path.write_text(path.read_text().replace('"meta-llama/Llama-3.1-8B-Instruct"', '"attacker/x"'))
    assert "edited by hand" in refused_before_any_resource(stack, capsys)


def test_a_lock_of_the_previous_format_is_refused(tmp_path, capsys):
    stack = dev_copy(tmp_path)
    data = json.loads(lock_path(stack).read_text())
    data["lock_version"] = 1
    del data["plan_sha256"]
    lock_path(stack).write_text(json.dumps(data))
    assert "format 1" in refused_before_any_resource(stack, capsys)


def test_the_lock_own_text_is_never_echoed_raw_and_preview_shows_warnings(tmp_path, capsys):
    stack = dev_copy(tmp_path)
    forge(stack, set_in_plan("warnings", value=[f"{HF_TOKEN} \x1b[31mred\x07"]))
    assert preview([str(stack)]) == 0
    out = capsys.readouterr()
    assert HF_TOKEN not in out.out + out.err and "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err
    assert "warning:" in out.err  # the program's warnings, as `pulumi preview` prints them


@pytest.mark.parametrize("kind", ["fifo", "folder", "/dev/zero", "symlink to /dev/zero"])
def test_a_lock_that_is_not_a_regular_file_is_refused_in_time(tmp_path, kind):
    stack = dev_copy(tmp_path)
    lock = lock_path(stack)
    lock.unlink()
    if kind == "fifo":
        os.mkfifo(lock)
    elif kind == "folder":
        lock.mkdir()
    else:
        lock.symlink_to("/dev/zero")
    argv = ["plan", "--stack", str(stack)]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == 2 and "plan lock" in outcome.err


def test_update_lock_never_writes_through_a_symlink(tmp_path):
    stack = dev_copy(tmp_path)
    target = tmp_path / "elsewhere.json"
    target.write_text("keep")
    lock_path(stack).unlink()
    lock_path(stack).symlink_to(target)
    argv = ["plan", "--stack", str(stack), "--update-lock"]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == 2 and "symbolic link" in outcome.err and target.read_text() == "keep"


def test_a_full_disk_leaves_the_old_lock_whole_and_no_partial_file(tmp_path, monkeypatch):
    stack = dev_copy(tmp_path)
    before = lock_path(stack).read_bytes()

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    argv = ["plan", "--stack", str(stack), "--update-lock"]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == 2 and "the disk is full" in outcome.err
    assert lock_path(stack).read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [stack.name, lock_path(stack).name]
    )
