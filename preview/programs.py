"""Programs that use the llmfleet package (examples/), run under Pulumi's mocks without the CLI.

A Python program is run as it is. A YAML program is read the way Pulumi YAML reads it, for the subset the examples use
(resources with literal properties, outputs that reference a resource's output): each llmfleet resource goes through
the component provider's Construct, the same path `pulumi up` takes for YAML, TypeScript, Go and C# programs."""

from __future__ import annotations

import os
import re
import runpy
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.llm_fleet import PACKAGE, LlmServingFleet
from deploy.plan_lock import STACKS_DIR_ENV
from deploy.stack_file import read_stack_file
from preview.mock_run import MockRun, record_fleet, run_under_mocks
from provider.package import COMPONENTS, NAMESPACE, VERSION

REFERENCE = re.compile(r"^\$\{(\w+)\.(\w+)\}$")
"""`${resource.output}`, the only interpolation the examples use."""


def component_provider() -> Any:
    """The provider that `pulumi package add` runs (provider/__main__.py hosts the same components)."""
    from pulumi.provider.experimental.component import ComponentProvider

    return ComponentProvider(list(COMPONENTS), PACKAGE, NAMESPACE, VERSION)


def construct(
    name: str, type_token: str, properties: dict[str, Any], opts: pulumi.ResourceOptions | None = None
) -> dict[str, Any]:
    """The provider's Construct: schema (camelCase) inputs in, the component's outputs (camelCase) back."""
    token = type_token if type_token.count(":") == 2 else type_token.replace(":", ":index:", 1)
    if not token.startswith(f"{PACKAGE}:"):
        raise ValueError(
            f"resource type {type_token!r} is not in the {PACKAGE} package; the example runner constructs "
            f"{PACKAGE} components only. To fix: use {PACKAGE}:LlmServingFleet."
        )
    result = component_provider().construct(name, token, properties, opts or pulumi.ResourceOptions())
    return dict(result.state)


def _yaml_program(program: dict[str, Any], run: MockRun) -> pulumi.Output:
    states = {
        name: construct(name, spec["type"], spec.get("properties") or {})
        for name, spec in (program.get("resources") or {}).items()
    }
    outputs: dict[str, Any] = {}
    for key, value in (program.get("outputs") or {}).items():
        ref = REFERENCE.match(value) if isinstance(value, str) else None
        if ref and ref.group(1) not in states:
            raise ValueError(f"output {key!r} references {ref.group(1)!r}, which is not a resource of the program")
        outputs[key] = states[ref.group(1)].get(ref.group(2)) if ref else value
    return pulumi.Output.from_input(outputs).apply(run.outputs.update)


def run_example(folder: str | Path, stack: str = "dev", run: MockRun | None = None) -> MockRun:
    """Run the program in `folder` (Pulumi.yaml, and Pulumi.<stack>.yaml for its config) under mocks."""
    folder = Path(folder)
    project = yaml.safe_load((folder / "Pulumi.yaml").read_text())
    runtime = project["runtime"]["name"] if isinstance(project["runtime"], dict) else project["runtime"]
    run = run or MockRun(stack=stack)
    config = read_stack_file(folder / f"Pulumi.{stack}.yaml")
    os.environ[STACKS_DIR_ENV] = str(folder.resolve())  # the program's own plan locks, next to its stack files
    if runtime == "yaml":
        return run_under_mocks(config, run, lambda: _yaml_program(project, run))
    if runtime == "python":

        def program() -> pulumi.Output:
            namespace = runpy.run_path(str(folder / "__main__.py"), run_name="__pulumi_main__")
            fleets = [v for v in namespace.values() if isinstance(v, LlmServingFleet)]
            return pulumi.Output.all(*[record_fleet(run, f) for f in fleets])

        return run_under_mocks(config, run, program)
    raise ValueError(f"{folder}: runtime {runtime!r} is not run here (yaml and python are).")
