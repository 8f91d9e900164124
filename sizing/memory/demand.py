"""The tutorial's question, answered with the engine's real accounting: how much memory do N concurrent requests of
L tokens need? Weights plus the KV cache they occupy plus the activation peak plus the engine's own overhead."""

from pydantic import BaseModel, ConfigDict

from sizing.catalog.engines import EngineProfile
from sizing.catalog.formats import WeightFormat
from sizing.memory.budget import activation_bytes, activation_dtype_bytes, non_torch_bytes
from sizing.memory.kv import stage_kv_bytes_per_request
from sizing.memory.layout import Layout
from sizing.memory.weights import rope_cache_bytes, stage_weights
from sizing.models.spec import ModelSpec
from sizing.units import BYTES_PER_GIB, to_gib


class MemoryDemand(BaseModel):
    """Memory one GPU needs for a given load, before choosing hardware. GiB = 2^30 bytes."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    weights_gib: float
    """Weights on the most loaded GPU."""
    kv_cache_gib: float
    """Cache for `batch` requests of `seq_len` tokens on that GPU."""
    activation_gib: float
    """Activation peak the engine profiles (max_num_seqs = batch)."""
    overhead_gib: float
    """Non-torch memory (CUDA context, NCCL) plus the CUDA graph pool."""
    batch: int
    """Concurrent requests."""
    seq_len: int
    """Tokens per request (prompt plus output)."""

    @property
    def total_gib(self) -> float:
        """Everything the GPU must hold."""
        return self.weights_gib + self.kv_cache_gib + self.activation_gib + self.overhead_gib


def memory_demand(
    m: ModelSpec,
    fmt: WeightFormat,
    layout: Layout,
    engine: EngineProfile,
    kv_element_bytes: int,
    batch: int,
    seq_len: int,
    max_num_batched_tokens: int | None = None,
) -> MemoryDemand:
    """Memory the most loaded GPU of a replica needs to serve `batch` requests of `seq_len` tokens each (spread over
    the data-parallel attention ranks, each holding its own requests' cache)."""
    per_rank = -(-batch // layout.dp)
    tokens = max_num_batched_tokens or engine.max_num_batched_tokens(engine.large_gpu_threshold_gib, seq_len)
    per_request = stage_kv_bytes_per_request(m, kv_element_bytes, layout, seq_len, engine.sliding_window_kv_savings)
    totals = []
    for s, w in enumerate(stage_weights(m, fmt, layout)):
        weights = w.total_bytes + rope_cache_bytes(m, activation_dtype_bytes(fmt))
        act = activation_bytes(m, fmt, engine, layout, tokens, per_rank, last_stage=s == layout.pp - 1)
        totals.append((weights + per_rank * per_request[s] + act, weights, per_rank * per_request[s], act))
    _, weights, kv, act = max(totals)
    overhead = non_torch_bytes(engine, layout) + engine.cuda_graph_pool_gib * BYTES_PER_GIB
    return MemoryDemand(
        weights_gib=to_gib(weights),
        kv_cache_gib=to_gib(kv),
        activation_gib=to_gib(act),
        overhead_gib=to_gib(overhead),
        batch=batch,
        seq_len=seq_len,
    )
