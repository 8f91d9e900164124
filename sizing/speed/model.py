"""An analytic speed model of one replica.

Decode: every step, each GPU reads its weight shard (for MoE only the experts the batch touches) and the cache of
every sequence, at `decode_bw_efficiency` of peak bandwidth; the batch's matmuls add compute time at
`decode_compute_efficiency` of dense peak; TP adds two all-reduces per layer; PP keeps up to pp micro-batches in
flight (a bubble when the batch is smaller than pp) and adds a hand-off per stage.
Prefill: 2 x matmul parameters FLOPs per token plus causal attention, at `prefill_compute_efficiency` of dense peak;
routed experts run grouped GEMMs over only the tokens routed to each expert (sizing/speed/moe.py), and a prefill step
pays the same host and MoE/MLA kernel latency as a decode step.
The weight format's kernels on this GPU generation (sizing/data/kernels.toml) set the tensor-core dtype and scale the
weight-read bandwidth, the matmul efficiency and the MoE layer latency.
Assumptions are named in sizing/data/assumptions.toml and checked against tests/data/throughput.csv.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from sizing.catalog.assumptions import Assumptions
from sizing.catalog.formats import WeightFormat
from sizing.catalog.gpus import GpuSpec
from sizing.catalog.kernels import KernelPath, kernel_path
from sizing.memory.budget import activation_dtype_bytes
from sizing.memory.kv import kv_bytes_per_token_per_layer
from sizing.memory.layout import Layout
from sizing.memory.weights import stage_weights
from sizing.models.params import matmul_params
from sizing.models.spec import ModelSpec
from sizing.speed.moe import (
    active_expert_matmul_params,
    attention_flops_per_token_pair,
    busiest_rank_fraction,
    expert_exchange_coeffs,
    expert_gemm_efficiency,
    gemm_half_tokens,
    sparse_layer_latency_s,
    touched_expert_fraction,
)
from sizing.units import MS_PER_S, S_PER_US

Link = Literal["nvswitch", "pcie", "unified", "none"]

ALLREDUCES_PER_LAYER = 2
"""Megatron-style TP: one all-reduce after attention, one after the MLP."""


@dataclass(frozen=True)
class StepTime:
    """One decode step of the whole replica, seconds, split by cause."""

    weights_s: float
    """Reading weight shards."""
    kv_s: float
    """Reading the batch's cache."""
    compute_s: float
    """Batched matmuls."""
    comm_s: float
    """TP all-reduces and PP hand-offs."""
    overhead_s: float
    """Host-side work per step, plus the fixed kernel time of MoE and MLA layers."""

    @property
    def total_s(self) -> float:
        """Step time: the parts are added, not overlapped (fits T1 within 20%)."""
        return self.weights_s + self.kv_s + self.compute_s + self.comm_s + self.overhead_s


@lru_cache(maxsize=1024)
def _matmul_params(m: ModelSpec) -> int:
    return matmul_params(m)


@lru_cache(maxsize=1024)
def _expert_matmul_params(m: ModelSpec) -> int:
    return active_expert_matmul_params(m)


@lru_cache(maxsize=4096)
def _decode_weight_bytes(m: ModelSpec, fmt: WeightFormat, layout: Layout) -> tuple[float, float]:
    """(non-expert bytes, routed-expert bytes) a decode step reads across all stages, per GPU of each stage. The
    input embedding is a lookup of a few rows, so an untied embedding table is not read. Cached: the planner builds a
    replica of every layout on every GPU type."""
    stages = stage_weights(m, fmt, layout)
    lookup = 0.0 if m.tie_word_embeddings else m.vocab_size * m.hidden_size * fmt.bytes_per_weight("other") / layout.tp
    return sum(s.other_bytes for s in stages) - lookup, sum(s.expert_bytes for s in stages)


