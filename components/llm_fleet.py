"""LlmServingFleet: a model and a workload in, a sized and provisioned vLLM fleet out.

The package's component (type token llmfleet:index:LlmServingFleet, hosted for every Pulumi language by provider/).
It validates its inputs, runs pre-flight against the account and the sizing engine, and only then registers anything:
a bad input or an infeasible plan fails with the engine's message and no resource exists. The fleet itself is emitted
by the plan-taking ServingFleet, the lower layer."""

# No `from __future__ import annotations`: Pulumi's schema analyzer reads these annotations at run time.
from typing import Any, NotRequired, TypedDict

import pulumi

from components.eks.fleet import EksFleet, EksFleetArgs
from components.errors import FleetInputError
from components.fleet import ServingFleet, ServingFleetArgs, fleet_tag_value
from components.package_types import DeploymentArgs, FleetArgs, PreflightArgs, WorkloadArgs
from components.summary import PlanSummary, plan_summary
from deploy.errors import ConfigError
from deploy.names import check_stack_name
from deploy.plan_lock import stack_lock_path
from deploy.stack_config import NAMESPACE, StackConfig, load_stack_config
from deploy.stack_plan import DeployPlan, plan_for_deploy
from sizing.bounded import parse_json
from sizing.errors import InfeasibleError, SizingError
from sizing.limits import MAX_CONFIG_BYTES
from sizing.models.hf_config import spec_from_hf_config
from sizing.models.spec import ModelSpec
from sizing.names import PACKAGE
from sizing.redact import redact

"""The Pulumi package name (schema, type tokens, `pulumi package add`)."""
TYPE_TOKEN = f"{PACKAGE}:index:LlmServingFleet"
COMPOSABLE_PATHS = {
    "fleet.vpc_id",
    "fleet.subnet_ids",
    "fleet.lb_subnet_ids",
    "fleet.alarm_topic_arn",
    "fleet.allowed_security_group_ids",
    "fleet.certificate_arn",
    "fleet.weights.hf_token_secret_arn",
    "fleet.weights.hf_token_ssm_parameter",
    "fleet.cluster.oidc_provider_arn",
}
"""Inputs that may be Outputs: they wire resources together and never change how many there are or their size."""


class LlmServingFleetArgs(TypedDict):
    """What to serve, for what traffic, and how to deploy it."""

    model: str
    """A preset name (llama-3.1-8b) or a preset's Hugging Face repo id; with hf_config, the name to serve it under."""
    hf_config: NotRequired[dict[str, Any]]
    """The contents of the model's config.json, for a model that is not a preset."""
    workload: NotRequired[WorkloadArgs]
    """The traffic to serve (concurrency, token lengths, latency targets)."""
    deployment: NotRequired[DeploymentArgs]
    """Where and how the fleet may run (region, instance types, weight format, purchase)."""
    fleet: NotRequired[FleetArgs]
    """Network, access, image, weights source and tags."""
    preflight: NotRequired[PreflightArgs]
    """Checks against the AWS account before planning."""


def _outputs_in(value: Any, path: str) -> list[str]:
    """Paths under `value` that hold a pulumi Output and may not."""
    if path in COMPOSABLE_PATHS:
        return []
    if isinstance(value, pulumi.Output):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _outputs_in(v, f"{path}.{k}")]
    if isinstance(value, (list, tuple)):
        return [p for i, v in enumerate(value) for p in _outputs_in(v, f"{path}[{i}]")]
    return []


def _model_spec(args: LlmServingFleetArgs) -> ModelSpec | None:
    config = args.get("hf_config")
    if config is None:
        return None
    if isinstance(config, str):  # a config.json passed as text
        if len(config) > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"hf_config is {len(config):,} characters, over the {MAX_CONFIG_BYTES:,} limit. "
                "To fix: pass the contents of the model's config.json."
            )
        config = parse_json(config, "hf_config", "pass the contents of config.json.", error=ConfigError)
    if not isinstance(config, dict):
        raise ConfigError(
            f"hf_config must be the mapping in config.json, not {type(config).__name__}. To fix: pass "
            "the file's contents (an object with hidden_size, num_hidden_layers, ...)."
        )
    return spec_from_hf_config(config, name=str(args["model"]), source="config.json given to LlmServingFleet")


def stack_config_of(args: LlmServingFleetArgs, aws_region: str | None) -> StackConfig:
    """The component's inputs as the validated models the engine and ServingFleet take. Sizing inputs must be known
    now (they decide which resources exist): an Output there is refused with the path and the fix."""
    raw: dict[str, Any] = {k: v for k, v in dict(args).items() if v is not None and k != "hf_config"}
    late = [p for k, v in raw.items() for p in _outputs_in(v, k)]
    if late:
        raise ConfigError(
            f"{', '.join(late)} must be known before deployment: these inputs size the fleet and decide "
            "which resources exist, so they cannot be Outputs of other resources. To fix: pass plain "
            f"values (only {', '.join(sorted(COMPOSABLE_PATHS))} may be Outputs)."
        )
    return load_stack_config(raw, aws_region=aws_region, model=_model_spec(args))


