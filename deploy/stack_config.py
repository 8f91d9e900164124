"""Reading a stack's `llmfleet:*` config into typed, validated models, with errors that name the key and the fix."""

from __future__ import annotations

import difflib
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from deploy.errors import ConfigError
from deploy.options import FleetOptions
from sizing.bounded import parse_json
from sizing.calibration.store import Calibration, read_calibration
from sizing.errors import SizingError
from sizing.limits import MAX_NAME_CHARS
from sizing.live.preflight import PreflightOptions
from sizing.models.presets import resolve_model
from sizing.models.spec import ModelSpec
from sizing.names import CONFIG_NAMESPACE as NAMESPACE
from sizing.planner.request import (
    Deployment,
    PlanRequest,
    Workload,
    spare_purchase_unused,
)
from sizing.redact import redact

SECTIONS: dict[str, type[BaseModel]] = {
    "workload": Workload,
    "deployment": Deployment,
    "fleet": FleetOptions,
    "preflight": PreflightOptions,
}
"""Config keys under llmfleet: besides `model`, and the model each is read into."""
KEYS = ("model", *SECTIONS)
"""Every llmfleet: key; any other is refused before a resource is registered."""
Section = TypeVar("Section", bound=BaseModel)


class StackConfig(BaseModel):
    """One stack's configuration, validated."""

    model_config = ConfigDict(frozen=True)

    request: PlanRequest
    """What to size."""
    fleet: FleetOptions
    """How to deploy it."""
    preflight: PreflightOptions
    """Checks against the account before planning."""


def _section(raw: dict[str, Any], key: str, kind: type[Section]) -> Section:
    value = raw.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError(
            f"{NAMESPACE}:{key} must be a mapping of settings, not {redact(str(value))[:100]!r}. "
            f"To fix: see stacks/Pulumi.dev.yaml for the shape."
        )
    try:
        return kind(**value)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            where = ".".join(str(p) for p in e["loc"])
            shown = f"{NAMESPACE}:{key}.{where}={redact(repr(e['input']))[:120]}" if where else f"{NAMESPACE}:{key}"
            close = (
                difflib.get_close_matches(str(e["loc"][-1]), list(kind.model_fields), n=1)
                if e["type"] == "extra_forbidden"
                else []
            )
            problems.append(f"{shown}: {redact(e['msg'])[:300]}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        allowed = ", ".join(sorted(kind.model_fields))
        raise ConfigError(
            "; ".join(problems) + f". Valid keys of {NAMESPACE}:{key}: {allowed}. "
            "To fix: correct the value in the stack file."
        ) from None


def _with_region(raw: dict[str, Any], aws_region: str | None) -> dict[str, Any]:
    """deployment.region defaults to the provider's aws:region; the two may not disagree."""
    deployment = raw.get("deployment") or {}
    if not isinstance(deployment, dict):
        return raw  # _section says it must be a mapping
    deployment = dict(deployment)
    if aws_region:
        region = deployment.setdefault("region", aws_region)
        if region != aws_region:
            raise ConfigError(
                f"{NAMESPACE}:deployment.region={region!r} differs from aws:region={aws_region!r}: the plan "
                "would price one region and deploy into another. To fix: set both to the same region."
            )
    return {**raw, "deployment": deployment}


def namespace_config(config: dict[str, Any]) -> dict[str, str]:
    """The llmfleet:* entries of a whole Pulumi config (e.g. {'llmfleet:model': ...}), keys without the namespace."""
    return {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith(f"{NAMESPACE}:")}


def config_value(text: str | None) -> Any:
    """A config value as Pulumi hands it to the program (objects as JSON text), parsed; plain text stays text, so that
    load_stack_config can say which key needed a mapping."""
    if text is None:
        return None
    try:
        return parse_json(text, "config value", "give the value as YAML.")
    except SizingError:
        return text


def load_stack_config(
    raw: dict[str, Any], aws_region: str | None = None, model: ModelSpec | None = None
) -> StackConfig:
    """The stack's llmfleet:* values (keys without the namespace) as validated models. `model`: an already resolved
    model (a component given a config.json's contents), used instead of resolving raw["model"]."""
    unknown = sorted(set(raw) - set(KEYS))
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, KEYS, n=1, cutoff=0.6)
            hints.append(f"{NAMESPACE}:{key}" + (f" (did you mean '{NAMESPACE}:{close[0]}'?)" if close else ""))
        raise ConfigError(
            f"Unknown config key(s) {', '.join(hints)}. Valid: "
            + ", ".join(f"{NAMESPACE}:{k}" for k in KEYS)
            + ". To fix: rename or remove them."
        )
    if not raw.get("model"):
        raise ConfigError(
            f"{NAMESPACE}:model is not set. To fix: `pulumi config set {NAMESPACE}:model llama-3.1-8b` "
            "(a preset name or a path to a config.json)."
        )
    try:
        model = model or resolve_model(str(raw["model"]))
    except SizingError as exc:
        raise ConfigError(f"{NAMESPACE}:model: {exc}") from None
    raw, calibration = _calibration(_with_region(raw, aws_region))
    workload = _section(raw, "workload", Workload)
    deployment = _section(raw, "deployment", Deployment)
    fleet = _section(raw, "fleet", FleetOptions)
    preflight = _section(raw, "preflight", PreflightOptions)
    if spare_purchase_unused(workload, deployment):
        raise ConfigError(
            f"{NAMESPACE}:deployment.spare_purchase={deployment.spare_purchase!r} has no spare to buy: "
            f"{NAMESPACE}:workload.headroom_replicas is 0. To fix: set {NAMESPACE}:workload.headroom_replicas "
            f"(1 = N+1) or remove {NAMESPACE}:deployment.spare_purchase."
        )
    return StackConfig(
        request=PlanRequest(model=model, workload=workload, deployment=deployment, calibration=calibration),
        fleet=fleet,
        preflight=preflight,
    )


