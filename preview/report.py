"""The pull-request report: for each stack, the chosen hardware and cost, the per-GPU memory budget, the alternatives,
the resources the program creates, and the change against the base branch. Markdown for a PR comment, or JSON.

Deterministic: the same inputs give the same bytes (stacks sorted by name, fixed number formats, no clock)."""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from deploy.fixed_costs import LABELS, FixedCosts, assumptions_used
from deploy.plan_lock import plan_differences
from preview.resource_diff import Inputs, ResourceChange, resource_changes
from sizing.cli.render import bought, latency_targets
from sizing.planner.results import Candidate, Plan
from sizing.redact import safe_text

LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
MARKER = "<!-- llm-fleet-report -->"
"""Hidden first line; the workflow finds its own comment by it and updates it instead of adding another."""
Status = Literal["unchanged", "changed", "new", "deleted", "infeasible"]
K8sName = Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")]
"""A Kubernetes object name (DNS subdomain): safe to print in Markdown."""
TypeName = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,20}\.[a-z0-9-]{1,20}$")]
"""An EC2 instance type name."""
Zone = Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-[0-9][a-z]$")]
Count = Annotated[int, Field(ge=0, le=1_000_000)]
FixedGap = Literal["version", "region", "plan-json", "unreadable"]
"""Why a stack's fixed overhead is unknown."""
FIXED_GAPS: dict[FixedGap, str] = {
    "version": "the base commit's code does not export it",
    "region": "no prices for its region in fixed_costs.csv",
    "plan-json": "a plan JSON names no stack, so no resources",
    "unreadable": "the exported figures do not parse",
}
"""Each reason, in words."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class KubernetesWorkload(_Frozen):
    """The Deployment or LeaderWorkerSet that serves the model."""

    kind: Literal["Deployment", "LeaderWorkerSet"]
    """Deployment (single-node replicas) or LeaderWorkerSet (multi-node replicas)."""
    namespace: K8sName
    """Its namespace."""
    name: K8sName
    """Its name."""
    replicas: Count
    """Pods (Deployment) or groups (LeaderWorkerSet) at launch."""
    pods_per_replica: Annotated[int, Field(ge=1, le=1000)]
    """Pods per group (1 for a Deployment)."""
    gpus_per_pod: Annotated[int, Field(ge=0, le=64)]
    """nvidia.com/gpu per pod."""
    instance_types: tuple[TypeName, ...] = Field(max_length=100)
    """Instance types the pods may run on."""


class KubernetesNodePool(_Frozen):
    """One Karpenter NodePool."""

    name: K8sName
    """NodePool name."""
    capacity_types: tuple[Literal["on-demand", "spot", "reserved"], ...] = Field(max_length=3)
    """What it buys, in Karpenter's order of preference."""
    gpu_limit: Count
    """nvidia.com/gpu limit."""
    zones: tuple[Zone, ...] = Field(default=(), max_length=10)
    """Zones it may launch in (empty: any)."""


class KubernetesScaling(_Frozen):
    """The KEDA ScaledObject's range."""

    min: Count
    """minReplicaCount."""
    max: Count
    """maxReplicaCount."""


class KubernetesIngress(_Frozen):
    """The ALB Ingress."""

    scheme: Literal["internal", "internet-facing"]
    """Who can reach it."""
    https: bool
    """Whether it terminates TLS with a certificate."""
    paths: tuple[Annotated[str, Field(pattern=r"^/[A-Za-z0-9/_.-]{0,100}$")], ...] = Field(max_length=20)
    """Paths it routes."""


class KubernetesFleet(_Frozen):
    """What an EKS fleet runs (preview/export_stacks.py's summary of the mocked run)."""

    workload: KubernetesWorkload
    """The serving workload."""
    node_pools: tuple[KubernetesNodePool, ...] = Field(max_length=10)
    """Its NodePools."""
    autoscaling: KubernetesScaling | None = None
    """Its autoscaling range."""
    ingress: KubernetesIngress | None = None
    """Its Ingress, if any."""


