"""The tags that declare, on a launch template or node group, what model its GPUs serve and at which context. The
components set them; the policy pack (policy/) reads them on any stack, hand-written fleets included, and checks with
the sizing engine that the instance type's GPUs can hold that model.

Only `llmfleet:model` and `llmfleet:max-model-len` are needed for the check; the others default as noted."""

from __future__ import annotations

from sizing.names import ANNOTATION_PREFIX, MODEL_TAG, TAG_PREFIX
from sizing.planner.results import Plan

MODEL = MODEL_TAG
"""Preset name or Hugging Face repo id of a preset (sizing/data/models/)."""
MAX_MODEL_LEN = f"{TAG_PREFIX}max-model-len"
"""--max-model-len the engine is started with, tokens."""
WEIGHTS = f"{TAG_PREFIX}weights"
"""Weight format served (bf16, fp8, int4-awq, ...); default: the checkpoint's own."""
KV_DTYPE = f"{TAG_PREFIX}kv-dtype"
"""KV cache dtype (auto or fp8); default: auto."""
TENSOR_PARALLEL = f"{TAG_PREFIX}tensor-parallel"
"""--tensor-parallel-size; default: every GPU of the instance."""
PIPELINE_PARALLEL = f"{TAG_PREFIX}pipeline-parallel"
"""--pipeline-parallel-size; default: 1."""
GPU_MEMORY_UTILIZATION = f"{TAG_PREFIX}gpu-memory-utilization"
"""--gpu-memory-utilization; default: the engine's."""


def sizing_tags(plan: Plan) -> dict[str, str]:
    """The declaration tags of a planned fleet."""
    c = plan.choice
    return {
        MODEL: plan.model,
        MAX_MODEL_LEN: str(plan.max_model_len),
        WEIGHTS: plan.weights,
        KV_DTYPE: plan.kv_dtype,
        TENSOR_PARALLEL: str(c.tensor_parallel),
        PIPELINE_PARALLEL: str(c.pipeline_parallel),
        GPU_MEMORY_UTILIZATION: f"{plan.memory_per_gpu.gpu_memory_utilization:g}",
    }


# Kubernetes carries the same declaration as pod annotations: a tag's key after 'llmfleet:' under ANNOTATION_PREFIX
# (sizing/names.py; an annotation key's name part may not hold ':':
# https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations/).


def annotation_key(tag: str) -> str:
    """llm-fleet.io/model for llmfleet:model."""
    return ANNOTATION_PREFIX + tag.split(":", 1)[1]


def tags_from_annotations(annotations: dict[str, str]) -> dict[str, str]:
    """The declaration tags a pod's annotations carry (the inverse of annotation_key)."""
    return {
        f"{TAG_PREFIX}{k.removeprefix(ANNOTATION_PREFIX)}": str(v)
        for k, v in annotations.items()
        if k.startswith(ANNOTATION_PREFIX)
    }


def sizing_annotations(plan: Plan) -> dict[str, str]:
    """The declaration of a planned fleet as pod annotations."""
    return {annotation_key(k): v for k, v in sizing_tags(plan).items()}


def fleet_slug(fleet_id: str) -> str:
    """<project>-<stack>-<name> of a fleet id <project>/<stack>/<name>, repeated parts once: the base of names that
    must be unique in an account and region (load balancer, target group, dashboard)."""
    return "-".join(dict.fromkeys(fleet_id.split("/")))
