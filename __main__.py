"""Pulumi program: the stack's llmfleet:* config -> LlmServingFleet -> exports. Wiring only: the component validates,
runs pre-flight and the sizing engine, and fails before any resource on a bad value or an infeasible plan."""

from typing import Any, cast

import pulumi

from components.llm_fleet import LlmServingFleet, LlmServingFleetArgs
from components.stack_config import NAMESPACE, SECTIONS

config = pulumi.Config(NAMESPACE)
raw: dict[str, Any] = {"model": config.get("model"), **{key: config.get_object(key) for key in SECTIONS}}
fleet = LlmServingFleet(pulumi.get_stack(), cast(LlmServingFleetArgs, {k: v for k, v in raw.items() if v is not None}))
pulumi.export("plan", fleet.plan)
pulumi.export("facts", fleet.facts)
pulumi.export("endpoint", fleet.endpoint)
pulumi.export("autoscaling_groups", fleet.group_names)
pulumi.export("api_key_secret", fleet.api_key_secret)  # the Secrets Manager secret clients read the API key from
pulumi.export("plan_locked", fleet.plan_locked)  # whether the deployed plan is the stack's lock
