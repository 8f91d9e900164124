"""The plan lock: `pulumi up` deploys the plan recorded next to the stack (stacks/Pulumi.<stack>.plan.json), not a plan
made again from live facts, so that a spot price moving between preview and up cannot flip the instance type or
count. `python -m sizing plan --stack stacks/Pulumi.<stack>.yaml --update-lock` rewrites the lock on purpose; a run
whose fresh plan differs from the lock says what changed and why, and deploys the lock.

A lock is a claim to verify, not a plan to obey: it is read within bounds, its digest must match its content (a lock
edited by hand is refused), it must have been made from this stack's config, and its plan must be the one today's
engine makes for the stack on the locked instance type, weight format and layout (sizing/planner/recheck.py): the
checkpoint, every vLLM flag, the memory and the fleet's counts are the engine's, and only the prices are the lock's.

The lock file only (its format, reading, writing, verification, and the decision between it and a fresh plan): running
a stack's planning, pre-flight included, is deploy/stack_plan.py's. No resources here."""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from deploy.errors import PlanLockError, StaleLockError
from sizing.bounded import parse_json, read_text
from sizing.catalog.assumptions import HOURS_IN_LONGEST_MONTH
from sizing.catalog.instances import get_instance_type
from sizing.errors import SizingError
from sizing.files import write_text_atomic
from sizing.limits import MAX_LOCK_BYTES, MAX_USD_PER_HOUR
from sizing.planner.recheck import PRICE_FIELDS, rederive
from sizing.planner.request import PlanRequest
from sizing.planner.results import Plan

LOCK_VERSION = 2
"""2: the lock carries plan_sha256, the digest of its plan."""
LOCK_SUFFIX = ".plan.json"
STACKS_DIR_ENV = "LLMFLEET_STACKS_DIR"
"""Folder of the stack files and their locks (default: ./stacks, the project's stackConfigDir)."""
SIZING_KEYS = ("model", "workload", "deployment")
"""The llmfleet:* keys a plan is made from (deploy/stack_config.py builds the PlanRequest from these and aws:region
alone): an edit elsewhere (fleet: hf_model_id, tags, names; preflight) sizes the same fleet and keeps the lock."""


class PlanLock(BaseModel):
    """What a lock file holds."""

    model_config = ConfigDict(frozen=True)

    lock_version: int
    """Format version of the file."""
    config_sha256: str
    """Fingerprint of the stack's llmfleet:* config (and region) the plan was made from, as written in `config`: what
    the user wrote, so that live facts and planner changes do not invalidate the lock, while an edit of the keys that
    size the fleet (SIZING_KEYS) does."""
    plan: Plan
    """The plan to deploy."""
    plan_sha256: str
    """sha256 of the plan as written (plan_digest): a lock whose plan was edited by hand no longer matches it."""
    config: dict[str, Any] | None = None
    """The llmfleet:* config and region the plan was made from, as fingerprinted: lets a stale lock say which keys
    changed."""


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


def _digest(fingerprinted: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fingerprinted, sort_keys=True).encode()).hexdigest()


def config_fingerprint(config: dict[str, Any], region: str | None) -> str:
    """sha256 of the stack's llmfleet:* values (keys without the namespace) and its region."""
    return _digest(_fingerprinted(config, region))


def sizing_config(fingerprinted: dict[str, Any]) -> dict[str, Any]:
    """The part of a fingerprinted config that sizes the fleet: SIZING_KEYS and the region."""
    config = fingerprinted.get("config")
    kept = {k: v for k, v in config.items() if k in SIZING_KEYS} if isinstance(config, dict) else config
    return {"config": kept, "region": fingerprinted.get("region")}


def _sizing_changes(lock: PlanLock, config: dict[str, Any], region: str | None, name: str) -> list[str] | None:
    """The sizing keys changed since the lock was written (None: none changed; a lock without its config only says
    that something did). A lock whose recorded config does not match its fingerprint was edited by hand."""
    current = _fingerprinted(config, region)
    if lock.config is None:
        return None if lock.config_sha256 == _digest(current) else ["an llmfleet:* value or aws:region"]
    if _digest(lock.config) != lock.config_sha256:
        raise PlanLockError(
            f"plan lock {name!r} was edited by hand: its config no longer matches the fingerprint "
            f"written with it. To fix: {REWRITE}."
        )
    old, new = sizing_config(lock.config), sizing_config(current)
    return (config_changes(old, new) or ["an llmfleet:* value or aws:region"]) if old != new else None


