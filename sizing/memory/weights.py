"""Weight bytes per GPU after tensor and pipeline parallelism, with each tensor stored in its format's precision."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sizing.catalog.formats import WeightFormat
from sizing.memory.kv import kv_heads_per_gpu
from sizing.memory.layout import Layout, stage_layer_ranges
from sizing.models.params import ParamGroup, embedding_groups, head_groups, layer_groups_of_kind
from sizing.models.spec import ModelSpec


@dataclass(frozen=True)
class StageWeights:
    """Weight bytes one GPU of a pipeline stage holds."""

    expert_bytes: float
    """Routed-expert weights (only the touched experts are read per decode step)."""
    other_bytes: float
    """Everything else (read every decode step)."""
    layers: int
    """Decoder layers in the stage."""

    @property
    def total_bytes(self) -> float:
        """All weight bytes on the GPU."""
        return self.expert_bytes + self.other_bytes


def _shard_fraction(g: ParamGroup, m: ModelSpec, layout: Layout) -> float:
    if g.role == "expert":
        return 1 / layout.expert_ranks  # a slice of every expert, or (EP) whole experts: the same bytes per GPU
    if g.shard == "tp":
        return 1 / layout.tp
    if g.shard == "kv":
        return kv_heads_per_gpu(m, layout.tp) / m.num_kv_heads
    return 1.0


def _group_bytes(
    groups: tuple[ParamGroup, ...], m: ModelSpec, fmt: WeightFormat, layout: Layout
) -> tuple[float, float]:
    """(expert bytes, other bytes) one GPU holds for these groups. Outside the experts, data-parallel attention ranks
    each hold a full copy of their TP shard."""
    expert = other = 0.0
    for g in groups:
        size = g.params * fmt.bytes_per_weight(g.role) * _shard_fraction(g, m, layout)
        if g.role == "expert":
            expert += size
        else:
            other += size
    return expert, other


def rope_cache_bytes(m: ModelSpec, activation_bytes: int) -> int:
    """The engine's cos/sin table: one row of rotary_dim per position, in the activation dtype."""
    return m.max_position_embeddings * m.rotary_dim * activation_bytes


@cache
def stage_weights(m: ModelSpec, fmt: WeightFormat, layout: Layout) -> tuple[StageWeights, ...]:
    """Per pipeline stage, the weight bytes on one of its GPUs."""
    ranges = stage_layer_ranges(m.num_layers, layout.pp)
    stages = []
    for s, layers in enumerate(ranges):
        moe_layers = sum(1 for i in layers if m.is_moe_layer(i))  # one pass; never concatenating groups layer by layer
        groups: tuple[ParamGroup, ...] = ()
        if s == 0:
            groups += embedding_groups(m)
        if s == len(ranges) - 1:
            groups += head_groups(m, separate_stage=layout.pp > 1)
        expert, other = _group_bytes(groups, m, fmt, layout)
        for count, moe_layer in ((moe_layers, True), (len(layers) - moe_layers, False)):
            if count:
                e, o = _group_bytes(layer_groups_of_kind(m, moe_layer), m, fmt, layout)
                expert, other = expert + count * e, other + count * o
        stages.append(StageWeights(expert_bytes=expert, other_bytes=other, layers=len(layers)))
    return tuple(stages)


def weight_bytes_per_gpu(m: ModelSpec, fmt: WeightFormat, layout: Layout) -> float:
    """Weight bytes on the most loaded GPU."""
    return max(s.total_bytes for s in stage_weights(m, fmt, layout))


def total_weight_bytes(m: ModelSpec, fmt: WeightFormat) -> float:
    """Weight bytes of the whole checkpoint in this format (one copy, no parallel split)."""
    return weight_bytes_per_gpu(m, fmt, Layout())


def layer_bytes_per_gpu(m: ModelSpec, fmt: WeightFormat, layout: Layout, moe_layer: bool) -> float:
    """Weight bytes one decoder layer of the model (with or without experts) puts on one GPU."""
    expert, other = _group_bytes(layer_groups_of_kind(m, moe_layer), m, fmt, layout)
    return expert + other
