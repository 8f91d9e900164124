"""The plan lock: `pulumi up` deploys the plan recorded next to the stack (stacks/Pulumi.<stack>.plan.json), not a plan
made again from live facts, so that a spot price moving between preview and up cannot flip the instance type or
count. `python -m sizing plan --stack stacks/Pulumi.<stack>.yaml --update-lock` rewrites the lock on purpose; a run
whose fresh plan differs from the lock says what changed and why, and deploys the lock.

No resources here: the LlmServingFleet component (so the program) and the CLI share these functions."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from components.stack_config import StackConfig
from sizing.errors import SizingError
from sizing.live.preflight import ClientFactory
from sizing.planner.results import Plan

if TYPE_CHECKING:
    from components.fixed_costs import FixedCosts

LOCK_VERSION = 1
LOCK_SUFFIX = ".plan.json"
PREFLIGHT_NOTICE = "pre-flight:"
"""How pre-flight notices start: they describe the run that made a plan, so a lock's own are not repeated."""
STACKS_DIR_ENV = "LLMFLEET_STACKS_DIR"
"""Folder of the stack files and their locks (default: ./stacks, the project's stackConfigDir)."""


class PlanLockError(ValueError, SizingError):
    """The lock cannot be used for this stack (it was made for other config, or it cannot be read)."""


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
    config: dict[str, Any] | None = None
    """The llmfleet:* config and region the plan was made from, as fingerprinted (locks written before this field
    have none): lets a stale lock say which keys changed."""


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


def stack_lock_path(stack: str) -> Path:
    """The lock of a Pulumi stack by name: <stacks dir>/Pulumi.<stack>.plan.json."""
    folder = Path(os.environ.get(STACKS_DIR_ENV) or Path.cwd() / "stacks")
    return lock_path(folder / f"Pulumi.{stack}.yaml")


