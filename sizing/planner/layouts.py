"""Which TP x PP layouts an instance type can host, and which the engine would refuse outright."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sizing.catalog.instances import InstanceType, all_instance_types
from sizing.memory.layout import Layout
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


def engine_refusal(m: ModelSpec, layout: Layout) -> str | None:
    """Why vLLM would refuse this split of the model, or None."""
    if m.num_attention_heads % layout.tp:
        return f"{m.num_attention_heads} attention heads are not divisible by TP={layout.tp}"
    if m.mla is None and m.num_kv_heads % layout.tp and layout.tp % m.num_kv_heads:
        return f"{m.num_kv_heads} KV heads and TP={layout.tp}: neither divides the other"
    if layout.pp > m.num_layers:
        return f"PP={layout.pp} exceeds the {m.num_layers} layers"
    return None


def placements(m: ModelSpec, instance: InstanceType, max_nodes: int) -> tuple[tuple[Placement, ...], tuple[LayoutRefusal, ...]]:
    """Every layout to try on this instance type, and the ones refused outright (cached per catalog type)."""
    if all_instance_types().get(instance.name) is instance:
        return _catalog_placements(m, instance.name, max_nodes)
    return _placements(m, instance, max_nodes)


@cache
def _catalog_placements(m: ModelSpec, instance_name: str, max_nodes: int) -> tuple[tuple[Placement, ...], tuple[LayoutRefusal, ...]]:
    return _placements(m, all_instance_types()[instance_name], max_nodes)


def _placements(m: ModelSpec, instance: InstanceType, max_nodes: int) -> tuple[tuple[Placement, ...], tuple[LayoutRefusal, ...]]:
    gpus = instance.whole_gpus
    found: list[Placement] = []
    refused: list[LayoutRefusal] = []
    for tp in (d for d in PARALLEL_DEGREES if d <= gpus):
        for pp in (d for d in PARALLEL_DEGREES if tp * d <= gpus):
            _add(m, instance, Layout(tp=tp, pp=pp), 1, gpus // (tp * pp), found, refused)
    for nodes in range(2, max_nodes + 1 if gpus >= MIN_GPUS_FOR_MULTI_NODE else 2):
        layout = Layout(tp=gpus, pp=nodes)
        if not instance.efa:
            refused.append(LayoutRefusal(instance, layout, f"multi-node ({nodes} nodes) needs EFA, which {instance.name} lacks"))
            continue
        _add(m, instance, layout, nodes, 1, found, refused)
    return tuple(found), tuple(refused)


def _add(m: ModelSpec, instance: InstanceType, layout: Layout, nodes: int, per_instance: int,
         found: list[Placement], refused: list[LayoutRefusal]) -> None:
    reason = engine_refusal(m, layout)
    if reason:
        refused.append(LayoutRefusal(instance, layout, reason))
    else:
        found.append(Placement(instance, layout, nodes, per_instance))
