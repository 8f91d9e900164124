"""Run the real Pulumi program (__main__.py) for a stack file under Pulumi's unit-test mocks: no CLI, no credentials.

What it records is what `pulumi up` would create, because it is the same program: every resource's type, name, parent
and inputs, and the stack's outputs (its `pulumi.export` values, the deployed plan among them): the report reads the
program as `pulumi stack output` would, never a variable of it."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import runpy
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime.stack import Stack

from deploy.plan_lock import STACKS_DIR_ENV
from deploy.stack_file import read_stack_file
from preview.report import stack_name_of
from sizing.names import DEPLOYED_PLAN_OUTPUT, PACKAGE
from sizing.planner.results import Plan

ROOT = Path(__file__).resolve().parents[1]
PROGRAM = ROOT / "__main__.py"
PROJECT = PACKAGE
MOCK_ACCOUNT = "123456789012"
SECRET_INPUTS = {"aws:secretsmanager/secretVersion:SecretVersion": ("secretString", "secretBinary")}
"""Inputs that hold a secret value: recorded masked (a generated value differs on every run and must not be shown)."""
SECRET_SHOWN = "[secret]"
MOCK_CLUSTER_ID = "0123456789ABCDEF0123456789ABCDEF"
MOCK_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="
"""A base64 certificate-authority bundle's shape (its first line only)."""


@dataclass(frozen=True)
class MockedResource:
    """One resource the program registered."""

    type: str
    """Pulumi type token, e.g. aws:ec2/launchTemplate:LaunchTemplate."""
    name: str
    """Logical name."""
    custom: bool
    """True for cloud resources, False for components."""
    inputs: dict[str, Any]
    """Inputs as the provider would receive them."""
    provider: str | None = None
    """Reference (urn::id) of the explicit provider the resource uses (None: the default provider)."""


@dataclass
class MockRun:
    """What one run under mocks produced."""

    stack: str
    """Stack name."""
    resources: list[MockedResource] = field(default_factory=list)
    """Every resource registered, components included, in registration order."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """The stack outputs: every value the program exported (pulumi.export), resolved."""
    plan: Plan | None = None
    """The plan the program deploys, read from its DEPLOYED_PLAN_OUTPUT stack output."""
    logs: list[str] = field(default_factory=list)
    """What the program logged (pulumi.log), which the mock engine would otherwise print to standard output."""
    subnet_zones: dict[str, str] = field(default_factory=dict)
    """Zone of each existing subnet the program looked up (preset by a test, else the next zone a, b, c...)."""
    calls: list[tuple[str, str | None]] = field(default_factory=list)
    """Every invoke: (function token, reference of the provider it went to, None for the default provider)."""

    def of_type(self, kind: str) -> list[MockedResource]:
        """Cloud resources of a kind: the last part of the type token (e.g. 'LaunchTemplate', 'Group')."""
        return [r for r in self.resources if r.custom and r.type.split(":")[-1] == kind]

    def one(self, kind: str) -> MockedResource:
        """The single cloud resource of that kind."""
        found = self.of_type(kind)
        if len(found) != 1:
            raise AssertionError(f"expected one {kind}, found {len(found)}")
        return found[0]


class FleetMocks(pulumi.runtime.Mocks):
    """Answers the AWS provider would give, enough for every output the program reads."""

    def __init__(self, run: MockRun, region: str) -> None:
        self.run, self.region = run, region

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        recorded = {k: SECRET_SHOWN if k in SECRET_INPUTS.get(args.typ, ()) else v for k, v in args.inputs.items()}
        self.run.resources.append(
            MockedResource(args.typ, args.name, bool(args.custom), recorded, args.provider or None)
        )
        state = dict(args.inputs)
        rid = f"{args.name}-id"
        arn = f"arn:aws:mock:{self.region}:{MOCK_ACCOUNT}:{args.name}"
        state.setdefault("arn", arn)
        state.setdefault("name", args.name)
        if args.typ == "aws:lb/loadBalancer:LoadBalancer":
            state["dnsName"] = f"{args.name}-1234567890.{self.region}.elb.amazonaws.com"
            state["arnSuffix"] = f"app/{args.name}/0123456789abcdef"
        if args.typ == "aws:secretsmanager/secret:Secret":  # the real ARN's shape: a name and a 6-character suffix
            state["arn"] = f"arn:aws:secretsmanager:{self.region}:{MOCK_ACCOUNT}:secret:{args.name}-AbCdEf"
        if args.typ == "aws:ecr/pullThroughCacheRule:PullThroughCacheRule":  # the registry is the account's
            state["registryId"] = MOCK_ACCOUNT
        if args.typ == "aws:s3/bucket:Bucket":  # a prefix and S3's unique suffix
            state["bucket"] = f"{state.get('bucketPrefix', args.name)}20261207000000000001"
            state["arn"] = f"arn:aws:s3:::{state['bucket']}"
        if args.typ == "aws:ec2/launchTemplate:LaunchTemplate":
            state["latestVersion"] = 1
        if args.typ == "aws:lb/targetGroup:TargetGroup":  # the real ARN's shape (the node registers itself by it)
            state["arnSuffix"] = f"targetgroup/{state['name']}/0123456789abcdef"
            state["arn"] = f"arn:aws:elasticloadbalancing:{self.region}:{MOCK_ACCOUNT}:{state['arnSuffix']}"
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        self.run.calls.append((args.token, args.provider or None))
        if args.token == "aws:index/getAvailabilityZones:getAvailabilityZones":
            return {"names": [f"{self.region}{z}" for z in "abc"], "zoneIds": [f"use1-az{i}" for i in (1, 2, 3)]}, []
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}, []
        if args.token == "aws:eks/getCluster:getCluster":  # what an EKS cluster reports: its endpoint and CA bundle
            name = str(args.args.get("name"))
            return {
                "name": name,
                "endpoint": f"https://{MOCK_CLUSTER_ID}.gr7.{self.region}.eks.amazonaws.com",
                "certificateAuthorities": [{"data": MOCK_CA}],
                "version": "1.34",
                "status": "ACTIVE",
            }, []
        if args.token == "aws:ec2/getSubnet:getSubnet":
            subnet = str(args.args.get("id"))
            zones = self.run.subnet_zones
            zone = zones.setdefault(subnet, f"{self.region}{'abcdef'[len(zones) % 6]}")
            return {"id": subnet, "availabilityZone": zone}, []
        return {}, []


def stack_name(path: str | Path) -> str:
    """'dev' for stacks/Pulumi.dev.yaml (the report's rule, so both sides of a diff name a stack alike; kept under this
    name for export_stacks.py, which runs against every version of the project)."""
    return stack_name_of(Path(path))


def run_under_mocks(config: dict[str, Any], run: MockRun, program: Callable[[], pulumi.Output]) -> MockRun:
    """Run `program` under Pulumi's mocks with the stack config given (the `config:` mapping of a stack file), recording
    every resource into `run`; the program's Output is awaited, so that an error inside an apply fails the run."""
    region = str(config.get("aws:region", "us-east-1"))
    pulumi.runtime.set_all_config({k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()})
    pulumi.runtime.set_mocks(
        FleetMocks(run, region), project=PROJECT, stack=run.stack, preview=False, logger=_program_logger(run)
    )
    os.environ.setdefault("AWS_REGION", region)
    os.environ.setdefault("LLMFLEET_PREFLIGHT", "off")  # a mocked run never calls AWS: the embedded catalog is used
    _root_stack().outputs.clear()  # the root stack outlives a run: this run's exports only
    _open_event_loop()
    pulumi.runtime.test(program)()
    return run


