"""EksFleet: a finished Plan served on an existing EKS cluster. Karpenter buys the plan's nodes, vLLM runs as a
Deployment (single-node replicas) or a LeaderWorkerSet (multi-node replicas), KEDA scales it on vLLM's own metrics.
The AWS side is the API-key secret and the pods' role; the rest are Kubernetes objects, each a resource of its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi

from components.api_key import api_key_secret
from components.eks.identity import PodIdentity, PodIdentityArgs
from components.eks.kube import cluster_provider, k8s_object
from components.eks.nodes import node_class, node_pool
from components.eks.traffic import ingress, pod_monitor, scaled_object
from components.eks.workload import PodInputs, disruption_budget, namespace, service, service_account, workload_manifest
from components.fleet_tags import sizing_tags
from deploy.eks_spec import EksSpec, dns_name, eks_spec
from deploy.options import FleetOptions
from sizing.names import FLEET_TAG, MANAGED_BY, MODEL_TAG
from sizing.planner.results import Plan

BASE_TAGS = MANAGED_BY


@dataclass(frozen=True)
class EksFleetArgs:
    """Inputs of EksFleet."""

    plan: Plan
    """The finished plan."""
    options: FleetOptions = field(default_factory=FleetOptions)
    """platform eks, the cluster, image, weights source, API key, tags."""
    fleet_id: str = ""
    """<project>/<stack>/<component name> (components.fleet.fleet_tag_value)."""
    offered_zones: tuple[str, ...] | None = None
    """Zones offering the planned type (pre-flight; None: unknown)."""
    kubernetes_provider_given: bool = False
    """The program passed a Kubernetes provider in `providers` (children inherit it); else one is built from the
    cluster's endpoint."""


def after(resources: Sequence[pulumi.Resource]) -> pulumi.ResourceOptions:
    """Options that order a resource after others."""
    return pulumi.ResourceOptions(depends_on=list(resources))


class EksFleet(pulumi.ComponentResource):
    """IAM for the pods, Karpenter nodes, vLLM workload, Service, disruption budget, autoscaler, monitor, ingress."""

    endpoint: pulumi.Output[str]
    api_key_secret: pulumi.Output[str]
    spec: EksSpec

    def __init__(self, name: str, args: EksFleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:eks:EksFleet", name, None, opts)
        plan, options = args.plan, args.options
        cluster = options.cluster
        assert cluster is not None  # FleetOptions refuses platform eks without one
        spec = eks_spec(
            plan, options, args.fleet_id, dns_name(pulumi.get_project(), pulumi.get_stack(), name), args.offered_zones
        )
        tags = {**BASE_TAGS, FLEET_TAG: args.fleet_id, MODEL_TAG: plan.model, **options.tags}
        child = pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None)
        api_key = api_key_secret(name, options, tags, child)
        identity = PodIdentity(
            f"{name}-identity",
            PodIdentityArgs(
                cluster=cluster,
                options=options,
                namespace=spec.namespace,
                service_account=spec.name,
                api_key_secret=api_key,
                tags={**tags, **sizing_tags(plan)},
            ),
            opts=child,
        )
        kube = (
            child
            if args.kubernetes_provider_given
            else pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(provider=cluster_provider(name, cluster, plan.region, self))
            )
        )

        def obj(suffix: str, manifest: dict, extra: pulumi.ResourceOptions | None = None) -> pulumi.CustomResource:
            return k8s_object(f"{name}-{suffix}", manifest, pulumi.ResourceOptions.merge(kube, extra))

        ns = obj("namespace", namespace(spec, behind_alb=cluster.ingress == "alb"))
        in_ns = [ns]
        account = obj(
            "service-account",
            service_account(spec, identity.role_arn if cluster.identity == "irsa" else None),
            after(in_ns),
        )
        nodes = [
            obj("node-class", node_class(plan, options, spec)),
            *(obj(f"node-pool-{pool.purchase}", node_pool(spec, pool)) for pool in spec.pools),
        ]
        ready: list[pulumi.Resource] = [account, *nodes, *([identity.association] if identity.association else [])]
        inputs = PodInputs(api_key_secret=api_key, region=plan.region)
        entry = obj("ingress", ingress(plan, options, spec), after(in_ns)) if cluster.ingress == "alb" else None
        if entry is not None:
            ready.append(entry)  # the ALB's target group exists before the pods, whose readiness gates wait on it
        workload = obj(
            "workload",
            workload_manifest(plan, options, spec, inputs),
            pulumi.ResourceOptions(
                depends_on=ready,
                ignore_changes=["spec.replicas"],  # KEDA's HorizontalPodAutoscaler owns it after creation
                custom_timeouts=pulumi.CustomTimeouts(
                    create=f"{spec.create_timeout_s}s", update=f"{spec.update_timeout_s}s"
                ),
            ),
        )
        obj("service", service(options, spec), after(in_ns))
        obj("disruption-budget", disruption_budget(spec), after(in_ns))
        obj("autoscaler", scaled_object(plan, options, spec), after([workload]))
        if cluster.pod_monitor:
            obj("pod-monitor", pod_monitor(options, spec), after(in_ns))
        in_cluster = f"http://{spec.service_name}.{spec.namespace}.svc.cluster.local:{options.api_port}"
        self.endpoint = (
            self._ingress_endpoint(entry, options) if entry is not None else pulumi.Output.from_input(in_cluster)
        )
        self.api_key_secret = pulumi.Output.from_input(api_key)
        self.spec = spec
        self.register_outputs({"endpoint": self.endpoint, "api_key_secret": self.api_key_secret})

    @staticmethod
    def _ingress_endpoint(resource: pulumi.CustomResource, options: FleetOptions) -> pulumi.Output[str]:
        """https://<domain> when one is given, else the ALB's name once the controller has made it."""
        scheme = "https" if options.certificate_arn else "http"
        if options.domain_name:
            return pulumi.Output.from_input(f"https://{options.domain_name}")
        status = resource.status  # type: ignore[attr-defined]  # the object's own status: no Python class types it

        def host(value: object) -> str:
            lb = getattr(getattr(value, "load_balancer", None), "ingress", None) or []
            name = getattr(lb[0], "hostname", None) if lb else None
            return f"{scheme}://{name}" if name else "(the ALB's name, once the AWS Load Balancer Controller made it)"

        return status.apply(host)