CALIBRATION_KEY = "calibration"
CALIBRATION_DOC = (
    "A calibration file (`python -m sizing calibrate ... --out FILE`), relative to the project root (where "
    "Pulumi.yaml is, the folder `pulumi` and `python -m sizing plan --stack` run in): the candidates on "
    "its GPU and format are sized with its fitted speed (docs/calibration.md)."
)
"""llmfleet:workload.calibration. It is read by the stack, not by the Workload model: it says how fast the hardware
serves, not what the traffic is."""
STACK_ONLY_KEYS: dict[str, dict[str, str]] = {"workload": {CALIBRATION_KEY: CALIBRATION_DOC}}
"""Keys a section takes that its model does not hold (read by the stack itself), each with its description: the
stack-key reference lists them beside the model's fields."""


def _calibration(raw: dict[str, Any]) -> tuple[dict[str, Any], Calibration | None]:
    """The config without llmfleet:workload.calibration, and the calibration it names (read and checked)."""
    workload = raw.get("workload")
    if not isinstance(workload, dict) or CALIBRATION_KEY not in workload:
        return raw, None
    rest = {k: v for k, v in workload.items() if k != CALIBRATION_KEY}
    path = workload[CALIBRATION_KEY]
    if not isinstance(path, str) or not path.strip() or len(path) > MAX_NAME_CHARS:
        raise ConfigError(
            f"{NAMESPACE}:workload.{CALIBRATION_KEY}={redact(repr(path))[:120]} is not a file path. To fix: "
            "give the path of a file written by `python -m sizing calibrate --out FILE`, relative to the "
            "project root."
        )
    try:
        return {**raw, "workload": rest}, read_calibration(path)
    except SizingError as exc:
        raise ConfigError(f"{NAMESPACE}:workload.{CALIBRATION_KEY}: {exc}") from None
