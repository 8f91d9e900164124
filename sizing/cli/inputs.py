"""What each subcommand reads besides its files and output options, one pydantic model per subcommand: its flags are
generated from these fields (sizing/cli/fields.py: the type, choices, bounds and default of the field, its docstring as
the help), and the parsed values are validated by the same model, each number bounded by sizing/limits.py and finite,
before any engine code runs. A new field is a new flag of every command whose model has it. Most of `plan`'s flags come
from Workload and Deployment (sizing/planner/request.py); the flags that are no model's field are in
sizing/cli/args.py.

`plan`'s model is here; the other commands' are in sizing/cli/command_inputs.py, loaded with the registry `OPTIONS`
on first use, so that a plan does not create the classes of every other command (start-up time, issue 21)."""

import argparse

from pydantic import BaseModel, ConfigDict


class CommandOptions(BaseModel):
    """The base of every command's options model: frozen, finite numbers, other parsed values ignored."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore", allow_inf_nan=False)


class PlanOptions(CommandOptions):
    """What `plan` reads besides the workload and the deployment (whose fields are its other flags)."""

    gpu: str | None = None
    """Only instance types with this GPU (a name or alias from sizing/data/gpus.csv, e.g. H100, L40S); with
    --instance-types, those of them that carry it."""


OPTIONS: dict[str, type[CommandOptions]]
"""Subcommand -> the model its flags are generated from and validated by (`plan`'s others: Workload and Deployment);
made on first use (module __getattr__ below)."""


def _registry() -> dict[str, type[CommandOptions]]:
    """OPTIONS, made (with the other commands' models) the first time it is asked for."""
    made = globals().get("OPTIONS")
    if made is None:
        from sizing.cli.command_inputs import CalibrateOptions, CatalogOptions, MemoryOptions, SpeedOptions

        made = {
            "memory": MemoryOptions,
            "speed": SpeedOptions,
            "plan": PlanOptions,
            "catalog": CatalogOptions,
            "calibrate": CalibrateOptions,
        }
        globals()["OPTIONS"] = made
    return made


def __getattr__(name: str) -> dict[str, type[CommandOptions]]:
    if name == "OPTIONS":
        return _registry()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def options_model(command: str) -> type[CommandOptions] | None:
    """The model of `command`'s own flags (None: a command with none): OPTIONS' entry, or `plan`'s model itself while
    nothing has asked for OPTIONS yet (so a plan never loads the others)."""
    if command == "plan" and "OPTIONS" not in globals():
        return PlanOptions
    return _registry().get(command)


def validate_options(args: argparse.Namespace) -> None:
    """Raise pydantic's ValidationError naming each out-of-range or non-finite value."""
    kind = options_model(args.command)
    if kind is not None:
        kind.model_validate({k: v for k, v in vars(args).items() if v is not None})