def _leaves(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {
            k: v for key, item in value.items() for k, v in _leaves(item, f"{path}.{key}" if path else str(key)).items()
        }
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


def plan_digest(plan: Plan) -> str:
    """sha256 of a plan's canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(plan.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


REWRITE = "rewrite it with `python -m sizing plan --stack <stack file> --update-lock` and review the plan it prints"


def write_lock(path: str | Path, config: dict[str, Any], region: str | None, plan: Plan) -> Path:
    """Record the plan for the stack config (the --update-lock step): atomically, never through a symlink."""
    lock = PlanLock(
        lock_version=LOCK_VERSION,
        config_sha256=config_fingerprint(config, region),
        plan=plan,
        plan_sha256=plan_digest(plan),
        config=_fingerprinted(config, region),
    )
    text = json.dumps(lock.model_dump(mode="json"), indent=1, sort_keys=True) + "\n"
    return write_text_atomic(
        path,
        text,
        "plan lock",
        "write the lock next to its stack file as a regular file "
        "(remove a symbolic link or special file of that name), on a writable disk with room.",
    )


def _lock_file(path: Path) -> dict[str, Any] | None:
    """The lock file's JSON, read within bounds (None: there is no lock)."""
    if not os.path.lexists(path):
        return None
    fix = f"{REWRITE}."
    data = parse_json(
        read_text(path, MAX_LOCK_BYTES, "plan lock", fix, PlanLockError),
        f"plan lock {path.name!r}",
        fix,
        error=PlanLockError,
    )
    if not isinstance(data, dict):
        raise PlanLockError(f"plan lock {path.name!r} is not a JSON object. To fix: {fix}")
    return data


def read_lock(path: str | Path) -> PlanLock | None:
    """The lock at path (None when there is none), refused when it cannot be read, has another format or was edited
    by hand (its plan no longer matches its digest)."""
    target = Path(path)
    data = _lock_file(target)
    if data is None:
        return None
    if data.get("lock_version") != LOCK_VERSION:
        version = data.get("lock_version")
        shown = version if isinstance(version, int) and not isinstance(version, bool) else "unknown"
        raise PlanLockError(
            f"plan lock {target.name!r} has format {shown}, this version reads {LOCK_VERSION}. To fix: {REWRITE}."
        )
    try:
        lock = PlanLock.model_validate(data)
    except ValueError as exc:
        where = ", ".join(".".join(str(x) for x in e["loc"]) for e in getattr(exc, "errors", lambda: [])()[:3])
        raise PlanLockError(
            f"plan lock {target.name!r} does not hold a plan this version reads"
            + (f" (at {where[:200]})" if where else "")
            + f". To fix: {REWRITE}."
        ) from None
    if lock.plan_sha256 != plan_digest(lock.plan):
        raise PlanLockError(
            f"plan lock {target.name!r} was edited by hand: its plan no longer matches the digest "
            f"written with it. To fix: {REWRITE}."
        )
    return lock


COMPARED = (
    "model",
    "params_total",
    "params_active",
    "weights",
    "checkpoint",
    "vllm_quantization",
    "speculative",
    "kv_dtype",
    "engine",
    "region",
    "workload",
    "max_model_len",
    "assumptions",
    "assumed_limits",
    "choice",
)
"""Plan fields that decide what is deployed: each must be what today's engine derives (the choice's prices aside)."""
RELATIVE_TOLERANCE = 1e-9
"""Floats the engine derives again agree to rounding (the lock's JSON keeps every digit)."""


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, float) or isinstance(new, float):
        if not isinstance(old, (int, float)) or isinstance(old, bool) or not isinstance(new, (int, float)):
            return True
        return not math.isclose(old, new, rel_tol=RELATIVE_TOLERANCE, abs_tol=RELATIVE_TOLERANCE)
    return bool(old != new)


def unverified_fields(locked: Plan, expected: Plan) -> list[str]:
    """The paths of the compared fields where the lock differs from the engine ('choice.tensor_parallel')."""
    old = dict(_leaves({k: v for k, v in locked.model_dump(mode="json").items() if k in COMPARED}))
    new = dict(_leaves({k: v for k, v in expected.model_dump(mode="json").items() if k in COMPARED}))
    priced = {f"choice.{name}" for name in PRICE_FIELDS}
    return sorted(
        k
        for k in set(old) | set(new)
        if k not in priced
        and not k.startswith("choice.notes")
        and (k not in old or k not in new or _differs(old[k], new[k]))
    )


def _price_problems(plan: Plan) -> list[str]:
    """The lock's prices are shown and summed: finite, not negative, within what any EC2 fleet costs (an hour of the
    dearest instance price the engine accepts for each instance, a month of those hours)."""
    c = plan.choice
    hourly = MAX_USD_PER_HOUR * max(c.instances, 1)
    ceilings = {"monthly_cost_usd": hourly * HOURS_IN_LONGEST_MONTH, "cost_per_million_output_tokens_usd": math.inf}
    bad = [
        f"choice.{k}"
        for k in sorted(PRICE_FIELDS - {"notes", "billed_usd_per_hour", "job_cost_usd"})
        if not (math.isfinite(v := getattr(c, k)) and 0 <= v <= ceilings.get(k, hourly))
    ]
    job = c.job_cost_usd  # a batch job's cost exactly when the engine derived its hours (job_hours is compared)
    if (job is None) != (c.job_hours is None) or (job is not None and not (math.isfinite(job) and job >= 0)):
        bad.append("choice.job_cost_usd")
    return bad


