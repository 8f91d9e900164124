"""The KV-cache format beside the one planned: with a 16-bit cache (--kv-dtype auto, the default), the cheapest plan
with an FP8 cache is searched too and shown beside the choice, never chosen: FP8 KV changes attention numerics, so a
fleet moves to it only when its owner asks (--kv-dtype fp8). It halves the cache bytes per token (more users per
replica) and the KV reads of a decode step."""

from __future__ import annotations

from collections.abc import Callable

from sizing.catalog.formats import KV_DTYPE_BYTES
from sizing.planner.request import PlanRequest
from sizing.planner.results import Candidate, KvAlternative

FP8_KV = "fp8"
"""The --kv-cache-dtype value the alternative plans with (vLLM: fp8 = fp8_e4m3)."""
FP8_KV_SOURCE = (
    "vLLM docs, Quantized KV Cache: FP8 E4M3 KV cache (--kv-cache-dtype fp8) halves the cache and raises "
    "the tokens it holds; accuracy impact stated as minimal for most models, checked per model by its owner"
)
"""Why the alternative exists and what it costs in accuracy."""


def wants_fp8_alternative(req: PlanRequest) -> bool:
    """The request plans a 16-bit cache the user did not pin: an FP8 one is worth showing beside it."""
    return KV_DTYPE_BYTES.get(req.deployment.kv_dtype.strip().lower(), 1) != 1


def fp8_kv_alternative(
    req: PlanRequest, choice: Candidate, cheapest: Callable[[PlanRequest], Candidate | None]
) -> KvAlternative | None:
    """The cheapest plan of the same request with an FP8 KV cache (None: not asked for, or nothing feasible)."""
    if not wants_fp8_alternative(req):
        return None
    fp8 = req.model_copy(update={"deployment": req.deployment.model_copy(update={"kv_dtype": FP8_KV})})
    best = cheapest(fp8)
    if best is None:
        return None
    return KvAlternative(
        kv_dtype=FP8_KV,
        candidate=best,
        source=FP8_KV_SOURCE,
        saving_share=1 - best.hourly_cost_usd / choice.hourly_cost_usd,
    )
