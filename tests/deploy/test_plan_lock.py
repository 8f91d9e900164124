"""The plan lock: the program deploys the plan recorded next to the stack; a fresh plan that differs (live spot
prices moved) is reported with what changed and why, and does not change the resources."""

from __future__ import annotations

import shutil

import pytest

import deploy.preflight as preflight
from deploy.plan_lock import PlanLockError, decide, lock_path, plan_differences, read_lock
from preview.mock_run import MockRun, run_stack
from sizing.cli.main import main
from sizing.live.facts import embedded_facts
from tests.stack_runs import STACKS, stack_run


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "off")  # the CLI's pre-flight uses the embedded catalog, as mocked runs do


@pytest.mark.parametrize("stack", sorted(STACKS))
def test_example_stacks_deploy_their_committed_lock(stack):
    run = stack_run(stack)
    lock = read_lock(lock_path(STACKS[stack]))
    assert lock is not None and run.outputs["plan_locked"] is True
    assert run.plan == lock.plan
    assert not [line for line in run.logs if "plan lock" in line]  # the fresh plan is the locked one today


def locked_copy(tmp_path, stack: str):
    target = tmp_path / STACKS[stack].name
    shutil.copy(STACKS[stack], target)
    assert main(["plan", "--stack", str(target), "--update-lock"]) == 0
    return target


def test_spot_price_moving_does_not_flip_the_fleet(tmp_path, monkeypatch, capsys):
    stack = locked_copy(tmp_path, "prod")
    locked = read_lock(lock_path(stack)).plan
    chosen = locked.instance_type

    def pricier_spot(stack_cfg, clients=None):  # live facts: the chosen type's spot price tripled since the lock
        facts = embedded_facts(stack_cfg.request.deployment.region, "test")
        return facts.model_copy(update={"spot_usd_per_hour": {chosen: locked.choice.on_demand_usd_per_hour * 3}})

    monkeypatch.setattr(preflight, "facts_for", pricier_spot)
    run = run_stack(stack, MockRun(stack="prod"))
    assert run.plan == locked and run.one("LaunchTemplate").inputs["instanceType"] == chosen
    (warning,) = [line for line in run.logs if "plan lock" in line]
    assert "differs from Pulumi.prod.plan.json; deploying the locked plan" in warning
    assert "(locked) ->" in warning and "why:" in warning and "--update-lock" in warning


def test_edited_config_needs_a_new_lock(tmp_path):
    stack = locked_copy(tmp_path, "dev")
    stack.write_text(stack.read_text().replace("concurrency: 16", "concurrency: 64"))
    recorded = MockRun(stack="dev")
    with pytest.raises(Exception, match="made for different stack config") as raised:
        run_stack(stack, recorded)
    assert not [r for r in recorded.resources if r.custom]
    # what changed, in the stack's terms, and what the fresh plan for the new config would deploy instead
    assert "changed since: workload.concurrency: 16 -> 64" in str(raised.value)
    assert "(locked) ->" in str(raised.value) and "why:" not in str(raised.value)


def test_a_stale_lock_names_changed_strings_by_key_only(tmp_path):
    """A stack value may be a decrypted Pulumi secret at run time: only numbers and booleans are echoed."""
    from deploy.plan_lock import config_changes

    old = {"config": {"fleet": {"api_key_secret_arn": "arn:one", "public": False}, "model": "a"}, "region": "us-east-1"}
    new = {"config": {"fleet": {"api_key_secret_arn": "arn:two", "public": True}}, "region": "us-east-1"}
    assert config_changes(old, new) == [
        "fleet.api_key_secret_arn changed",
        "fleet.public: False -> True",
        "model removed",
    ]


def test_without_a_lock_the_fresh_plan_deploys_with_a_warning(tmp_path):
    target = tmp_path / "Pulumi.dev.yaml"
    shutil.copy(STACKS["dev"], target)
    run = run_stack(target, MockRun(stack="dev"))
    assert run.outputs["plan_locked"] is False
    assert any("no Pulumi.dev.plan.json" in line for line in run.logs)


def test_cli_compares_with_the_lock_and_refuses_update_without_stack(tmp_path, capsys):
    stack = locked_copy(tmp_path, "dev")
    capsys.readouterr()
    assert main(["plan", "--stack", str(stack)]) == 0
    assert "Plan for llama-3.1-8b" in capsys.readouterr().out
    assert main(["plan", "--update-lock"]) == 2


def test_differences_name_each_field_and_a_lock_for_another_config_is_refused(tmp_path):
    stack = locked_copy(tmp_path, "dev")
    lock = read_lock(lock_path(stack))
    other = lock.plan.model_copy(update={"choice": lock.plan.choice.model_copy(update={"instances": 7})})
    changes = plan_differences(lock.plan, other)
    assert changes[0] == f"instances: {lock.plan.instances} (locked) -> 7 (fresh)"
    assert plan_differences(lock.plan, lock.plan) == []
    with pytest.raises(PlanLockError):
        decide(lock_path(stack), {"model": "other"}, "us-east-1", other, None)  # type: ignore[arg-type]


def test_the_lock_own_preflight_notices_are_not_repeated(tmp_path, monkeypatch):
    stack = locked_copy(tmp_path, "dev")  # locked with pre-flight off
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "on")
    run = run_stack(stack, MockRun(stack="dev"))
    assert any("pre-flight: no AWS credentials" in line for line in run.logs)  # this run's
    assert not any("LLMFLEET_PREFLIGHT=off" in line for line in run.logs)  # the lock's
