"""Parallel layout of one replica: tensor- and pipeline-parallel degrees, and how layers split into stages."""

from functools import cache

from pydantic import BaseModel, ConfigDict, Field


def layout_label(tp: int, pp: int, dp: int = 1, ep: bool = False) -> str:
    """'TP=8 PP=1', with ' DP=8 EP' for data-parallel attention and expert parallelism: the one place a layout is
    written out for people (a test fails on any other module that builds 'TP=' by hand)."""
    return f"TP={tp} PP={pp}" + (f" DP={dp}" if dp > 1 else "") + (" EP" if ep else "")


class Layout(BaseModel):
    """How one model replica is split across GPUs."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    tp: int = Field(default=1, ge=1)
    """Tensor-parallel degree (GPUs sharing every layer)."""
    pp: int = Field(default=1, ge=1)
    """Pipeline-parallel degree (stages, each holding a slice of the layers)."""
    dp: int = Field(default=1, ge=1)
    """Data-parallel attention ranks inside the replica (vLLM --data-parallel-size with expert parallelism): each rank
    runs attention for its own requests and holds only their cache; MoE experts are spread over all tp x dp GPUs."""
    ep: bool = False
    """Expert parallelism (vLLM --enable-expert-parallel): each GPU holds whole experts, 1/(tp x dp) of them, instead
    of a 1/(tp x dp) slice of every expert."""

    def __hash__(self) -> int:
        # The engine's caches key on layouts; four small fields hash faster as a plain tuple than through pydantic.
        return hash((self.tp, self.pp, self.dp, self.ep))

    @property
    def label(self) -> str:
        """'TP=8 PP=1', as every message and report names a layout (layout_label)."""
        return layout_label(self.tp, self.pp, self.dp, self.ep)

    @property
    def gpus(self) -> int:
        """GPUs per replica."""
        return self.tp * self.pp * self.dp

    @property
    def expert_ranks(self) -> int:
        """GPUs one MoE layer's experts are spread over (the expert-parallel or MoE tensor-parallel group)."""
        return self.tp * self.dp


@cache
def layout_of(tp: int = 1, pp: int = 1, dp: int = 1, ep: bool = False) -> Layout:
    """One shared Layout per degree combination, so the engine's caches find it by identity (the planner builds the
    same layouts for every instance type)."""
    return Layout(tp=tp, pp=pp, dp=dp, ep=ep)


@cache
def stage_layer_counts(num_layers: int, pp: int) -> tuple[int, ...]:
    """Layers per pipeline stage, split the way vLLM does (the remainder goes to the stages before the last)."""
    counts = [num_layers // pp] * pp
    for i in range(2, num_layers % pp + 2):
        counts[-i] += 1
    return tuple(counts)


@cache
def stage_layer_ranges(num_layers: int, pp: int) -> tuple[range, ...]:
    """Layer indices of each pipeline stage."""
    ranges, start = [], 0
    for count in stage_layer_counts(num_layers, pp):
        ranges.append(range(start, start + count))
        start += count
    return tuple(ranges)