@dataclass(frozen=True)
class StackResult:
    """One stack on one side of the diff."""

    name: str
    """Stack name ('prod' for Pulumi.prod.yaml)."""
    plan: Plan | None = None
    """The plan (None when infeasible or absent)."""
    error: str | None = None
    """Why no plan: the engine's message."""
    resources: tuple[tuple[str, str], ...] = ()
    """(type, name) of every cloud resource the program creates; empty for a plan JSON input."""
    from_plan_json: bool = False
    """Read from a plan JSON: resources are not known."""
    inputs: Inputs = field(default_factory=dict)
    """Every cloud resource's inputs, by digest ('type::name' -> {input: digest}); values are never kept."""
    blocker: str | None = None
    """Why `pulumi preview` fails although a plan is shown: the stack's plan lock was made for other config (the plan
    is the fresh one that `--update-lock` would record)."""
    kubernetes: KubernetesFleet | None = None
    """Platform eks: the workload, NodePools, autoscaling range and ingress the program emits."""
    fixed_costs: FixedCosts | None = None
    """The overhead of what the stack creates besides its instances (None: unknown, fixed_unknown says why)."""
    fixed_unknown: FixedGap | None = None
    """Why the fixed overhead is unknown (None where it is known, or where there is no plan)."""

    @property
    def fixed_monthly(self) -> float | None:
        """The fixed overhead, USD a month (None: unknown)."""
        return self.fixed_costs.usd_per_month if self.fixed_costs else None


@dataclass(frozen=True)
class StackDiff:
    """A stack, before and after."""

    name: str
    """Stack name."""
    base: StackResult | None
    """The stack on the base branch (None: new in this change)."""
    head: StackResult | None
    """The stack on the head branch (None: deleted by this change)."""

    @property
    def changes(self) -> list[ResourceChange]:
        """Resources created, updated, replaced or deleted (stack files on both sides only)."""
        if not self.base or not self.head or self.base.from_plan_json or self.head.from_plan_json:
            return []
        return resource_changes(self.base.inputs, self.head.inputs)

    @property
    def status(self) -> Status:
        if self.head is None:
            return "deleted"
        if self.head.plan is None:
            return "infeasible"
        if self.base is None or self.base.plan is None:
            return "new"
        same_plan = not plan_differences(self.base.plan, self.head.plan) and _money(self.base.plan) == _money(
            self.head.plan
        )
        same_fixed = not self.fixed_compared or _rounded(self.base.fixed_monthly) == _rounded(self.head.fixed_monthly)
        return "unchanged" if same_plan and same_fixed and not self.changes else "changed"

    @property
    def fixed_compared(self) -> bool:
        """Whether the costs include the fixed overhead: it is known on every side that has a plan. Otherwise neither
        side's is counted, so that the change compares like with like."""
        return all(s.fixed_costs is not None for s in (self.base, self.head) if s and s.plan)

    def _hourly(self, side: StackResult | None) -> float:
        """A side's cost per hour: the fleet's, and its fixed overhead where fixed_compared."""
        if side is None or side.plan is None:
            return 0.0
        fixed = side.fixed_costs.usd_per_hour if side.fixed_costs and self.fixed_compared else 0.0
        return side.plan.hourly_cost_usd + fixed

    @property
    def base_monthly(self) -> float:
        return (
            self._hourly(self.base) * self.base.plan.assumptions.hours_per_month
            if self.base and self.base.plan
            else 0.0
        )

    @property
    def head_monthly(self) -> float:
        return (
            self._hourly(self.head) * self.head.plan.assumptions.hours_per_month
            if self.head and self.head.plan
            else 0.0
        )

    @property
    def head_hourly(self) -> float:
        return self._hourly(self.head)


@dataclass
class Report:
    """Every stack's diff."""

    diffs: list[StackDiff] = field(default_factory=list)
    """One per stack name on either side, sorted by name."""

    @property
    def failed(self) -> bool:
        """A head stack is infeasible or fails preview on its plan lock: the job fails."""
        return any(d.status == "infeasible" or (d.head and d.head.blocker) for d in self.diffs)


MARKDOWN_ACTIVE = re.compile(r"([\\`*_\[\]<>|~#!])")
"""Characters that start Markdown or HTML structure inline (emphasis, links, code, tags, table cells, headings)."""
LINE_BREAK = re.compile(r"\s*[\r\n]+\s*")