def size(args: LlmServingFleetArgs, aws_region: str | None) -> tuple[StackConfig, DeployPlan]:
    """Validated inputs and the plan to deploy (the stack's plan lock, stacks/Pulumi.<stack>.plan.json, when it has
    one); raises FleetInputError (the engine's message, no traceback)."""
    try:
        check_stack_name(pulumi.get_stack())
        stack = stack_config_of(args, aws_region)
        config = {k: v for k, v in dict(args).items() if v is not None}
        deploy = plan_for_deploy(stack, config, aws_region, stack_lock_path(pulumi.get_stack()))
    except SizingError as exc:
        raise FleetInputError(redact(str(exc)), infeasible=isinstance(exc, InfeasibleError)) from None
    return stack, deploy.model_copy(update={"warnings": tuple(redact(w) for w in deploy.warnings)})


def _kubernetes_provider_given(opts: pulumi.ResourceOptions | None) -> bool:
    """Whether the program passed a Kubernetes provider for the component's children (`providers`)."""
    providers = opts.providers if opts else None
    if not providers:
        return False
    if isinstance(providers, dict):
        return "kubernetes" in providers
    return any(getattr(p, "package", None) == "kubernetes" for p in providers)


class LlmServingFleet(pulumi.ComponentResource):
    """A vLLM serving fleet on AWS, sized by the llm-fleet engine from a model and a workload, then provisioned."""

    endpoint: pulumi.Output[str]
    """URL of the fleet's OpenAI-compatible API: https:// on the custom domain or the load balancer with a certificate
    (eks without an Ingress: the Service's in-cluster URL)."""
    group_names: pulumi.Output[list[str]]
    """Names of the Auto Scaling groups (platform ec2; empty on eks)."""
    node_pools: pulumi.Output[list[str]]
    """Names of the Karpenter NodePools (platform eks; empty on ec2)."""
    workload: pulumi.Output[str]
    """The Kubernetes workload serving the model, kind/namespace/name (platform eks; empty on ec2)."""
    plan: pulumi.Output[PlanSummary]
    """What the sizing engine chose, and what it costs."""
    facts: pulumi.Output[dict[str, str]]
    """Where each kind of fact came from (live from the account, cached, or the embedded catalog), and when."""

    def __init__(self, name: str, args: LlmServingFleetArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        stack, deploy = size(args, pulumi.Config("aws").get("region") or None)
        fleet_plan = deploy.plan
        super().__init__(TYPE_TOKEN, name, None, opts)
        for warning in deploy.warnings:
            pulumi.log.warn(warning, resource=self)
        # What the program ordered the component after (a cluster's add-ons) orders its resources too.
        child = pulumi.ResourceOptions(parent=self, depends_on=opts.depends_on if opts else None)
        if stack.fleet.platform == "eks":
            eks = EksFleet(
                name,
                EksFleetArgs(
                    plan=fleet_plan,
                    options=stack.fleet,
                    fleet_id=fleet_tag_value(name),
                    offered_zones=deploy.offered_zones,
                    kubernetes_provider_given=_kubernetes_provider_given(opts),
                ),
                opts=child,
            )
            self.endpoint, self.api_key_secret = eks.endpoint, eks.api_key_secret
            self.group_names = pulumi.Output.from_input([])
            self.node_pools = pulumi.Output.from_input([p.name for p in eks.spec.pools])
            kind = "LeaderWorkerSet" if eks.spec.multi_node else "Deployment"
            self.workload = pulumi.Output.from_input(f"{kind}/{eks.spec.namespace}/{eks.spec.name}")
        else:
            fleet = ServingFleet(name, ServingFleetArgs(plan=fleet_plan, options=stack.fleet), opts=child)
            self.endpoint, self.api_key_secret = (
                fleet.endpoint,
                fleet.api_key_secret,
            )  # (api_key_secret: no schema output)
            self.group_names = fleet.group_names
            self.node_pools, self.workload = pulumi.Output.from_input([]), pulumi.Output.from_input("")
        self.fleet_plan = fleet_plan
        self.plan_locked = deploy.locked  # whether the plan came from the stack's lock (not a schema output)
        self.plan = pulumi.Output.from_input(plan_summary(fleet_plan))
        self.facts = pulumi.Output.from_input(dict(deploy.fresh.fact_sources))  # what this run's pre-flight saw
        self.register_outputs(
            {
                "endpoint": self.endpoint,
                "group_names": self.group_names,
                "node_pools": self.node_pools,
                "workload": self.workload,
                "plan": self.plan,
                "facts": self.facts,
            }
        )


__all__ = ["LlmServingFleet", "LlmServingFleetArgs", "NAMESPACE", "PACKAGE", "TYPE_TOKEN"]
