"""The example stacks, each run once through the real program under Pulumi's mocks (cached per process: the program is
deterministic), shared by the tests of the resources (tests/components), the deployment layer (tests/deploy) and the
report (tests/preview). Pulumi loads with the first run, not with this module."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from preview.mock_run import MockRun

ROOT = Path(__file__).resolve().parents[1]
EC2_STACKS = {"dev": ROOT / "stacks/Pulumi.dev.yaml", "prod": ROOT / "stacks/Pulumi.prod.yaml"}
"""Example stacks on platform ec2 (Auto Scaling groups)."""
EKS_STACKS = {"eks": ROOT / "stacks/Pulumi.eks.yaml", "batch": ROOT / "stacks/Pulumi.batch.yaml"}
"""Example stacks on platform eks: single-node replicas (Deployment) and multi-node ones (LeaderWorkerSet)."""
STACKS = {**EC2_STACKS, **EKS_STACKS}


@cache
def stack_run(name: str) -> MockRun:
    """The mocked run of one example stack (cached: the program is deterministic)."""
    from preview.mock_run import run_stack

    return run_stack(STACKS[name])


def user_data(run: MockRun) -> str:
    """The decoded bootstrap script of a run's launch template."""
    from components.user_data_codec import decode_user_data

    return decode_user_data(run.one("LaunchTemplate").inputs["userData"])


def stack_options(name: str):
    """The stack's validated llmfleet:* config (what __main__.py reads)."""
    from deploy.stack_config import load_stack_config
    from deploy.stack_file import read_stack_file

    raw = read_stack_file(STACKS[name])
    ns = {k.split(":", 1)[1]: v for k, v in raw.items() if k.startswith("llmfleet:")}
    return load_stack_config(ns, aws_region=raw.get("aws:region"))