def _text(value: object) -> str:
    """A value the report did not write, as inline Markdown that renders as the text it is: redacted, control and
    bidirectional characters escaped, line breaks joined, Markdown's active characters backslash-escaped (a newline
    and '## Approved' in a plan JSON's model name stays text, not a heading)."""
    return MARKDOWN_ACTIVE.sub(r"\\\1", LINE_BREAK.sub(" ", safe_text(str(value))))


def _code(value: object) -> str:
    """A value the report did not write, inside an inline code span (`name`): no backtick, line break or table pipe
    can end it, and no copy of the report's marker is in it."""
    text = LINE_BREAK.sub(" ", safe_text(str(value))).replace("`", "'").replace("|", "\\|").replace("<!--", "< !--")
    return f"`{text}`"


def _fenced(value: object) -> str:
    """A message the report did not write, inside a ``` block: lines kept, no backtick fence or report marker in it."""
    return safe_text(str(value)).replace("`", "'").replace("<!--", "< !--")


def _hardware(p: Plan) -> str:
    """The choice's one-line label (Candidate.label, DP and EP included), with a typographic multiplication sign."""
    return _text(p.choice.label).replace(" x ", " × ", 1)


def _money(p: Plan) -> tuple[float, float]:
    return round(p.hourly_cost_usd, 2), round(p.cost_per_million_output_tokens_usd, 2)


def _rounded(usd: float | None) -> float | None:
    return None if usd is None else round(usd, 2)


NOT_FINITE = "**error: not a finite number**"
"""How a non-finite amount is shown (a plan JSON's 1e999 is refused on reading; this is the last line of defence)."""


def _usd(x: float) -> str:
    if not math.isfinite(x):
        return NOT_FINITE
    return f"${x:,.2f}" if abs(x) < 1000 else f"${x:,.0f}"


def _delta(before: float, after: float, inline: bool = False) -> str:
    """'+$4,212 (+18%)', or '+$4,212, +18%' inside parentheses."""
    change = after - before
    if not math.isfinite(change):
        return NOT_FINITE
    sign = "+" if change >= 0 else "−"
    if not before:
        return f"{sign}{_usd(abs(change))}"
    pct = f"{sign}{abs(change) / before * 100:.0f}%"
    return f"{sign}{_usd(abs(change))}, {pct}" if inline else f"{sign}{_usd(abs(change))} ({pct})"


def build(head: list[StackResult], base: list[StackResult]) -> Report:
    """Pair stacks by name."""
    by_head, by_base = {s.name: s for s in head}, {s.name: s for s in base}
    return Report([StackDiff(n, by_base.get(n), by_head.get(n)) for n in sorted(set(by_head) | set(by_base))])


def summary_line(report: Report) -> str:
    before = sum(d.base_monthly for d in report.diffs)
    after = sum(d.head_monthly for d in report.diffs)
    counts = Counter(d.status for d in report.diffs)
    parts = ", ".join(f"{counts[s]} {s}" for s in ("changed", "new", "deleted", "infeasible", "unchanged") if counts[s])
    apart = [d.name for d in report.diffs if not d.fixed_compared]
    fixed = (
        f" Fixed overhead left out for {', '.join(_code(n) for n in apart)} (unknown on a side: see the stack)."
        if apart
        else " Fixed overhead (network, load balancer, secret, logs, monitoring, disks) included."
    )
    return (
        f"**Monthly cost {_delta(before, after)}**: {_usd(before)} → {_usd(after)} a month across {len(report.diffs)} "
        f"stack(s) ({parts}).{fixed}"
    )