def _known(value: Any) -> Any:
    """The value with anything not known yet (a pulumi Output: ids and ARNs that only wire resources) as a marker."""
    if isinstance(value, dict):
        return {str(k): _known(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_known(v) for v in value]
    return value if value is None or isinstance(value, (str, int, float, bool)) else "<known at deployment>"


def _fingerprinted(config: dict[str, Any], region: str | None) -> dict[str, Any]:
    return {"config": _known(config), "region": region}


def config_fingerprint(config: dict[str, Any], region: str | None) -> str:
    """sha256 of the stack's llmfleet:* values (keys without the namespace) and its region."""
    text = json.dumps(_fingerprinted(config, region), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _leaves(item, f"{path}.{key}" if path else str(key)).items()}
    return {path: value}


def config_changes(locked: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """The keys that differ between two fingerprinted configs ('workload.tpot_ms: 40 -> 25'); numbers and booleans are
    shown, any other value only by its key (a stack value may be a decrypted Pulumi secret)."""
    old, new = _leaves(locked), _leaves(current)
    shown = (int, float, bool, type(None))
    out = []
    for key in sorted(set(old) | set(new)):
        name = key.removeprefix("config.")
        if key not in new:
            out.append(f"{name} removed")
        elif key not in old:
            out.append(f"{name} added")
        elif old[key] != new[key]:
            values = isinstance(old[key], shown) and isinstance(new[key], shown)
            out.append(f"{name}: {old[key]} -> {new[key]}" if values else f"{name} changed")
    return out


def write_lock(path: str | Path, config: dict[str, Any], region: str | None, plan: Plan) -> Path:
    """Record the plan for the stack config (the --update-lock step)."""
    lock = PlanLock(lock_version=LOCK_VERSION, config_sha256=config_fingerprint(config, region), plan=plan,
                    config=_fingerprinted(config, region))
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
    stack_file = os.path.relpath(Path(path).with_name(Path(path).name.removesuffix(LOCK_SUFFIX) + ".yaml"))
    update = f"`python -m sizing plan --stack {stack_file} --update-lock`"
    if lock is None:
        return LockDecision(plan=fresh, locked=False, messages=(
            f"plan lock: no {Path(path).name}; deploying a plan made from live facts just now, which may differ at the "
            f"next run. To fix: lock it with {update} and commit the file.",))
    if lock.config_sha256 != config_fingerprint(config, region):
        changed = (config_changes(lock.config, _fingerprinted(config, region)) if lock.config else None) or [
            "an llmfleet:* value or aws:region"]
        fresh_diff = [d for d in plan_differences(lock.plan, fresh) if not d.startswith("why: ")]
        raise PlanLockError(
            f"plan lock {Path(path).name} was made for different stack config (changed since: {'; '.join(changed)}). "
            + (f"The fresh plan for this config differs from the lock: {'; '.join(fresh_diff)}. " if fresh_diff else
               "The fresh plan for this config deploys the same fleet. ")
            + f"To fix: review the new plan with {update} and commit it.")
    changes = plan_differences(lock.plan, fresh)
    messages = (f"plan lock: the fresh plan differs from {Path(path).name}; deploying the locked plan. "
                f"Differences: " + "; ".join(changes) + f". To adopt the fresh plan: {update}.",) if changes else ()
    return LockDecision(plan=lock.plan, locked=True, messages=messages)


class DeployPlan(BaseModel):
    """What a deployment of a stack uses: the plan to deploy and what this run learned."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    plan: Plan
    """The plan to deploy (the lock's, when the stack has one)."""
    fresh: Plan
    """The plan made from this run's facts."""
    locked: bool
    """Whether the deployed plan came from the lock."""
    warnings: tuple[str, ...]
    """Lock differences, plan warnings, quota shortfalls set to warn, capacity signals."""
    offered_zones: tuple[str, ...] | None
    """Zones of the fleet's subnets that offer the deployed type (None: unknown)."""


def plan_for_deploy(stack: StackConfig, config: dict[str, Any], region: str | None, lock: Path,
                    clients: ClientFactory | None = None) -> DeployPlan:
    """Pre-flight, the fresh plan, the lock decision, then quotas and capacity signals for the plan deployed. Raises
    the engine's SizingError on an infeasible plan, a quota shortfall set to fail or a lock for another config."""
    from components.fleet_spec import verify_with_platform
    from components.preflight import cluster_notices, enforce_quotas, facts_for, image_notices, signals_for, with_facts
    from sizing.planner.plan import plan

    facts = facts_for(stack, clients)
    fresh = plan(with_facts(stack.request, facts))
    decision = decide(lock, config, region, fresh)
    deployed = decision.plan
    verify_with_platform(deployed, stack.fleet)
    lock_time = [w for w in deployed.warnings if deployed is not fresh and w.startswith(PREFLIGHT_NOTICE)]
    kept = [w for w in deployed.warnings if w not in lock_time]  # this run's pre-flight notices, not the lock's
    warnings = [*decision.messages, *dict.fromkeys([*fresh.warnings, *kept]),
                *enforce_quotas(deployed, facts, stack), *signals_for(deployed, facts, stack, clients),
                *cluster_notices(deployed, stack), *image_notices(deployed, stack)]
    offered = (facts.offered_zones or {}).get(deployed.instance_type)
    return DeployPlan(plan=deployed, fresh=fresh, locked=decision.locked, warnings=tuple(warnings),
                      offered_zones=tuple(offered) if offered else None)


def plan_stack_file(stack_file: str | Path, update_lock: bool) -> tuple[Plan, list[str], FixedCosts | None]:
    """Plan a stack file as the program does (pre-flight facts included). With update_lock, record the fresh plan as
    the stack's lock; otherwise compare it with the lock. Returns (the plan the stack deploys, messages, the fixed
    overhead of the resources the stack creates: None where its region has no prices)."""
    from components.fixed_costs import fixed_costs
    from components.stack_config import load_stack_config, namespace_config
    from components.stack_file import read_stack_file  # the pulumi extra (PyYAML): imported here so the engine-only CLI never needs it

    raw = read_stack_file(stack_file)  # bounded, no YAML aliases or repeated keys, as the PR report reads it
    ours = namespace_config(raw)
    region = raw.get("aws:region")
    stack = load_stack_config(ours, aws_region=region)
    path = lock_path(stack_file)
    if update_lock:
        from components.fleet_spec import verify_with_platform
        from components.preflight import facts_for, with_facts
        from sizing.planner.plan import plan

        fresh = plan(with_facts(stack.request, facts_for(stack)))
        verify_with_platform(fresh, stack.fleet)
        return fresh, [f"plan lock written: {write_lock(path, ours, region, fresh)}"], fixed_costs(fresh, stack.fleet)
    deploy = plan_for_deploy(stack, ours, region, path)
    return deploy.plan, list(deploy.warnings), fixed_costs(deploy.plan, stack.fleet)
