"""Golden files of the pull-request report, and its determinism. Regenerate after an intended change with
UPDATE_GOLDEN=1."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from preview.cli import report_command
from preview.report import build, render_json, render_markdown
from tests.preview.conftest import load

HERE = Path(__file__).parent
STACKS = HERE / "stacks"
GOLDEN = HERE / "golden"
BASE = [STACKS / "base/Pulumi.svc.yaml"]

CASES = {
    "no-change": ([STACKS / "base/Pulumi.svc.yaml"], BASE),
    "upgrade": ([STACKS / "upgrade/Pulumi.svc.yaml"], BASE),
    "downgrade": ([STACKS / "downgrade/Pulumi.svc.yaml"], BASE),
    "new-stack": ([STACKS / "base/Pulumi.svc.yaml", STACKS / "new/Pulumi.fresh.yaml"], BASE),
    "deleted-stack": ([STACKS / "base/Pulumi.svc.yaml"], [*BASE, STACKS / "base/Pulumi.gone.yaml"]),
    "infeasible": ([STACKS / "infeasible/Pulumi.svc.yaml"], BASE),
    "to-eks": ([STACKS / "eks/Pulumi.svc.yaml"], BASE),
}


def render(case: str) -> str:
    head, base = CASES[case]
    return render_markdown(build([load(p) for p in head], [load(p) for p in base]))


@pytest.mark.parametrize("case", sorted(CASES))
def test_markdown_matches_golden(case):
    rendered = render(case)
    golden = GOLDEN / f"{case}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(rendered)
    assert rendered == golden.read_text()


def test_summary_lines():
    assert "**Monthly cost +$0.00 (+0%)**" in render("no-change")
    assert "(1 changed)" in render("upgrade") and "**Monthly cost +$" in render("upgrade")
    assert "**Monthly cost −$" in render("downgrade")
    assert "(1 new, 1 unchanged)" in render("new-stack")
    assert "(1 deleted, 1 unchanged)" in render("deleted-stack")


def test_rejections_are_counted_only_when_there_are_some():
    assert "1 candidate(s) rejected: 1 tpot." in render("new-stack")
    assert "rejected: ." not in render("new-stack") and "0 candidate(s)" not in render("upgrade")


def test_infeasible_shows_the_reason_and_fails_the_job(tmp_path):
    text = render("infeasible")
    assert "No feasible plan" in text and "Nearest miss" in text and "GiB more per GPU" in text
    head, base = CASES["infeasible"]
    out = tmp_path / "report.md"
    assert report_command([str(p) for p in head], [str(p) for p in base], "markdown", str(out)) == 1
    assert out.read_text() == text


def test_same_input_same_bytes():
    assert render("upgrade") == render("upgrade")


def test_json_format_and_plan_json_input(tmp_path):
    head, base = CASES["upgrade"]
    report = build([load(p) for p in head], [load(p) for p in base])
    data = render_json(report)
    assert data["stacks"][0]["status"] == "changed"
    assert data["stacks"][0]["head_monthly_cost_usd"] > data["stacks"][0]["base_monthly_cost_usd"]
    plan_json = tmp_path / "svc.plan.json"
    plan_json.write_text(report.diffs[0].head.plan.model_dump_json())
    from_json = load(plan_json)
    assert from_json.name == "svc" and from_json.plan.instance_type == report.diffs[0].head.plan.instance_type
    assert "listed for stack files only" in render_markdown(build([from_json], []))


def test_missing_input_is_a_clear_error(capsys):
    assert report_command(["nope/Pulumi.x.yaml"], [], "markdown", None) == 2
    assert "no such file: 'nope/Pulumi.x.yaml'" in capsys.readouterr().err


def test_ignored_inputs_are_no_change():
    """desiredCapacity is registered with ignore_changes (target tracking owns it): `pulumi up` leaves it alone, so
    the report must not list it (https://www.pulumi.com/docs/iac/concepts/options/ignorechanges/)."""
    from preview.resource_diff import resource_changes

    key = "aws:autoscaling/group:Group::svc-compute-replicas"
    assert (
        resource_changes(
            {key: {"desiredCapacity": "a", "maxSize": "1"}}, {key: {"desiredCapacity": "b", "maxSize": "1"}}
        )
        == []
    )
    (change,) = resource_changes(
        {key: {"desiredCapacity": "a", "maxSize": "1"}}, {key: {"desiredCapacity": "b", "maxSize": "2"}}
    )
    assert change.inputs == ("maxSize",)


def test_a_stale_plan_lock_shows_the_fresh_plan_and_fails_the_job(tmp_path, capsys):
    """A PR that edits a stack's targets without --update-lock: the report shows what the edit buys (the fresh plan,
    its cost and resource changes) and says that preview fails until the lock is updated; the job fails."""
    import shutil

    root = Path(__file__).resolve().parents[2] / "stacks"
    base = tmp_path / "base"
    head = tmp_path / "head"
    for folder in (base, head):
        folder.mkdir()
        shutil.copy(root / "Pulumi.prod.yaml", folder)
        shutil.copy(root / "Pulumi.prod.plan.json", folder)
    edited = head / "Pulumi.prod.yaml"
    edited.write_text(
        edited.read_text().replace("tpot_ms: 40", "tpot_ms: 15")
    )  # at 6 req/s, 25 ms still fits the same fleet
    result = load(edited)
    assert result.plan is not None and result.blocker and "workload.tpot_ms: 40 -> 15" in result.blocker
    report = build([result], [load(base / "Pulumi.prod.yaml")])
    text = render_markdown(report)
    assert report.failed and "changed, lock out of date" in text and "fails until the plan lock is updated" in text
    assert report.diffs[0].head_monthly > report.diffs[0].base_monthly  # a tighter TPOT costs more, and it shows
    assert report_command([str(edited)], [str(base / "Pulumi.prod.yaml")], "markdown", str(tmp_path / "r.md")) == 1
    assert "prod" in capsys.readouterr().err


def test_a_named_stack_with_base_ref_does_not_report_the_others_deleted(monkeypatch, tmp_path):
    import json as json_module

    import preview.cli as cli
    from preview.export_stacks import export_stack

    dev = str(Path(__file__).resolve().parents[2] / "stacks/Pulumi.dev.yaml")
    other = {"name": "prod", "plan": None, "error": "not planned here", "inputs": {}}
    monkeypatch.setattr(cli, "base_stacks", lambda ref, python: [export_stack(dev), other])
    out = tmp_path / "r.json"
    assert report_command([dev], [], "json", str(out), base_ref="main") == 0
    assert [s["name"] for s in json_module.loads(out.read_text())["stacks"]] == ["dev"]


def test_spot_stack_cost_says_expected_and_billed():
    # The batch stack runs on spot: the report's cost is the expected one the planner ranks by, and it says what AWS
    # bills while the spot capacity is held.
    root = HERE.parents[1]
    stack = [root / "stacks/Pulumi.batch.yaml"]
    text = render_markdown(build([load(p) for p in stack], [load(p) for p in stack]))
    plan = load(stack[0]).plan
    assert plan is not None and plan.choice.spot_instances
    assert f"AWS bills ${plan.choice.billed_usd_per_hour:,.2f}/h while the spot capacity is held" in text


def test_hardware_line_names_data_parallel_attention_and_expert_parallelism():
    """The report's hardware line is the plan's own label: a DP8 + EP DeepSeek replica is not shown as 'TP=1 PP=1'."""
    from preview.report import _hardware
    from sizing.models.presets import load_preset
    from sizing.planner.plan import plan
    from sizing.planner.request import PlanRequest, Workload

    p = plan(
        PlanRequest(
            model=load_preset("deepseek-r1"), workload=Workload(concurrency=256, input_tokens=8000, output_tokens=1000)
        )
    )
    assert p.choice.data_parallel == 8 and p.choice.expert_parallel
    assert _hardware(p) == p.choice.label.replace(" x ", " × ", 1) and "DP=8 EP" in _hardware(p)


def test_a_move_to_eks_shows_the_kubernetes_fleet_and_what_goes():
    """The same plan on platform eks: the hardware and cost stay, the Auto Scaling groups and the load balancer go,
    and the Kubernetes objects come, with the pods, NodePool limits and ingress a reviewer checks."""
    text = render("to-eks")
    assert "**On EKS:** Deployment `llm-fleet/llmfleet-svc`" in text and "routing /v1 only" in text
    assert (
        "| delete | `aws:autoscaling/group:Group`" in text
        and "| create | `kubernetes:karpenter.sh/v1:NodePool`" in text
    )


def _with_existing_vpc(tmp_path: Path) -> Path:
    """The base stack moved into an existing VPC (two subnets in two zones)."""
    head = tmp_path / "Pulumi.svc.yaml"
    head.write_text(
        BASE[0]
        .read_text()
        .replace(
            '    allowed_cidrs: ["10.0.0.0/8"]',
            '    allowed_cidrs: ["10.0.0.0/8"]\n    vpc_id: vpc-0a1b2c3d4e5f60718\n'
            "    subnet_ids: [subnet-0aa11bb22cc33dd44, subnet-0ee55ff66aa77bb88]",
        )
    )
    return head


def test_moving_to_an_existing_vpc_shows_the_fixed_overhead_it_saves(tmp_path):
    """Issue 18, item 7: the stack's $/month and the summary's monthly diff include the fixed overhead, so a change
    that drops the created VPC (its interface endpoints, NAT gateway and address) shows what it saves."""
    report = build([load(_with_existing_vpc(tmp_path))], [load(p) for p in BASE])
    d = report.diffs[0]
    assert d.status == "changed" and d.fixed_compared and d.base.plan.monthly_cost_usd == d.head.plan.monthly_cost_usd
    saved = d.base.fixed_monthly - d.head.fixed_monthly
    assert saved > 150 and d.base_monthly - d.head_monthly == pytest.approx(saved)
    text = render_markdown(report)
    assert (
        "**Monthly cost −$" in text
        and "Fixed overhead (network, load balancer, secret, logs, monitoring, disks) included" in text
    )
    assert re.search(r"\*\*Fixed overhead:\*\* \$[\d.,]+ → \$[\d.,]+ a month", text)
    data = render_json(report)["stacks"][0]
    assert (
        data["fixed_costs_included"]
        and data["base"]["fixed_costs"]["items"]
        and data["head"]["fixed_costs_unknown"] is None
    )


def test_a_base_export_without_fixed_costs_is_read_as_unknown():
    """A base commit from before the fixed overhead exports none: the report reads it, says so, and compares the GPU
    fleets alone on both sides rather than a head with overhead against a base without."""
    from preview.export_stacks import export_stack
    from preview.inputs import from_export

    exported = export_stack(str(BASE[0]))
    old = from_export({k: v for k, v in exported.items() if not k.startswith("fixed_costs")})
    assert old.plan is not None and old.fixed_costs is None and old.fixed_unknown == "version"
    report = build([from_export(exported)], [old])
    d = report.diffs[0]
    assert d.status == "unchanged" and not d.fixed_compared
    assert d.head_monthly == pytest.approx(d.head.plan.monthly_cost_usd) == pytest.approx(d.base_monthly)
    text = render_markdown(report)
    assert "Fixed overhead left out for `svc`" in text and ", not counted |" in text


def test_exported_fixed_costs_that_do_not_parse_are_left_out():
    from preview.export_stacks import export_stack
    from preview.inputs import from_export

    exported = export_stack(str(BASE[0]))
    item = {**exported["fixed_costs"]["items"][0], "name": "<img src=x>"}
    forged = from_export({**exported, "fixed_costs": {**exported["fixed_costs"], "items": [item]}})
    assert forged.fixed_costs is None and forged.fixed_unknown == "unreadable"


def test_the_export_driver_runs_in_a_checkout_from_before_fixed_costs(monkeypatch):
    """preview/export_stacks.py is copied into the base commit's checkout: there the import fails, and the stack is
    exported with its overhead unknown rather than not at all."""
    import sys

    from preview.export_stacks import export_stack

    monkeypatch.setitem(sys.modules, "deploy.fixed_costs", None)  # an import of it raises ImportError
    exported = export_stack(str(BASE[0]))
    assert exported["plan"] and exported["fixed_costs"] is None and exported["fixed_costs_unknown"] == "version"