def _alternative_problems(plan: Plan, allowed: tuple[str, ...] | None) -> list[str]:
    """Alternatives of the same node setup become launch-template overrides: each must be a catalog type, with the
    GPUs the lock says, that the stack allows."""
    bad = []
    for i, alt in enumerate(plan.alternatives):
        c = alt.candidate
        try:
            hardware = get_instance_type(c.instance_type)
        except SizingError:
            bad.append(f"alternatives[{i}].candidate.instance_type")
            continue
        if (hardware.gpu.name, hardware.whole_gpus) != (c.gpu, c.gpus_per_instance) or (
            allowed and c.instance_type not in {n.strip().lower() for n in allowed}
        ):
            bad.append(f"alternatives[{i}].candidate")
    return bad


def verify_lock(lock: PlanLock, request: PlanRequest, name: str) -> None:
    """Raise PlanLockError unless the locked plan is the one today's engine makes for the stack's request on the
    locked instance type, format and layout (its prices aside), with finite prices and catalog alternatives. The lock's
    values are never echoed: only the names of the fields that differ."""
    try:
        expected = rederive(lock.plan, request)
    except SizingError as exc:
        raise PlanLockError(
            f"plan lock {name!r} holds a plan today's engine would not make for this stack "
            f"({str(exc).split('. To fix:')[0][:300]}). To fix: {REWRITE}."
        ) from None
    bad = [
        *unverified_fields(lock.plan, expected),
        *_price_problems(lock.plan),
        *_alternative_problems(lock.plan, request.deployment.instance_types),
    ]
    if bad:
        shown = ", ".join(bad[:8]) + (f" and {len(bad) - 8} more" if len(bad) > 8 else "")
        raise PlanLockError(
            f"plan lock {name!r} differs from what today's engine derives for this stack at the locked "
            f"instance type and layout ({shown}); it was edited, or made by another version. "
            f"To fix: {REWRITE}."
        )


def _choice_fields(plan: Plan) -> dict[str, object]:
    c = plan.choice
    return {
        "instance type": c.instance_type,
        "instances": c.instances,
        "on-demand instances": c.on_demand_instances,
        "spot instances": c.spot_instances,
        "tensor parallel": c.tensor_parallel,
        "pipeline parallel": c.pipeline_parallel,
        "nodes per replica": c.nodes_per_replica,
        "replicas": c.replicas,
        "purchase": c.purchase,
        "weights": plan.weights,
        "kv cache dtype": plan.kv_dtype,
        "max model len": plan.max_model_len,
    }


def _why(locked: Plan, fresh: Plan) -> list[str]:
    """The inputs that moved: prices and where the facts came from."""
    reasons = []
    for name, old, new in (
        ("on-demand", locked.choice.on_demand_usd_per_hour, fresh.choice.on_demand_usd_per_hour),
        ("spot", locked.choice.spot_usd_per_hour, fresh.choice.spot_usd_per_hour),
    ):
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


def decide(
    path: str | Path, config: dict[str, Any], region: str | None, fresh: Plan, request: PlanRequest
) -> LockDecision:
    """The plan to deploy for a stack: the lock at path when there is one (after checking it was made from this
    config and that today's engine derives its plan for `request`), else the fresh plan with a warning."""
    lock = read_lock(path)
    stack_file = os.path.relpath(Path(path).with_name(Path(path).name.removesuffix(LOCK_SUFFIX) + ".yaml"))
    update = f"`python -m sizing plan --stack {stack_file} --update-lock`"
    if lock is None:
        return LockDecision(
            plan=fresh,
            locked=False,
            messages=(
                f"plan lock: no {Path(path).name}; deploying a plan made from live facts just now, which may differ at "
                "the "
                f"next run. To fix: lock it with {update} and commit the file.",
            ),
        )
    changed = _sizing_changes(lock, config, region, Path(path).name)
    if changed:
        fresh_diff = [d for d in plan_differences(lock.plan, fresh) if not d.startswith("why: ")]
        raise StaleLockError(
            f"plan lock {Path(path).name} was made for different stack config (changed since: {'; '.join(changed)}). "
            + (
                f"The fresh plan for this config differs from the lock: {'; '.join(fresh_diff)}. "
                if fresh_diff
                else "The fresh plan for this config deploys the same fleet. "
            )
            + f"To fix: review the new plan with {update} and commit it.",
            fresh,
        )
    verify_lock(lock, request, Path(path).name)
    changes = plan_differences(lock.plan, fresh)
    messages = (
        (
            f"plan lock: the fresh plan differs from {Path(path).name}; deploying the locked plan. "
            f"Differences: " + "; ".join(changes) + f". To adopt the fresh plan: {update}.",
        )
        if changes
        else ()
    )
    return LockDecision(plan=lock.plan, locked=True, messages=messages)


MOVED_TO_STACK_PLAN = ("DeployPlan", "plan_for_deploy", "plan_stack_file")
"""Names that moved to deploy/stack_plan.py (running a stack's planning is not the lock's job), importable from here."""


def __getattr__(name: str) -> Any:
    if name in MOVED_TO_STACK_PLAN:
        from deploy import stack_plan

        return getattr(stack_plan, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
