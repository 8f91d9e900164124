"""The fleet's vLLM runs the draft the plan assumed (issue 19, item 9), its flags built from typed plan fields."""

import pytest
from pydantic import ValidationError

from deploy.fleet_spec import vllm_args
from deploy.options import FleetOptions
from deploy.plan_lock import LOCK_VERSION, PlanLock, PlanLockError, plan_digest, verify_lock
from deploy.shell_values import checked
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload
from sizing.planner.results import Plan


def _plan(model: str, method: str, types: tuple[str, ...]) -> Plan:
    return plan(
        PlanRequest(
            model=load_preset(model),
            workload=Workload(concurrency=8),
            deployment=Deployment(speculative=method, instance_types=types),
        )
    )


@pytest.mark.parametrize(
    "model,method,types,flags",
    [
        (
            "llama-3.1-8b",
            "eagle3",
            ("g6e.xlarge",),
            [
                "--speculative-config.method",
                "eagle3",
                "--speculative-config.model",
                "yuhuili/EAGLE3-LLaMA3.1-Instruct-8B",
            ],
        ),
        (
            "deepseek-r1",
            "mtp",
            ("p5en.48xlarge",),
            ["--speculative-config.method", "mtp", "--speculative-config.num_speculative_tokens", "1"],
        ),
    ],
)
def test_the_node_runs_the_planned_draft(model, method, types, flags):
    p = _plan(model, method, types)
    args = list(vllm_args(p, FleetOptions(), p.model))
    for flag, value in zip(flags[::2], flags[1::2], strict=True):
        assert args[args.index(flag) + 1] == value
    assert all(checked("vLLM argument", a) for a in args)  # every value passes the bootstrap script's pattern


def test_a_plan_lock_cannot_smuggle_a_draft_flag():
    p = _plan("llama-3.1-8b", "eagle3", ("g6e.xlarge",)).model_dump(mode="json")
    p["speculative"]["draft_repo"] = "x/y --trust-remote-code"
    with pytest.raises(ValidationError, match="draft_repo"):
        Plan.model_validate(p)
    p["speculative"]["draft_repo"], p["speculative"]["vllm_method"] = None, "ngram; rm -rf /"
    with pytest.raises(ValidationError, match="vllm_method"):
        Plan.model_validate(p)


def _lock(p: Plan) -> PlanLock:
    return PlanLock(lock_version=LOCK_VERSION, config_sha256="", plan=p, plan_sha256=plan_digest(p))


def test_a_locked_draft_is_verified_by_the_engine():
    """The draft is a vLLM flag on every node: a lock whose speculative block is not the engine's is refused by name
    (its digest rewritten, as a forger would), and the engine's own lock passes."""
    req = PlanRequest(
        model=load_preset("llama-3.1-8b"),
        workload=Workload(concurrency=8),
        deployment=Deployment(speculative="eagle3", instance_types=("g6e.xlarge",)),
    )
    p = plan(req)
    verify_lock(_lock(p), req, "dev")  # the engine's own plan: no error
    assert p.speculative is not None
    edits = {
        "speculative.num_speculative_tokens": {"num_speculative_tokens": 7},
        "speculative.mean_acceptance_length": {"mean_acceptance_length": 4.0},
        "speculative.draft_repo": {"draft_repo": "attacker/EAGLE3-LLaMA3.1-Instruct-8B"},
    }
    for field, update in edits.items():
        forged = p.model_copy(update={"speculative": p.speculative.model_copy(update=update)})
        with pytest.raises(PlanLockError, match=field.replace(".", r"\.")) as err:
            verify_lock(_lock(forged), req, "dev")
        assert "attacker" not in str(err.value)
    with pytest.raises(PlanLockError, match="speculative"):  # a draft dropped from the lock
        verify_lock(_lock(p.model_copy(update={"speculative": None})), req, "dev")
    no_draft = req.model_copy(update={"deployment": req.deployment.model_copy(update={"speculative": None})})
    with pytest.raises(PlanLockError, match="differs from what today's engine derives"):  # a draft not asked for
        verify_lock(_lock(p), no_draft, "dev")
