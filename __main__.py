"""Pulumi program: the stack's llmfleet:* config -> LlmServingFleet -> exports. Wiring only: the component validates,
runs pre-flight and the sizing engine, and fails before any resource on a bad value or an infeasible plan."""

from typing import Any, cast

import pulumi
from pulumi.runtime.config import CONFIG, get_config_env

from components.llm_fleet import LlmServingFleet, LlmServingFleetArgs
from deploy.stack_config import NAMESPACE, config_value, namespace_config
from sizing.names import DEPLOYED_PLAN_OUTPUT
from sizing.redact import redact_value

config = pulumi.Config(NAMESPACE)
given = namespace_config({**get_config_env(), **CONFIG.get()})  # every llmfleet:* key: unknown ones fail with the rest
raw: dict[str, Any] = {k: config_value(config.get(k)) for k in given}
fleet = LlmServingFleet(pulumi.get_stack(), cast(LlmServingFleetArgs, {k: v for k, v in raw.items() if v is not None}))
pulumi.export("plan", fleet.plan.apply(redact_value))
pulumi.export("facts", fleet.facts.apply(redact_value))
pulumi.export("endpoint", fleet.endpoint)
pulumi.export("autoscaling_groups", fleet.group_names)  # platform ec2
pulumi.export("node_pools", fleet.node_pools)  # platform eks: the Karpenter NodePools
pulumi.export("workload", fleet.workload)  # platform eks: the Deployment or LeaderWorkerSet serving the model
pulumi.export("api_key_secret", fleet.api_key_secret)  # the Secrets Manager secret clients read the API key from
pulumi.export("plan_locked", fleet.plan_locked)  # whether the deployed plan is the stack's lock
# the whole plan deployed, which the pull-request report reads
pulumi.export(DEPLOYED_PLAN_OUTPUT, redact_value(fleet.fleet_plan.model_dump(mode="json")))
