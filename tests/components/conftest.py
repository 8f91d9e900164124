"""Each example stack, run once through the real program under Pulumi's mocks."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from components.user_data_codec import decode_user_data
from preview.mock_run import MockRun, run_stack

ROOT = Path(__file__).resolve().parents[2]
EC2_STACKS = {"dev": ROOT / "stacks/Pulumi.dev.yaml", "prod": ROOT / "stacks/Pulumi.prod.yaml"}
"""Example stacks on platform ec2 (Auto Scaling groups)."""
EKS_STACKS = {"eks": ROOT / "stacks/Pulumi.eks.yaml", "batch": ROOT / "stacks/Pulumi.batch.yaml"}
"""Example stacks on platform eks: single-node replicas (Deployment) and multi-node ones (LeaderWorkerSet)."""
STACKS = {**EC2_STACKS, **EKS_STACKS}


@cache
def stack_run(name: str) -> MockRun:
    """The mocked run of one example stack (cached: the program is deterministic)."""
    return run_stack(STACKS[name])


def user_data(run: MockRun) -> str:
    """The decoded bootstrap script of a run's launch template."""
    return decode_user_data(run.one("LaunchTemplate").inputs["userData"])


@pytest.fixture(params=sorted(STACKS))
def any_stack(request) -> MockRun:
    return stack_run(request.param)


@pytest.fixture(params=sorted(EC2_STACKS))
def ec2_stack(request) -> MockRun:
    """An example stack on platform ec2: its launch template, Auto Scaling group and load balancer."""
    return stack_run(request.param)


def stack_options(name: str):
    """The stack's validated llmfleet:* config (what __main__.py reads)."""
    from deploy.stack_config import load_stack_config
    from deploy.stack_file import read_stack_file

    raw = read_stack_file(STACKS[name])
    ns = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith("llmfleet:")}
    return load_stack_config(ns, aws_region=raw.get("aws:region"))
