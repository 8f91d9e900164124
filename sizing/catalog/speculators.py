"""Speculative-decoding drafts vLLM runs beside a model (sizing/data/speculators.csv), and whether an engine profile's
vLLM release runs them."""

import re
from functools import cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.files import read_csv

SpeculativeMethod = Literal["eagle3", "mtp"]
"""eagle3: an EAGLE-3 draft head; mtp: the model's own multi-token-prediction module."""
VllmSpeculativeMethod = Literal["eagle3", "mtp"]
"""The --speculative-config methods the planner emits (vLLM names every MTP module 'mtp' since its PR 25232)."""
HF_REPO_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$"
"""A Hugging Face repository id (owner/name): a draft's repo reaches a vLLM flag, so it is checked as one."""
MAX_DRAFT_TOKENS = 16
"""Most draft tokens per step a row may give."""
ENGINE_RELEASES = {"vllm-v0": (0, 7)}
"""Engine profiles whose names carry no release (vLLM 0.6-0.7, the V0 engine: its newest release)."""


class Speculator(BaseModel):
    """One row of speculators.csv."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    base_repo: str
    """The model's own repository."""
    method: SpeculativeMethod
    """eagle3 or mtp."""
    vllm_method: VllmSpeculativeMethod
    """The method name of vLLM's --speculative-config."""
    draft_repo: str | None = Field(pattern=HF_REPO_PATTERN)
    """The draft's repository (None: the module ships in the model's checkpoint)."""
    draft_vocab: int | None = Field(default=None, gt=0)
    """EAGLE-3: vocabulary of the draft's own lm_head."""
    num_speculative_tokens: int = Field(gt=0, le=MAX_DRAFT_TOKENS)
    """Draft tokens proposed per step."""
    mean_acceptance_length: float = Field(ge=1)
    """Tokens a sequence gains per verification step (assumption; see acceptance_source)."""
    vllm_min: tuple[int, ...]
    """First vLLM release whose V1 engine runs the method."""
    acceptance_source: str
    """Where mean_acceptance_length comes from."""
    source: str
    """The draft's model card and vLLM's support for it."""


def _release(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


@cache
def _speculators() -> dict[tuple[str, str], Speculator]:
    rows: dict[tuple[str, str], Speculator] = {}
    for r in read_csv("speculators.csv"):
        spec = Speculator.model_validate(
            {
                **{k: r[k] for k in ("base_repo", "method", "vllm_method", "acceptance_source", "source")},
                "draft_repo": r["draft_repo"] or None,
                "draft_vocab": int(r["draft_vocab"]) if r["draft_vocab"] else None,
                "num_speculative_tokens": int(r["num_speculative_tokens"]),
                "mean_acceptance_length": float(r["mean_acceptance_length"]),
                "vllm_min": _release(r["vllm_min"]),
            }
        )
        rows[(spec.base_repo.lower(), spec.method)] = spec
    return rows


def speculator(base_repo: str | None, method: str) -> Speculator | None:
    """The catalogued draft of this model for this method, if any."""
    return _speculators().get((base_repo.lower(), method)) if base_repo else None


def speculators_of(base_repo: str | None) -> tuple[Speculator, ...]:
    """Every catalogued draft of this model."""
    return tuple(s for (repo, _), s in _speculators().items() if base_repo and repo == base_repo.lower())


def engine_release(engine_name: str) -> tuple[int, ...] | None:
    """The vLLM release an engine profile models ('vllm-0.19' -> (0, 19)); None when it names none."""
    if engine_name in ENGINE_RELEASES:
        return ENGINE_RELEASES[engine_name]
    found = re.fullmatch(r"vllm-(\d+(?:\.\d+)*)", engine_name)
    return _release(found.group(1)) if found else None
