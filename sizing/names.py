"""The names the fleet uses, one definition each: the project's name in its three spellings and the tags, labels
and namespaces built from it. The engine holds them (its cache folder is named after the project); the deployment
layer, the components, the PR report, the policy pack and the provider import them from here."""

from __future__ import annotations

PACKAGE = "llmfleet"
"""The project's name (Pulumi.yaml `name`): the Pulumi package and project, the stack config's namespace
(`llmfleet:model`), the prefix of the components' type tokens (`llmfleet:aws:Compute`) and of the tags the fleet sets
itself (`llmfleet:fleet`), and the head of the names it gives AWS resources (`llmfleet-weights-`, ECR prefixes)."""
CONFIG_NAMESPACE = PACKAGE
"""Namespace of the stack config keys: `llmfleet:workload`, `llmfleet:fleet.vpc_id`."""
TAG_PREFIX = f"{PACKAGE}:"
"""Prefix of the tags the fleet sets itself (reserved: a user tag may not start with it)."""
FLEET_TAG = f"{TAG_PREFIX}fleet"
"""Tag naming the fleet a resource belongs to (IAM conditions scope the node role by it)."""
MODEL_TAG = f"{TAG_PREFIX}model"
"""Tag naming the model a fleet serves (the policy pack reads it)."""
DASHED_NAME = "llm-fleet"
"""The project's name where a name may not hold ':': the generated SDKs' namespace (npm scope), the policy pack, the
`managed-by` labels and tags, the Kubernetes annotation domain (`llm-fleet.io/`) and the default Kubernetes
namespace."""
ANNOTATION_PREFIX = f"{DASHED_NAME}.io/"
"""Domain of the fleet's Kubernetes labels and annotations: `llm-fleet.io/fleet`, `llm-fleet.io/model`."""
MANAGED_BY = {"managed-by": DASHED_NAME}
"""The tag every AWS resource of the fleet carries."""
METRICS_NAMESPACE = "LLMFleet"
"""CloudWatch namespace of the fleet's own metrics (the node role may put metrics in this namespace only)."""
DEPLOYED_PLAN_OUTPUT = "deployed_plan"
"""Stack output holding the whole plan the stack deploys (the lock's, when it is locked), as JSON: what the pull-request
report reads from the program's outputs (the `plan` output is its summary)."""
