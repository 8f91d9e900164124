"""Rejected candidates with their reasons and margins, and the infeasible error that names the nearest miss."""

from __future__ import annotations

from functools import cache

from sizing.catalog.formats import WeightFormat
from sizing.catalog.instances import InstanceType, all_instance_types, not_planned_types
from sizing.catalog.vllm_rules import kernel_refusal
from sizing.errors import InfeasibleError
from sizing.memory.layout import Layout
from sizing.models.spec import ModelSpec
from sizing.planner.pricing import Priced
from sizing.planner.replica import ReplicaMiss
from sizing.planner.request import Deployment, PlanRequest
from sizing.planner.results import Rejection, RejectionKind


def reject(
    p_instance: InstanceType,
    layout: Layout | None,
    kind: RejectionKind,
    reason: str,
    miss: ReplicaMiss | None = None,
    weights: str = "",
) -> Rejection:
    return Rejection(
        instance_type=p_instance.name,
        weights=weights,
        tensor_parallel=layout.tp if layout else None,
        pipeline_parallel=layout.pp if layout else None,
        expert_parallel=layout.ep if layout else False,
        data_parallel=layout.dp if layout else 1,
        kind=kind,
        reason=reason,
        relative_miss=miss.relative_miss if miss else None,
        remedy=miss.remedy if miss else "",
    )


MAX_FLEET_INSTANCES = 20_000
"""The most instances one fleet may buy. AWS's largest unit of GPU capacity, an EC2 UltraCluster, holds up to 20,000
GPUs (https://aws.amazon.com/ec2/ultraclusters/), and an account's GPU quotas are counted in vCPUs per family: a fleet
of more instances than that cluster has GPUs is beyond what any account is granted (a 1e9 requests/s workload planned
2,180,592 instances)."""


def fleet_size_rejection(x: Priced) -> Rejection | None:
    """A placement whose fleet needs more instances than any account can hold, with the figure."""
    n = x.fleet.instances
    if n <= MAX_FLEET_INSTANCES:
        return None
    p = x.placement
    return reject(
        p.instance,
        p.layout,
        "fleet-size",
        f"needs {n:,} instances, more than the {MAX_FLEET_INSTANCES:,} "
        "any AWS account can hold (an EC2 UltraCluster's GPUs)",
        weights=x.fmt.name,
    ).model_copy(
        update={
            "relative_miss": n / MAX_FLEET_INSTANCES - 1,
            "remedy": "lower the traffic (concurrency, requests or tokens per second) or split it across "
            "fleets and regions",
        }
    )


def offering_rejection(instance: InstanceType, d: Deployment) -> Rejection | None:
    """Live offerings: a type no zone of the fleet offers is rejected."""
    facts = d.facts
    offered = facts.offered_zones if facts else None
    if offered is None or instance.name not in offered or offered[instance.name]:
        return None  # no live facts, not asked about, or offered in at least one zone
    origin = facts.provenance.get("offerings") if facts else None
    where = f"{origin.origin} offerings, {origin.as_of}" if origin else "live offerings"
    zones = ", ".join(facts.zones) if facts and facts.zones else d.region
    return reject(instance, None, "offering", f"not offered in {zones} ({where})")


def instance_rejection(instance: InstanceType, d: Deployment) -> Rejection | None:
    region = d.region
    if instance.whole_gpus == 0:
        return reject(
            instance,
            None,
            "layout",
            f"fractional GPU ({instance.gpus:g} of an {instance.gpu.name}): "
            "a vGPU slice cannot host a vLLM replica the planner can size",
        )
    if d.purchase == "capacity-block":
        if region in instance.capacity_block_usd_per_hour:
            return None
        return reject(
            instance,
            None,
            "offering",
            f"no Capacity Block rate for {region} in the catalog (sizing/data/capacity_blocks.csv)",
        )
    if region not in instance.od_usd_per_hour:
        why = instance.not_offered_reason.get(region, "no price in the catalog")
        return reject(instance, None, "offering", f"not offered in {region} ({why})")
    return None


def format_rejection(instance: InstanceType, fmt: WeightFormat, m: ModelSpec | None = None) -> Rejection | None:
    """vLLM has no kernels for this weight format, or this model's attention, on this GPU generation."""
    refusal = kernel_refusal(instance.gpu, fmt, m)
    return reject(instance, None, "engine", refusal.reason, weights=fmt.name) if refusal else None


@cache
def not_planned_rejections(region: str, allowed: tuple[str, ...] | None) -> tuple[Rejection, ...]:
    """Accelerated types sold in the region (or allowed by name) that the planner does not size, each with its
    reason."""
    return tuple(
        Rejection(
            instance_type=n.instance_type,
            tensor_parallel=None,
            pipeline_parallel=None,
            kind="accelerator",
            reason=f"{n.accelerators} x {n.accelerator}: {n.reason}",
        )
        for n in not_planned_types().values()
        if (n.instance_type in allowed if allowed is not None else (not n.regions or region in n.regions))
    )


def infeasible(req: PlanRequest, rejected: list[Rejection]) -> InfeasibleError:
    sized = [r for r in rejected if r.relative_miss is not None]
    if not sized:
        return InfeasibleError(
            f"No instance type can serve {req.model.name!r} in {req.deployment.region}.",
            rejected[0].reason if rejected else "no instance types to consider",
            "allow more instance types (--instance-types) or another region" + _regions_offering(req, rejected) + ".",
        )
    # A latency miss got past the memory check, so it is nearer than any memory miss; then the smallest miss.
    # (a fleet too large for any account fitted every latency limit, so it is the nearest of all)
    stage = {"memory": 0, "tpot": 1, "ttft": 2, "latency": 3, "fleet-size": 4}
    nearest = min(sized, key=lambda r: (-stage[r.kind], r.relative_miss))
    return InfeasibleError(
        f"No candidate meets the request for {req.model.name!r} ({len(rejected)} rejected).",
        f"{nearest.instance_type} {nearest.parallel_label}: {nearest.reason}",
        nearest.remedy,
    )


REGIONS_NAMED = 6
"""How many regions an infeasible-offering error names."""


def _regions_offering(req: PlanRequest, rejected: list[Rejection]) -> str:
    """' (p5.48xlarge is sold in us-east-1, ...)' when the request named types that this region does not sell: the
    regions that do, cheapest first."""
    names = req.deployment.instance_types
    if not names or any(r.kind != "offering" for r in rejected if r.instance_type in names):
        return ""
    catalog = all_instance_types()
    parts = []
    for name in dict.fromkeys(n.strip().lower() for n in names):
        prices = catalog[name].od_usd_per_hour if name in catalog else {}
        regions = sorted(prices, key=lambda r: (prices[r], r))  # cheapest first
        if regions:
            more = f" and {len(regions) - REGIONS_NAMED} more" if len(regions) > REGIONS_NAMED else ""
            parts.append(f"{name} is sold in {', '.join(regions[:REGIONS_NAMED])}{more}")
    return f" ({'; '.join(parts)})" if parts else ""
