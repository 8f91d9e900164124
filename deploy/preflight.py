"""Pre-flight wiring for the Pulumi program: facts in, plan with facts, quotas checked at the fleet's ceiling."""

from __future__ import annotations

import os
from typing import Any

from deploy.errors import QuotaShortfallError
from deploy.fleet_spec import capacity_spec
from deploy.stack_config import StackConfig
from sizing.live.facts import LiveFacts
from sizing.live.preflight import SWITCH_ENV, ClientFactory, boto_clients, capacity_signals, gather
from sizing.live.quotas import QuotaCheck, check_quotas
from sizing.planner.request import PlanRequest
from sizing.planner.results import Plan


def facts_for(stack: StackConfig, clients: ClientFactory | None = None) -> LiveFacts:
    """Live facts for the stack's region, subnets and allowed instance types."""
    d = stack.request.deployment
    return gather(
        d.region,
        stack.fleet.known_subnet_ids,
        list(d.instance_types) if d.instance_types else None,
        stack.preflight,
        clients,
    )


def with_facts(request: PlanRequest, facts: LiveFacts) -> PlanRequest:
    """The plan request, its deployment carrying the facts."""
    return request.model_copy(update={"deployment": request.deployment.model_copy(update={"facts": facts})})


def quota_checks(plan: Plan, facts: LiveFacts, stack: StackConfig) -> list[QuotaCheck]:
    """The quotas the planned fleet draws on at its autoscaling ceiling."""
    on_demand, spot = capacity_spec(plan, stack.fleet).ceiling
    if stack.fleet.platform == "eks":
        from deploy.eks_spec import eks_ceiling, eks_spec

        offered = (facts.offered_zones or {}).get(plan.instance_type)
        spec = eks_spec(plan, stack.fleet, fleet_id="", name="quota", offered_zones=tuple(offered) if offered else None)
        on_demand, spot = eks_ceiling(spec, plan.choice.gpus_per_instance)
    return check_quotas(facts, plan.instance_type, on_demand, spot)


def enforce_quotas(plan: Plan, facts: LiveFacts, stack: StackConfig) -> list[str]:
    """Quota warnings to show; raises QuotaShortfallError on a shortfall unless the stack chose to only warn."""
    checks = quota_checks(plan, facts, stack)
    short = [c.message for c in checks if c.short]
    if short and stack.preflight.on_quota_shortfall == "fail":
        raise QuotaShortfallError("\n".join(short))
    unknown = [
        f"EC2 quota {c.name!r} not checked (not reported by the account); the fleet needs {c.needed_vcpus} vCPUs"
        for c in checks
        if c.granted_vcpus is None and "quotas" in facts.provenance and facts.provenance["quotas"].origin != "embedded"
    ]
    return short + unknown


def signals_for(plan: Plan, facts: LiveFacts, stack: StackConfig, clients: ClientFactory | None = None) -> list[str]:
    """Spot placement scores and Capacity Block offerings for the chosen type, when asked for and AWS is reachable."""
    if not stack.preflight.capacity_signals or all(p.origin == "embedded" for p in facts.provenance.values()):
        return []
    made = clients or boto_clients(facts.region)
    if isinstance(made, str):
        return []
    return [
        f"capacity: {s}" for s in capacity_signals(facts, plan.instance_type, plan.instances, made).capacity_signals
    ]


def image_notices(plan: Plan, stack: StackConfig) -> list[str]:
    """Platform ec2: what to know about where the nodes pull the serving image (anonymous Docker Hub pulls are limited
    per address; deploy/image_source.py)."""
    if stack.fleet.platform != "ec2":
        return []
    from deploy.fleet_spec import capacity_spec, node_spec
    from deploy.image_source import fleet_image_source, public_pull_notice

    source = fleet_image_source(node_spec(plan, stack.fleet).image, stack.fleet)
    notice = public_pull_notice(source, capacity_spec(plan, stack.fleet).max_nodes)
    return [notice] if notice else []


def cluster_notices(plan: Plan, stack: StackConfig, session: Any = None) -> list[str]:
    """Platform eks: the cluster's Kubernetes version and the CRDs the fleet emits objects of, asked of the cluster
    itself when pre-flight runs (raises MissingPrerequisiteError on what is missing; notices where it cannot ask)."""
    cluster = stack.fleet.cluster
    off = os.environ.get(SWITCH_ENV, "").lower() == "off" or not stack.preflight.enabled
    if stack.fleet.platform != "eks" or cluster is None or off:
        return []
    from deploy.eks_prerequisites import check_cluster, needed

    if session is None:
        try:
            import boto3
        except ImportError:
            return ["eks pre-flight: boto3 is not installed; the cluster's add-ons were not checked"]
        session = boto3.Session(region_name=plan.region)
        if session.get_credentials() is None:
            return ["eks pre-flight: no AWS credentials; the cluster's add-ons were not checked"]
    crds = needed(plan.choice.nodes_per_replica > 1, cluster.pod_monitor)
    return check_cluster(cluster.name, plan.region, crds, session)