def _overview(report: Report) -> list[str]:
    rows = [
        "| stack | status | hardware | $/hour | $/month | of which fixed | $/M output tokens |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for d in report.diffs:
        h = d.head.plan if d.head and d.head.plan else None
        b = d.base.plan if d.base and d.base.plan else None
        hardware = _hardware(h) if h else ("—" if d.status == "deleted" else "no feasible plan")
        if b and h and _hardware(b) != _hardware(h):
            hardware = f"{_hardware(b)} → {hardware}"
        hourly = _usd(d.head_hourly) if h else "—"
        monthly = (_usd(d.head_monthly) if h else "—") + (
            f" ({_delta(d.base_monthly, d.head_monthly, inline=True)})" if b and d.status != "unchanged" else ""
        )
        per_m = _usd(h.cost_per_million_output_tokens_usd) if h else "—"
        status = f"{d.status}, lock out of date" if d.head and d.head.blocker else d.status
        rows.append(f"| {_code(d.name)} | {status} | {hardware} | {hourly} | {monthly} | {_fixed_cell(d)} | {per_m} |")
    return rows


def _fixed_cell(d: StackDiff) -> str:
    """The head's fixed overhead a month: counted, known but left out (the base's is unknown), or unknown."""
    fixed = d.head.fixed_monthly if d.head and d.head.plan else None
    if fixed is None:
        return "—" if d.head is None or d.head.plan is None else "unknown"
    return _usd(fixed) if d.fixed_compared else f"{_usd(fixed)}, not counted"


def _fixed_lines(d: StackDiff, p: Plan) -> list[str]:
    """The head's fixed overhead: what it comes to, against the base's, and each kind of resource in a table."""
    head = d.head
    assert head is not None
    costs = head.fixed_costs
    if costs is None:
        return [
            f"**Fixed overhead:** unknown ({FIXED_GAPS[head.fixed_unknown or 'version']}); the costs are the GPU "
            "fleet's alone.",
            "",
        ]
    base = d.base if d.base and d.base.plan and d.status == "changed" else None
    was = ""
    if base is not None:
        was = (
            f"{_usd(base.fixed_costs.usd_per_month)} → "
            if base.fixed_costs
            else f"unknown on the base side ({FIXED_GAPS[base.fixed_unknown or 'version']}, "
            "so left out of the change) → "
        )
    share = costs.usd_per_month / p.monthly_cost_usd if p.monthly_cost_usd else 0.0
    month = costs.hours_per_month
    rows = ["| resource | count | $/month each | $/month |", "|---|---:|---:|---:|"]
    rows += [
        f"| {LABELS[i.name]} | {i.count} | {_usd(i.usd_per_hour * month)} | {_usd(i.total_usd_per_hour * month)} |"
        for i in costs.items
    ]
    return [
        f"**Fixed overhead:** {was}{_usd(costs.usd_per_month)} a month, +{share:.0%} on the GPU fleet: what the "
        f"stack creates besides its instances ({_text(costs.region)} list prices as of {_text(costs.prices_as_of)}; "
        f"{'; '.join(assumptions_used(costs))} assumed; data processing not counted).",
        "",
        *_details(f"Fixed overhead ({len(costs.items)} kinds of resource)", rows),
    ]


def _memory_chart(p: Plan) -> list[str]:
    m = p.memory_per_gpu
    parts = [
        ("weights", m.weights_gib),
        ("KV cache", max(m.kv_cache_gib, 0.0)),
        ("activations", m.activation_gib),
        ("overhead (non-torch + CUDA graphs)", m.non_torch_gib + m.cuda_graph_gib),
        ("unused", max(m.unused_gib, 0.0)),
    ]
    gpu = re.sub(r"[^A-Za-z0-9 ._-]", "", p.choice.gpu)[:60]  # mermaid text: no quote or line break
    return [
        "```mermaid",
        f"pie showData title Per-GPU memory on {gpu}, GiB of {m.visible_gib:.2f} visible",
        *[f'    "{label}" : {value:.2f}' for label, value in parts],
        "```",
    ]


def _alternative_row(x: Candidate, why: str, chosen: bool = False) -> str:
    name = f"**{_text(x.instance_type)}**" if chosen else _text(x.instance_type)
    return (
        f"| {name} | {_text(x.weights)} | {x.tensor_parallel} | {x.pipeline_parallel} | {x.data_parallel} | "
        f"{'yes' if x.expert_parallel else '-'} | {x.replicas} | {x.instances} | "
        f"{_text(x.purchase)} | {_usd(x.hourly_cost_usd)} | {_usd(x.cost_per_million_output_tokens_usd)} | {why} |"
    )


def _alternatives(p: Plan) -> list[str]:
    rows = [
        "| instance | weights | TP | PP | DP | EP | replicas | instances | purchase | $/hour | $/M tokens | "
        "why it lost |",
        "|---|---|---:|---:|---:|---|---:|---:|---|---:|---:|---|",
        _alternative_row(p.choice, "chosen", chosen=True),
    ]
    rows += [_alternative_row(a.candidate, _text(a.why_lost)) for a in p.alternatives]
    if p.rejected:  # none rejected: say nothing rather than "0 candidate(s) rejected: ."
        rows += ["", f"{len(p.rejected)} candidate(s) rejected: {_text(p.rejected_summary)}."]
    return rows


def _resources(s: StackResult) -> list[str]:
    if s.from_plan_json:
        return ["Resources are listed for stack files only (a plan JSON does not carry the program's inputs)."]
    counts = Counter(t for t, _ in s.resources)
    rows = ["| resource type | count | names |", "|---|---:|---|"]
    for kind in sorted(counts):
        names = ", ".join(_code(n) for t, n in s.resources if t == kind)
        rows.append(f"| {_code(kind)} | {counts[kind]} | {names} |")
    return rows


def _changes(changes: list[ResourceChange]) -> list[str]:
    rows = ["| action | resource type | name | changed inputs |", "|---|---|---|---|"]
    rows += [
        f"| {c.action} | {_code(c.type)} | {_code(c.name)} | {', '.join(_code(i) for i in c.inputs) or '—'} |"
        for c in changes
    ]
    return rows


def _change_counts(changes: list[ResourceChange]) -> str:
    counts = Counter(c.action for c in changes)
    return ", ".join(f"{counts[a]} to {a}" for a in ("create", "update", "replace", "delete") if counts[a])


def _workload(p: Plan) -> str:
    w = p.workload
    targets = latency_targets(w, at_most="≤")
    return (
        f"{_code(p.model)} ({_text(p.weights)} weights, KV {_text(p.kv_dtype)}) in {_text(p.region)}; {w.kind}, "
        f"{_text(w.traffic_text)}, "
        f"{w.input_tokens} in / {w.output_tokens} out tokens" + (f", {targets}" if targets else "")
    )


def _calibration_lines(p: Plan) -> list[str]:
    """The calibration in effect and how well it reproduced its own benchmarks (every value printed is a number or
    matches store.SAFE_TEXT)."""
    cal = p.calibration
    if cal is None:
        return ["**Speed figures:** first-principles model (no calibration).", ""]
    where = f"`{cal.model}` {cal.weights} on {cal.gpu}, `{cal.engine}` {cal.engine_version}, fitted {cal.created}"
    if not cal.applies_to_choice:
        return [
            f"**Speed figures:** first-principles model; the stack's calibration ({where}) does not describe the "
            "chosen hardware.",
            "",
        ]
    return [
        f"**Speed figures: calibrated** from {cal.points} measured points ({where}); residual error on them: median "
        f"{100 * cal.median_abs_error:.1f}%, worst {100 * cal.max_abs_error:.1f}% (throughput and ITL).",
        "",
    ]


def _spot_note(p: Plan) -> str:
    """With spot instances the cost shown is an expectation (the plans are ranked by it): say what AWS bills."""
    c = p.choice
    if not c.spot_instances:
        return ""
    return (
        f" Expected cost, spot risk included; AWS bills {_usd(c.billed_usd_per_hour)}/h while the spot capacity is "
        "held."
    )


def _pool(p: KubernetesNodePool) -> str:
    buys = p.capacity_types[0] + (
        f", falling back to {', '.join(p.capacity_types[1:])}" if p.capacity_types[1:] else ""
    )
    where = f", in {', '.join(p.zones)}" if p.zones else ""
    return f"`{p.name}` ({buys}, at most {p.gpu_limit} GPUs{where})"


def _kubernetes(k: KubernetesFleet, gpu: str) -> list[str]:
    """The EKS fleet in one paragraph: pods, GPUs and types, the autoscaling range, the NodePools, the ingress."""
    w = k.workload
    plural = "s" if w.replicas != 1 else ""
    unit = f"pod{plural}" if w.kind == "Deployment" else f"group{plural} of {w.pods_per_replica} pods"
    scaling = f" ({k.autoscaling.min}–{k.autoscaling.max} with KEDA on vLLM's load)" if k.autoscaling else ""
    types = " or ".join(w.instance_types)
    line = (
        f"**On EKS:** {w.kind} `{w.namespace}/{w.name}`, {w.replicas} {unit}{scaling}, each pod {w.gpus_per_pod} × "
        f"{gpu} on {types}; Karpenter NodePools {', '.join(_pool(p) for p in k.node_pools)}"
    )
    if k.ingress:
        line += (
            f"; {'public' if k.ingress.scheme == 'internet-facing' else 'internal'} ALB "
            f"({'HTTPS' if k.ingress.https else 'HTTP'}) routing {', '.join(k.ingress.paths)} only"
        )
    return [line + ".", ""]


def _rollout(d: StackDiff, c: Candidate) -> list[str]:
    """What `pulumi up` does to serving nodes when the change touches what they run."""
    head = d.head
    workload = head.kubernetes.workload if head and head.kubernetes else None
    if workload and any(ch.action == "update" and ch.name.endswith("-workload") for ch in d.changes):
        unit = "pod by pod: each new pod" if workload.kind == "Deployment" else "group by group: each new group of pods"
        return [
            f"**Rollout:** a new pod template, rolled out {unit} must answer /health (cold start about "
            f"{c.cold_start_s / 60:.1f} min, with a node to launch) before an old one stops and drains.",
            "",
        ]
    if any(ch.action == "update" and ch.type == LAUNCH_TEMPLATE for ch in d.changes):
        return [
            f"**Rollout:** a new launch template version, which every Auto Scaling group of the stack rolls "
            f"out by instance refresh: each node is replaced by one that must pass its /health launch hook "
            f"(cold start about {c.cold_start_s / 60:.1f} min) before the old one leaves.",
            "",
        ]
    return []


def _details(summary: str, lines: list[str]) -> list[str]:
    return ["<details>", f"<summary>{summary}</summary>", "", *lines, "", "</details>", ""]


def _section(d: StackDiff) -> list[str]:
    lines = [f"### {_code(d.name)} — {d.status}", ""]
    if d.status == "deleted":
        b = d.base.plan if d.base else None
        return lines + ([f"Removed: {_hardware(b)}, {_usd(d.base_monthly)} a month.", ""] if b else [])
    head = d.head
    assert head is not None
    if head.plan is None:
        return lines + [
            "**No feasible plan: this stack would fail `pulumi preview`.**",
            "",
            "```",
            _fenced(head.error or ""),
            "```",
            "",
        ]
    p, c = head.plan, head.plan.choice
    if head.blocker:
        lines += [
            "**`pulumi preview` fails until the plan lock is updated** (the plan below is the fresh one that "
            "`--update-lock` would record):",
            "",
            "```",
            _fenced(head.blocker),
            "```",
            "",
        ]
    lines += [f"**Model and workload:** {_workload(p)}.", ""]
    if d.base and d.base.plan and d.status == "changed":
        b = d.base.plan
        lines += [
            f"**Hardware:** {_hardware(b)} → **{_hardware(p)}**",
            "",
            f"**Cost:** {_usd(b.hourly_cost_usd)}/h → {_usd(p.hourly_cost_usd)}/h "
            f"({_delta(b.hourly_cost_usd, p.hourly_cost_usd, inline=True)}); {_usd(b.monthly_cost_usd)} → "
            f"{_usd(p.monthly_cost_usd)} "
            f"a month; {_usd(b.cost_per_million_output_tokens_usd)} → {_usd(p.cost_per_million_output_tokens_usd)} "
            f"per million output tokens.{_spot_note(p)}",
            "",
        ]
    else:
        lines += [
            f"**Hardware:** {_hardware(p)} ({_text(c.gpu)}).",
            "",
            f"**Cost:** {_usd(p.hourly_cost_usd)}/h, {_usd(p.monthly_cost_usd)} a month at "
            f"{p.assumptions.hours_per_month:g} h, {_usd(p.cost_per_million_output_tokens_usd)} per million output "
            f"tokens ({bought(c)}).{_spot_note(p)}",
            "",
        ]
    lines += _fixed_lines(d, p)
    if d.base and d.base.plan and not d.base.from_plan_json and bool(d.base.kubernetes) != bool(head.kubernetes):
        before, after = ("EC2 Auto Scaling groups", "EKS") if head.kubernetes else ("EKS", "EC2 Auto Scaling groups")
        lines += [
            f"**Platform:** {before} → {after}. `pulumi up` creates the new fleet and waits for it before it deletes "
            "the old one; the endpoint changes, so clients must move to the new one.",
            "",
        ]
    if head.kubernetes:
        lines += _kubernetes(head.kubernetes, _text(c.gpu))
    lines += [
        f"**Speed:** TTFT {c.ttft_ms:,.0f} ms, TPOT {c.tpot_ms:.1f} ms at {c.planned_concurrency_per_replica:,.0f} "
        f"requests per replica (capacity {c.concurrency_per_replica:,.0f} within the targets, prefill "
        f"{c.prefill_share:.0%} of step time); cold start {c.cold_start_s / 60:.1f} min.",
        "",
    ]
    lines += _calibration_lines(p)
    lines += _details("Per-GPU memory budget", _memory_chart(p))
    lines += _details(f"Alternatives considered ({p.feasible_count} feasible)", _alternatives(p))
    if d.changes:
        lines += [f"**Resource changes:** {_change_counts(d.changes)} (input values are compared, never shown).", ""]
        lines += _rollout(d, c)
        lines += _details(f"Resource changes ({len(d.changes)})", _changes(d.changes))
    title = "will create" if d.status == "new" else "manages after this change"
    lines += _details(f"Resources `pulumi up` {title} ({len(head.resources)})", _resources(head))
    return lines


def render_markdown(report: Report) -> str:
    """The PR comment."""
    lines = [MARKER, "## llm-fleet: what this change buys", "", summary_line(report), "", *_overview(report), ""]
    for d in report.diffs:
        lines += _section(d)
    prices = sorted({s.plan.prices_as_of for d in report.diffs for s in (d.base, d.head) if s and s.plan})
    hours = sorted(
        {f"{s.plan.assumptions.hours_per_month:g}" for d in report.diffs for s in (d.base, d.head) if s and s.plan}
    )
    lines += [
        f"<sub>Prices: embedded catalog as of {_text(', '.join(prices)) or 'n/a'}; "
        f"{', '.join(hours) or '730'} h a month; the "
        "fixed overhead at the AWS list prices in sizing/data/fixed_costs.csv. Resources from the real Pulumi program "
        "under mocks (no cloud credentials).</sub>",
        "",
    ]
    return "\n".join(lines)


def render_json(report: Report) -> dict:
    """The same content as data."""

    def side(s: StackResult | None) -> dict | None:
        if s is None:
            return None
        return {
            "plan": s.plan.model_dump(mode="json", exclude={"rejected"}) if s.plan else None,
            "error": s.error,
            "blocker": s.blocker,
            "kubernetes": s.kubernetes.model_dump(mode="json") if s.kubernetes else None,
            "fixed_costs": s.fixed_costs.model_dump(mode="json") if s.fixed_costs else None,
            "fixed_costs_unknown": s.fixed_unknown,
            "resources": [list(r) for r in s.resources],
        }

    return {
        "summary": summary_line(report),
        "failed": report.failed,
        "stacks": [
            {
                "name": d.name,
                "status": d.status,
                "base_monthly_cost_usd": round(d.base_monthly, 2),
                "head_monthly_cost_usd": round(d.head_monthly, 2),
                "fixed_costs_included": d.fixed_compared,
                "base": side(d.base),
                "head": side(d.head),
                "resource_changes": [
                    {"action": c.action, "type": c.type, "name": c.name, "inputs": list(c.inputs)} for c in d.changes
                ],
            }
            for d in report.diffs
        ],
    }


def stack_name_of(path: Path) -> str:
    """'prod' for Pulumi.prod.yaml or prod.plan.json."""
    name = path.name
    for prefix, suffix in (("Pulumi.", ".yaml"), ("Pulumi.", ".yml"), ("", ".plan.json"), ("", ".json")):
        if name.startswith(prefix) and name.endswith(suffix):
            return name[len(prefix) : len(name) - len(suffix)]
    return path.stem
