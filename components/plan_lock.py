"""The plan lock: `pulumi up` deploys the plan recorded next to the stack (stacks/Pulumi.<stack>.plan.json), not a plan
made again from live facts, so that a spot price moving between preview and up cannot flip the instance type or
count. `python -m sizing plan --stack stacks/Pulumi.<stack>.yaml --update-lock` rewrites the lock on purpose; a run
whose fresh plan differs from the lock says what changed and why, and deploys the lock.

No Pulumi here: the program (__main__.py), the LlmServingFleet component and the CLI share this one function set."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from sizing.errors import SizingError
from sizing.planner.results import Plan

LOCK_VERSION = 1
LOCK_SUFFIX = ".plan.json"


class PlanLockError(ValueError, SizingError):
    """The lock cannot be used for this stack (it was made for another request, or it cannot be read)."""


class PlanLock(BaseModel):
    """What a lock file holds."""

    model_config = ConfigDict(frozen=True)

    lock_version: int
    """Format version of the file."""
    config_sha256: str
    """Fingerprint of the stack's llmfleet:* config (and region) the plan was made from: what the user wrote, so that
    live facts and planner changes do not invalidate the lock, while an edited config does."""
    plan: Plan
    """The plan to deploy."""


class LockDecision(BaseModel):
    """The plan to deploy and what to tell the user about it."""

    model_config = ConfigDict(frozen=True)

    plan: Plan
    """The plan the program deploys: the locked one when there is a lock."""
    locked: bool
    """Whether it came from the lock."""
    messages: tuple[str, ...]
    """Warnings: no lock yet, or how the fresh plan differs from the lock and why."""


def lock_path(stack_file: str | Path) -> Path:
    """stacks/Pulumi.dev.plan.json for stacks/Pulumi.dev.yaml."""
    path = Path(stack_file)
    stem = path.name.removesuffix(".yaml").removesuffix(".yml")
    return path.with_name(stem + LOCK_SUFFIX)


def config_fingerprint(config: dict[str, Any], region: str | None) -> str:
    """sha256 of the stack's llmfleet:* values (keys without the namespace) and its region."""
    text = json.dumps({"config": config, "region": region}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def write_lock(path: str | Path, config: dict[str, Any], region: str | None, plan: Plan) -> Path:
    """Record the plan for the stack config (the --update-lock step)."""
    lock = PlanLock(lock_version=LOCK_VERSION, config_sha256=config_fingerprint(config, region), plan=plan)
    target = Path(path)
    target.write_text(json.dumps(lock.model_dump(mode="json"), indent=1, sort_keys=True) + "\n")
    return target


def read_lock(path: str | Path) -> PlanLock | None:
    """The lock at path, or None when there is none."""
    target = Path(path)
    if not target.exists():
        return None
    try:
        lock = PlanLock.model_validate_json(target.read_text())
    except ValueError as exc:
        raise PlanLockError(f"plan lock {str(target)!r} cannot be read ({str(exc).splitlines()[0]}). To fix: "
                            f"rewrite it with `python -m sizing plan --stack <stack file> --update-lock`.") from None
    if lock.lock_version != LOCK_VERSION:
        raise PlanLockError(f"plan lock {str(target)!r} has format {lock.lock_version}, this version reads "
                            f"{LOCK_VERSION}. To fix: rewrite it with --update-lock.")
    return lock


def _choice_fields(plan: Plan) -> dict[str, object]:
    c = plan.choice
    return {"instance type": c.instance_type, "instances": c.instances, "on-demand instances": c.on_demand_instances,
            "spot instances": c.spot_instances, "tensor parallel": c.tensor_parallel, "pipeline parallel": c.pipeline_parallel,
            "nodes per replica": c.nodes_per_replica, "replicas": c.replicas, "purchase": c.purchase,
            "weights": plan.weights, "kv cache dtype": plan.kv_dtype, "max model len": plan.max_model_len}


def _why(locked: Plan, fresh: Plan) -> list[str]:
    """The inputs that moved: prices and where the facts came from."""
    reasons = []
    for name, old, new in (("on-demand", locked.choice.on_demand_usd_per_hour, fresh.choice.on_demand_usd_per_hour),
                           ("spot", locked.choice.spot_usd_per_hour, fresh.choice.spot_usd_per_hour)):
        if locked.choice.instance_type == fresh.choice.instance_type and abs(old - new) > 0.005:
            reasons.append(f"{name} price of {locked.choice.instance_type} {old:.2f} -> {new:.2f} USD/h")
    if locked.fact_sources != fresh.fact_sources:
        reasons.append(f"facts {locked.fact_sources} -> {fresh.fact_sources}")
    if locked.prices_as_of != fresh.prices_as_of:
        reasons.append(f"catalog prices as of {locked.prices_as_of} -> {fresh.prices_as_of}")
    return reasons or ["the planner or its catalog changed (same request, same facts)"]


def plan_differences(locked: Plan, fresh: Plan) -> list[str]:
    """What differs between the locked and the fresh plan (empty: the same fleet), then why."""
    old, new = _choice_fields(locked), _choice_fields(fresh)
    changed = [f"{k}: {old[k]} (locked) -> {new[k]} (fresh)" for k in old if old[k] != new[k]]
    cost = (locked.choice.hourly_cost_usd, fresh.choice.hourly_cost_usd)
    if changed or abs(cost[0] - cost[1]) > 0.005:
        changed.append(f"hourly cost: {cost[0]:.2f} (locked) -> {cost[1]:.2f} (fresh) USD")
        changed += [f"why: {r}" for r in _why(locked, fresh)]
    return changed


def decide(path: str | Path, config: dict[str, Any], region: str | None, fresh: Plan) -> LockDecision:
    """The plan to deploy for a stack: the lock at path when there is one (after checking it was made from this
    config), else the fresh plan with a warning."""
    lock = read_lock(path)
    update = f"`python -m sizing plan --stack {Path(path).name.removesuffix(LOCK_SUFFIX)}.yaml --update-lock`"
    if lock is None:
        return LockDecision(plan=fresh, locked=False, messages=(
            f"plan lock: no {Path(path).name}; deploying a plan made from live facts just now, which may differ at the "
            f"next run. To fix: lock it with {update} and commit the file.",))
    if lock.config_sha256 != config_fingerprint(config, region):
        raise PlanLockError(f"plan lock {Path(path).name} was made for a different stack config (model, workload, "
                            f"deployment or assumptions changed). To fix: review the new plan with {update} and commit it.")
    changes = plan_differences(lock.plan, fresh)
    messages = (f"plan lock: the fresh plan differs from {Path(path).name}; deploying the locked plan. "
                f"Differences: " + "; ".join(changes) + f". To adopt the fresh plan: {update}.",) if changes else ()
    return LockDecision(plan=lock.plan, locked=True, messages=messages)


def plan_stack_file(stack_file: str | Path, update_lock: bool) -> tuple[Plan, list[str]]:
    """Plan a stack file as the program does (pre-flight facts included). With update_lock, record the fresh plan as
    the stack's lock; otherwise compare it with the lock. Returns (the plan the stack deploys, messages)."""
    import yaml  # the pulumi extra; imported here so that the engine-only CLI never needs it

    from components.preflight import facts_for, with_facts
    from components.stack_config import NAMESPACE, load_stack_config
    from sizing.planner.plan import plan

    raw = (yaml.safe_load(Path(stack_file).read_text()) or {}).get("config") or {}
    ours = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith(f"{NAMESPACE}:")}
    region = raw.get("aws:region")
    stack = load_stack_config(ours, aws_region=region)
    fresh = plan(with_facts(stack.request, facts_for(stack)))
    path = lock_path(stack_file)
    if update_lock:
        return fresh, [f"plan lock written: {write_lock(path, ours, region, fresh)}"]
    decision = decide(path, ours, region, fresh)
    return decision.plan, list(decision.messages)