def record_fleet(run: MockRun, fleet: Any) -> pulumi.Output:
    """Keep an LlmServingFleet's plan and outputs in `run` (an Output, for the mocked program to return)."""
    run.plan = fleet.fleet_plan
    return pulumi.Output.all(fleet.endpoint, fleet.group_names, fleet.plan, fleet.facts).apply(
        lambda v: run.outputs.update(
            {
                "endpoint": v[0],
                "autoscaling_groups": v[1],
                "plan": v[2],
                "facts": v[3],
                "plan_locked": fleet.plan_locked,
            }
        )
    )


def _root_stack() -> Stack:
    """The stack resource Pulumi's mocks create once: it holds the program's exports."""
    root = pulumi.runtime.get_root_resource()
    if not isinstance(root, Stack):
        raise TypeError("Pulumi's mocks made no root stack to hold the program's exports")
    return root


def record_exports(run: MockRun) -> pulumi.Output:
    """Keep the program's stack outputs (its pulumi.export values, resolved) in `run`, and the plan it deploys, read
    from its DEPLOYED_PLAN_OUTPUT output (an Output, for the mocked program to return)."""
    return pulumi.Output.all(**_root_stack().outputs).apply(lambda values: _keep_exports(run, values))


def _keep_exports(run: MockRun, values: dict[str, Any]) -> None:
    run.outputs.update(values)
    plan = values.get(DEPLOYED_PLAN_OUTPUT)
    run.plan = Plan.model_validate(plan) if plan is not None else None


def run_stack(path: str | Path, run: MockRun | None = None) -> MockRun:
    """Run __main__.py for the stack file under mocks and record what it creates and exports (into `run`, if given, so
    that a caller can see what a failing program registered before it failed)."""
    run = run or MockRun(stack=stack_name(path))
    os.environ[STACKS_DIR_ENV] = str(Path(path).resolve().parent)  # the plan lock lives next to the stack file

    def program() -> pulumi.Output:
        runpy.run_path(str(PROGRAM), run_name="__pulumi_main__")
        return record_exports(run)

    return run_under_mocks(read_stack_file(path), run, program)


def _current_event_loop() -> asyncio.AbstractEventLoop:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # get_event_loop() without a running loop
        return asyncio.get_event_loop()


def _open_event_loop() -> None:
    """Pulumi's runtime runs on the current event loop; give it a fresh one if an earlier caller closed it."""
    if _current_event_loop().is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())


class _Collect(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__()
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(f"{record.levelname.lower()}: {record.getMessage()}")


def _program_logger(run: MockRun) -> logging.Logger:
    """A logger that keeps the program's pulumi.log messages in run.logs instead of printing them."""
    logger = logging.getLogger(f"llmfleet.mock.{run.stack}.{id(run)}")
    logger.propagate = False
    logger.handlers = [_Collect(run.logs)]
    logger.setLevel(logging.DEBUG)
    return logger


def close_event_loop() -> None:
    """Close the event loop Pulumi's runtime left open, while the interpreter is still whole (otherwise its
    finaliser prints an ignored exception at exit)."""
    loop = _current_event_loop()
    if not loop.is_closed():
        loop.close()
