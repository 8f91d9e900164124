"""What preview/ adds to `python -m sizing` (registered in pyproject.toml's entry-point group llmfleet.cli, read by
sizing/cli/plugins.py): `report`, the pull-request report. Light on purpose: Pulumi is imported when the report runs,
after the command has checked it is installed."""

from __future__ import annotations

import argparse

from sizing.cli.plugins import Command


def _report_arguments(rp: argparse.ArgumentParser) -> None:
    rp.add_argument(
        "inputs", nargs="*", metavar="STACK_OR_PLAN", help="stack files (Pulumi.<name>.yaml) or plan JSON files"
    )
    rp.add_argument("--base", nargs="*", default=[], help="the base branch's stack files or plan JSON files")
    rp.add_argument(
        "--base-ref",
        help="a commit, branch or tag: plan its stacks/Pulumi.*.yaml with its own engine and "
        "catalog (a checkout in a temporary folder, cached per commit); the head defaults to every stack",
    )
    rp.add_argument(
        "--base-python",
        help="interpreter for the base commit's code (default: this one), e.g. a virtual "
        "environment built from the base's pyproject.toml when its dependencies differ",
    )
    rp.add_argument("--format", choices=["markdown", "json"], default="markdown")
    rp.add_argument("--output", "-o", help="write to this file instead of standard output")


def _report(args: argparse.Namespace) -> int:
    from preview.cli import report_command
    from preview.mock_run import close_event_loop

    code = report_command(args.inputs, args.base, args.format, args.output, args.base_ref, args.base_python)
    close_event_loop()
    return code


REPORT = Command(
    help="pull-request report: hardware and cost per stack, diffed against the base branch",
    add_arguments=_report_arguments,
    run=_report,
    needs=("pulumi", "pulumi_aws", "pulumi_kubernetes"),
)
"""The `report` entry point."""
