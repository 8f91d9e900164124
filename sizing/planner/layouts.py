"""Which layouts an instance type can host (TP x PP, and for MoE models expert parallelism and data-parallel
attention), and which the engine would refuse outright (sizing/data/vllm_rules.toml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sizing.catalog.formats import WeightFormat
from sizing.catalog.instances import InstanceType, all_instance_types
from sizing.catalog.vllm_rules import layout_refusal
from sizing.memory.layout import Layout, layout_of
from sizing.models.spec import ModelSpec

PARALLEL_DEGREES = (1, 2, 4, 8)
"""TP and in-node PP degrees considered (powers of two, up to one 8-GPU node)."""
MIN_GPUS_FOR_MULTI_NODE = 4
"""Multi-node replicas are built from multi-GPU instances only (one-GPU nodes over the network are never worth it)."""


@dataclass(frozen=True)
class Placement:
    """A layout placed on an instance type."""

    instance: InstanceType
    """The instance type."""
    layout: Layout
    """TP x PP of one replica."""
    nodes_per_replica: int
    """Instances one replica spans (> 1: multi-node, PP across nodes)."""
    replicas_per_instance: int
    """Replicas sharing one instance (several small replicas on an 8-GPU node)."""


@dataclass(frozen=True)
class LayoutRefusal:
    """A layout the engine or the hardware refuses, before any sizing."""

    instance: InstanceType
    """The instance type."""
    layout: Layout
    """TP x PP."""
    reason: str
    """Why, in words."""


def engine_refusal(m: ModelSpec, fmt: WeightFormat, layout: Layout) -> str | None:
    """Why vLLM would refuse this split of the model in this format, with the rule named, or None."""
    refusal = layout_refusal(m, fmt, layout)
    return refusal.reason if refusal else None


def placements(
    m: ModelSpec, instance: InstanceType, max_nodes: int, fmt: WeightFormat
) -> tuple[tuple[Placement, ...], tuple[LayoutRefusal, ...]]:
    """Every layout to try on this instance type, and the ones refused outright (cached per catalog type)."""
    if all_instance_types().get(instance.name) is instance:
        return _catalog_placements(m, instance.name, max_nodes, fmt)
    return _placements(m, instance, max_nodes, fmt)


@cache
def _catalog_placements(
    m: ModelSpec, instance_name: str, max_nodes: int, fmt: WeightFormat
) -> tuple[tuple[Placement, ...], tuple[LayoutRefusal, ...]]:
    return _placements(m, all_instance_types()[instance_name], max_nodes, fmt)


def expert_layouts(m: ModelSpec, gpus: int) -> tuple[Layout, ...]:
    """MoE layouts that fill one node: TP over every GPU with expert parallelism, and for MLA models data-parallel
    attention (dp ranks of tp GPUs each, experts spread over all of them), as vLLM's DeepSeek recipes run it."""
    if m.moe is None or gpus < 2:
        return ()
    found = [layout_of(tp=gpus, ep=True)] if gpus in PARALLEL_DEGREES else []
    if m.mla is not None:
        found += [
            layout_of(tp=gpus // dp, dp=dp, ep=True)
            for dp in PARALLEL_DEGREES
            if dp > 1 and gpus % dp == 0 and gpus // dp in PARALLEL_DEGREES
        ]
    return tuple(found)


def spans_nodes(instance: InstanceType) -> bool:
    """Whether a replica may span instances of this type: a multi-GPU instance with EFA."""
    return instance.whole_gpus >= MIN_GPUS_FOR_MULTI_NODE and instance.efa


def max_replica_nodes(instance: InstanceType, max_nodes: int) -> int:
    """Most instances of this type one replica can span."""
    return max_nodes if spans_nodes(instance) else 1


def _placements(
    m: ModelSpec, instance: InstanceType, max_nodes: int, fmt: WeightFormat
) -> tuple[tuple[Placement, ...], tuple[LayoutRefusal, ...]]:
    gpus = instance.whole_gpus
    found: list[Placement] = []
    refused: list[LayoutRefusal] = []
    for tp in (d for d in PARALLEL_DEGREES if d <= gpus):
        for pp in (d for d in PARALLEL_DEGREES if tp * d <= gpus):
            _add(m, fmt, instance, layout_of(tp=tp, pp=pp), 1, gpus // (tp * pp), found, refused)
    for layout in expert_layouts(m, gpus):
        _add(m, fmt, instance, layout, 1, 1, found, refused)
    for nodes in range(2, max_nodes + 1 if gpus >= MIN_GPUS_FOR_MULTI_NODE else 2):
        layout = layout_of(tp=gpus, pp=nodes)
        if not instance.efa:
            refused.append(
                LayoutRefusal(instance, layout, f"multi-node ({nodes} nodes) needs EFA, which {instance.name} lacks")
            )
            continue
        _add(m, fmt, instance, layout, nodes, 1, found, refused)
    return tuple(found), tuple(refused)


def _add(
    m: ModelSpec,
    fmt: WeightFormat,
    instance: InstanceType,
    layout: Layout,
    nodes: int,
    per_instance: int,
    found: list[Placement],
    refused: list[LayoutRefusal],
) -> None:
    reason = engine_refusal(m, fmt, layout)
    if reason:
        refused.append(LayoutRefusal(instance, layout, reason))
    else:
        found.append(Placement(instance, layout, nodes, per_instance))