@dataclass(frozen=True)
class ReplicaSpeed:
    """Speed model of one replica: a model on a GPU type with a layout."""

    model: ModelSpec
    """The model."""
    gpu: GpuSpec
    """The GPU type."""
    fmt: WeightFormat
    """Weight format."""
    layout: Layout
    """TP x PP."""
    kv_element_bytes: int
    """Bytes per KV element."""
    link: Link
    """How the TP group's GPUs are connected."""
    assumptions: Assumptions
    """Efficiencies and latencies."""
    inter_node_pp: bool = False
    """Pipeline stages sit on different nodes."""
    # Derived in __post_init__ (constants of the replica, computed once):
    kernel: KernelPath = field(init=False, repr=False, compare=False)
    _bw_bytes_per_s: float = field(init=False, repr=False, compare=False)
    _weight_bw_bytes_per_s: float = field(init=False, repr=False, compare=False)
    _prefill_efficiency: float = field(init=False, repr=False, compare=False)
    _gemm_half_tokens: float = field(init=False, repr=False, compare=False)
    _flops_per_gpu: float = field(init=False, repr=False, compare=False)
    _matmul_params: int = field(init=False, repr=False, compare=False)
    _expert_matmul_params: int = field(init=False, repr=False, compare=False)
    _expert_exchange: tuple[float, float] = field(init=False, repr=False, compare=False)
    _decode_matmul: tuple[float, float] = field(init=False, repr=False, compare=False)
    _allreduce: tuple[float, float] = field(init=False, repr=False, compare=False)
    _pp_hops_s: float = field(init=False, repr=False, compare=False)
    _weights: tuple[float, float] = field(init=False, repr=False, compare=False)
    _kv_per_layer: int = field(init=False, repr=False, compare=False)
    _overhead_s: float = field(init=False, repr=False, compare=False)
    _prefill_memo: dict[int, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Derived constants, computed once: the planner evaluates thousands of steps per plan.
        m, a, tp = self.model, self.assumptions, self.layout.tp
        kernel = kernel_path(self.gpu, self.fmt)
        bw = self.gpu.hbm_bandwidth_gbps * 1e9 * (a.decode_bw_efficiency or self.gpu.decode_bw_efficiency)
        derived = {
            "kernel": kernel,
            "_bw_bytes_per_s": bw,
            "_weight_bw_bytes_per_s": bw * kernel.decode_bw_factor,
            "_prefill_efficiency": a.prefill_compute_efficiency * kernel.prefill_efficiency_factor,
            "_flops_per_gpu": self.gpu.tflops(kernel.compute_dtype(self.fmt)) * 1e12,
            "_gemm_half_tokens": gemm_half_tokens(
                a,
                self.fmt.bytes_per_weight("expert"),
                self.gpu.tflops(kernel.compute_dtype(self.fmt)) / self.gpu.tflops("bf16"),
            ),
            "_matmul_params": _matmul_params(m),
            "_expert_matmul_params": _expert_matmul_params(m),
            "_expert_exchange": self._expert_exchange_coeffs(),
            "_allreduce": self._allreduce_coeffs(),
            "_pp_hops_s": (self.layout.pp - 1)
            * S_PER_US
            * (a.pp_hop_latency_us_inter_node if self.inter_node_pp else a.pp_hop_latency_us_intra_node),
            "_weights": _decode_weight_bytes(m, self.fmt, self.layout),
            "_kv_per_layer": kv_bytes_per_token_per_layer(m, self.kv_element_bytes, tp),
            "_overhead_s": a.decode_step_overhead_ms / MS_PER_S
            + sparse_layer_latency_s(m, a, kernel.moe_layer_latency_us),
            "_prefill_memo": {},
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)
        object.__setattr__(
            self, "_decode_matmul", self._matmul_coeffs(a.decode_compute_efficiency * kernel.prefill_efficiency_factor)
        )

    @property
    def host_overhead_s(self) -> float:
        """Host-side time of every forward pass (scheduling, sampling, launches), whatever its layers."""
        return self.assumptions.decode_step_overhead_ms / MS_PER_S

    def _allreduce_coeffs(self) -> tuple[float, float]:
        """All-reduces through every layer: (fixed seconds per pass, extra seconds per token in the pass)."""
        if self.layout.tp == 1:
            return 0.0, 0.0
        a, tp = self.assumptions, self.layout.tp
        latency_us = a.allreduce_latency_us_nvswitch if self.link == "nvswitch" else a.allreduce_latency_us_pcie
        ring_bytes_per_token = self.model.hidden_size * activation_dtype_bytes(self.fmt) * 2 * (tp - 1) / tp
        ops = ALLREDUCES_PER_LAYER * self.model.num_layers
        return ops * latency_us * S_PER_US, ops * ring_bytes_per_token / self._allreduce_bandwidth_bytes_per_s()

    def _allreduce_bandwidth_bytes_per_s(self) -> float:
        """Per-GPU bandwidth of the TP ring: the GPU link, less once a PCIe group spans more than one PCIe switch
        (the ring then crosses the root complex or the CPU socket link). The bytes a ring moves, 2 (tp - 1) / tp of
        the message per GPU, already grow with the TP degree and the tokens in the step."""
        a, bw = self.assumptions, self.gpu.link_bandwidth_gbps * 1e9
        if self.link == "pcie" and self.layout.tp > a.pcie_gpus_per_switch:
            return bw * a.allreduce_pcie_cross_switch_bandwidth_share
        return bw

    def _expert_exchange_coeffs(self) -> tuple[float, float]:
        a = self.assumptions
        latency_us = a.allreduce_latency_us_nvswitch if self.link == "nvswitch" else a.allreduce_latency_us_pcie
        return expert_exchange_coeffs(
            self.model, self.layout, latency_us, self.gpu.link_bandwidth_gbps * 1e9, activation_dtype_bytes(self.fmt)
        )

    def _matmul_coeffs(self, efficiency: float) -> tuple[float, float]:
        """Matmul seconds on one GPU (per token of its data-parallel rank, per token of the whole replica): attention
        and dense parts split over TP, routed experts over every expert rank."""
        flops_per_s = self._flops_per_gpu * efficiency
        dense = 2 * (self._matmul_params - self._expert_matmul_params) / self.layout.tp / flops_per_s
        return dense, 2 * self._expert_matmul_params / self.layout.expert_ranks / flops_per_s

    def _allreduce_s(self, tokens: int) -> float:
        """All-reduces of one token batch through every layer of the replica."""
        fixed, per_token = self._allreduce
        return fixed + per_token * tokens

    def _kv_read_bytes(self, context_tokens: int) -> float:
        """Cache bytes one sequence's attention reads per step, summed over stages (sliding layers read the window)."""
        m = self.model
        window = m.sliding_window or context_tokens
        full = m.num_layers - m.num_sliding_layers
        return self._kv_per_layer * (full * context_tokens + m.num_sliding_layers * min(context_tokens, window))

    def _touched_expert_fraction(self, batch: float) -> float:
        """Share of its experts the busiest GPU reads in a step over `batch` tokens."""
        touched = touched_expert_fraction(self.model.moe, batch, self.assumptions.moe_routing_independence)
        return busiest_rank_fraction(self.model.moe, self.layout, touched)

    def _step_parts(self, batch: float, context_tokens: int) -> tuple[float, float, float, float]:
        """(weights, KV, compute, communication) seconds of one decode round, in which every sequence gains a token.

        With PP the engine keeps m = min(pp, batch) micro-batches in flight, so all stages work at once. A round takes
        max(m, pp) micro-batch steps of one stage: with a full pipeline (batch >= pp) each stage reads its weights pp
        times but only 1/pp of the batch's cache and compute lands on the critical path; with batch < pp the pipeline
        has bubbles and a token costs every stage in turn. With pp = 1 this is one plain step.
        Data-parallel attention ranks each carry 1/dp of the sequences (the busiest rank sets the pace); the experts
        serve every rank's tokens."""
        pp, dp = self.layout.pp, self.layout.dp
        if pp == 1:  # one plain step (the planner's common case, kept free of the micro-batch arithmetic)
            share, per_micro = 1.0, batch
        else:
            micro = min(pp, batch) if batch >= 1 else 1
            share, per_micro = max(micro, pp) / pp, batch / micro
        per_rank = math.ceil(per_micro / dp) if dp > 1 else per_micro
        other, expert = self._weights
        touched = self._touched_expert_fraction(per_micro) if expert else 1.0
        weights = share * (other + expert * touched) / self._weight_bw_bytes_per_s
        kv = share * per_rank * self._kv_read_bytes(context_tokens) / self._bw_bytes_per_s
        dense_s, expert_s = self._decode_matmul
        compute = share * (dense_s * per_rank + expert_s * per_micro)
        fixed, per_token = self._allreduce
        x_fixed, x_per_token = self._expert_exchange
        comm = share * (fixed + per_token * per_rank + x_fixed + x_per_token * per_micro) + self._pp_hops_s
        return weights, kv, compute, comm

    def step_s(self, batch: float, context_tokens: int) -> float:
        """decode_step(...).total_s without building the breakdown (the planner's hot path)."""
        return sum(self._step_parts(batch, context_tokens)) + self._overhead_s

    def verify_step_s(self, batch: float, context_tokens: int, tokens_per_sequence: int) -> float:
        """A speculative verification step: `batch` sequences each carrying `tokens_per_sequence` tokens (its own and
        the draft's). Weights (the experts those tokens touch), matmuls and all-reduces scale with the tokens; each
        sequence's cache is read once for all its tokens."""
        weights, _, compute, comm = self._step_parts(batch * tokens_per_sequence, context_tokens)
        kv = self._step_parts(batch, context_tokens)[1]
        return weights + kv + compute + comm + self._overhead_s

    def decode_step(self, batch: int, context_tokens: int) -> StepTime:
        """One decode round for `batch` sequences of `context_tokens` each, split by cause."""
        weights, kv, compute, comm = self._step_parts(batch, context_tokens)
        return StepTime(weights_s=weights, kv_s=kv, compute_s=compute, comm_s=comm, overhead_s=self._overhead_s)

    def prefill_token_s(self, prompt_tokens: int) -> float:
        """Step time one prefill token adds to a step (chunks of prompts `prompt_tokens` long): its matmul and
        attention FLOPs at `prefill_compute_efficiency` and its share of the all-reduces. The weights are read once
        per step whatever it carries, so they are not in it. Data-parallel attention ranks each prefill their own
        prompts in the same step, so a step's prompt tokens spread over all tp x dp GPUs (and cross the expert
        exchange)."""
        m, ranks = self.model, self.layout.tp * self.layout.dp
        dense, expert = self._prefill_matmul_flops_per_token(prompt_tokens)
        attention_flops = self.model.num_layers * prompt_tokens * attention_flops_per_token_pair(m)
        flops = dense / ranks + expert / self.layout.expert_ranks + attention_flops / ranks
        return flops / (self._flops_per_gpu * self._prefill_efficiency) + self._allreduce[1] + self._expert_exchange[1]

    def _prefill_matmul_flops_per_token(self, step_tokens: float) -> tuple[float, float]:
        """(dense, routed-expert) matmul FLOPs one prompt token costs in a prefill step of `step_tokens` tokens, the
        experts' counted at their grouped-GEMM efficiency (each expert sees only the tokens routed to it)."""
        expert = 2 * self._expert_matmul_params
        efficiency = expert_gemm_efficiency(self.model.moe, step_tokens, self._gemm_half_tokens)
        return 2 * (self._matmul_params - self._expert_matmul_params), expert / efficiency

    def mixed_step_s(
        self, decodes: float, context_tokens: int, prefill_tokens: float, prompt_tokens: int
    ) -> tuple[float, float]:
        """(step seconds, of which prefill) of one engine step that decodes `decodes` sequences of `context_tokens` and
        prefills `prefill_tokens` prompt tokens: the decode step plus prefill_token_s per prompt token. With
        decodes = 0 this is a pure prefill step (weights, fixed all-reduce latency and host overhead included)."""
        prefill = self.prefill_token_s(prompt_tokens) * prefill_tokens if prefill_tokens > 0 else 0.0
        return self.step_s(decodes, context_tokens) + prefill, prefill

    def prefill_s(self, input_tokens: int) -> float:
        """Time to prefill one prompt alone: compute-bound, never faster than reading the weights once."""
        if input_tokens not in self._prefill_memo:
            self._prefill_memo[input_tokens] = self._prefill_s(input_tokens)
        return self._prefill_memo[input_tokens]

    def _prefill_s(self, input_tokens: int) -> float:
        """One prompt prefilled alone: its matmuls and causal attention, never faster than reading the weights the step
        touches, plus the step's host and MoE/MLA kernel latency, all-reduces and expert exchange."""
        m, tp, flops_per_s = self.model, self.layout.tp, self._flops_per_gpu * self._prefill_efficiency
        dense, expert = self._prefill_matmul_flops_per_token(input_tokens)
        attention_flops = m.num_layers * input_tokens**2 * attention_flops_per_token_pair(m)
        compute = (input_tokens * (dense / tp + expert / self.layout.expert_ranks) + attention_flops / tp) / flops_per_s
        other, experts = self._weights
        touched = self._touched_expert_fraction(input_tokens) if experts else 1.0
        floor = (other + experts * touched) / self._weight_bw_bytes_per_s
        x_fixed, x_per_token = self._expert_exchange
        return (
            max(compute, floor)
            + self._sparse_overhead_s
            + self._allreduce_s(input_tokens)
            + x_fixed
            + x_per_token * input_tokens
            + self._pp_hops_s
        )

    @property
    def _sparse_overhead_s(self) -> float:
        """The fixed MoE and MLA kernel time of one step (a prefill step runs every layer's kernels once, as a decode
        step does); 0 for dense models, whose prefill calibration (T1, B1) already holds their launch time."""
        return sparse_layer_latency_s(self.model, self.assumptions, self.kernel.moe_layer_latency_us)

    def tpot_s(self, batch: int, input_tokens: int, output_tokens: int) -> float:
        """Inter-token latency at `batch` running sequences, at the average context of a request."""
        return self.step_s(batch, input_tokens + output_tokens // 2)

    def ttft_s(self, batch: int, input_tokens: int, output_tokens: int, chunk_tokens: int) -> float:
        """Time to first token for a prompt arriving while `batch` sequences decode: its prefill compute, plus one
        decode step of the running batch for each prefill chunk it is scheduled in."""
        chunks = math.ceil(input_tokens / chunk_tokens)
        running = self.step_s(batch - 1, input_tokens + output_tokens // 2) if batch > 1 else 0.0
        return self.prefill_s(input_tokens) + chunks * running

    def output_tokens_per_s(self, batch: int, input_tokens: int, output_tokens: int) -> float:
        """Decode throughput at `batch`, output tokens per second for the replica."""
        return batch / self.tpot_s(batch, input_tokens, output_tokens)

    def bandwidth_ceiling_tokens_per_s(self) -> float:
        """Batch-1 decode ceiling: peak bandwidth over the bytes of the slowest path (all stages' weights)."""
        other, expert = self._weights
        return self.gpu.hbm_bandwidth_gbps * 1e9 / (other + expert * self._touched_expert_fraction(1))

    def saturated_output_tokens_per_s(self, input_tokens: int, output_tokens: int, batch: int) -> float:
        """Offline throughput with every slot busy: `batch` requests each decode `output_tokens` steps, and each of
        them needs one prefill, which does not overlap the decode steps."""
        decode = output_tokens * self.tpot_s(batch, input_tokens, output_tokens)
        prefill = batch * self.prefill_s(input_tokens)
        return batch * output_tokens / (decode + prefill)
