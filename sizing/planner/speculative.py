"""Speculative decoding as a plan option: the draft the plan runs, whether the engine's vLLM runs it, what it adds to
memory and to every step, and the --speculative-config the fleet passes."""

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.assumptions import Assumptions
from sizing.catalog.engines import EngineProfile
from sizing.catalog.formats import WeightFormat
from sizing.catalog.speculators import (
    HF_REPO_PATTERN,
    MAX_DRAFT_TOKENS,
    SpeculativeMethod,
    Speculator,
    VllmSpeculativeMethod,
    engine_release,
    speculator,
    speculators_of,
)
from sizing.catalog.vllm_rules import rules
from sizing.errors import InvalidInputError
from sizing.memory.budget import EngineSettings
from sizing.memory.draft import draft_memory
from sizing.memory.layout import Layout
from sizing.models.spec import ModelSpec
from sizing.speed.load import SpecDecode
from sizing.units import to_gib

NO_PIPELINE_RULE = "speculative-no-pipeline"
"""The vLLM rule (vllm_rules.toml) that keeps a draft's replica to one pipeline stage."""


class SpeculativePlan(BaseModel):
    """The draft a plan runs and the figures it assumed."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    method: SpeculativeMethod
    """eagle3 or mtp."""
    vllm_method: VllmSpeculativeMethod
    """The method name vLLM's --speculative-config takes (a closed set: it reaches a vLLM flag)."""
    draft_repo: str | None = Field(default=None, pattern=HF_REPO_PATTERN)
    """The draft's repository (None: the module in the model's own checkpoint)."""
    num_speculative_tokens: int = Field(gt=0, le=MAX_DRAFT_TOKENS)
    """Draft tokens proposed per step."""
    mean_acceptance_length: float
    """Tokens a sequence gains per step, as assumed (the speculators.csv figure or the assumption override)."""
    acceptance_source: str
    """Where that figure comes from."""
    draft_weights_gib: float
    """The draft's weights on each GPU of the chosen layout (also in the plan's memory breakdown)."""

    @property
    def vllm_args(self) -> tuple[str, ...]:
        """The --speculative-config flags, in vLLM's dotted form of a JSON argument ('--json-arg.key value', vLLM docs,
        Engine Arguments), each value from a typed field."""
        args = [
            "--speculative-config.method",
            self.vllm_method,
            "--speculative-config.num_speculative_tokens",
            str(self.num_speculative_tokens),
        ]
        return tuple(args + (["--speculative-config.model", self.draft_repo] if self.draft_repo else []))


def resolve(m: ModelSpec, method: SpeculativeMethod | None, engine: EngineProfile) -> Speculator | None:
    """The catalogued draft for the request, refused by name where there is none or the engine's vLLM lacks it."""
    if method is None:
        return None
    found = speculator(m.hf_repo, method)
    if found is None:
        have = [s.method for s in speculators_of(m.hf_repo)]
        raise InvalidInputError(
            f"speculative={method!r} for {m.name!r}: sizing/data/speculators.csv catalogues no {method} draft for "
            f"{m.hf_repo or 'this config.json'}"
            + (f" (it has: {', '.join(have)})" if have else "")
            + ". To fix: drop speculative, "
            + (f"use {have[0]!r}, " if have else "")
            + "or add the draft's row (its repository, draft tokens and a sourced acceptance length)."
        )
    release = engine_release(engine.name)
    if release is None or release < found.vllm_min:
        need = ".".join(map(str, found.vllm_min))
        raise InvalidInputError(
            f"speculative={method!r}: vLLM runs {found.vllm_method} drafts on its V1 engine from {need} on, and the "
            f"engine profile {engine.name!r} models an older release. To fix: pick an engine profile of vLLM {need} or "
            "later, or drop speculative."
        )
    return found


def spec_decode(spec: Speculator, a: Assumptions) -> SpecDecode:
    """The step model's view of the draft: tokens proposed and gained per step."""
    gain = a.speculative_acceptance_length or spec.mean_acceptance_length
    return SpecDecode(
        draft_tokens=spec.num_speculative_tokens, tokens_per_step=min(gain, spec.num_speculative_tokens + 1)
    )


def with_draft(
    settings: EngineSettings, m: ModelSpec, fmt: WeightFormat, layout: Layout, spec: Speculator | None
) -> EngineSettings:
    """The engine settings of a replica that also loads the draft (its weights and cache layers)."""
    if spec is None:
        return settings
    d = draft_memory(m, fmt, layout, spec)
    return settings.model_copy(update={"draft_weight_bytes": d.weight_bytes, "draft_kv_layers": d.kv_layers})


def pipeline_refusal(spec: Speculator | None, layout: Layout) -> str | None:
    """Why a layout cannot run the draft (vLLM rule speculative-no-pipeline), or None."""
    if spec is None or layout.pp == 1:
        return None
    rule = rules()[NO_PIPELINE_RULE]
    return f"PP={layout.pp} with a {spec.method} draft (vLLM rule {rule.id}: {rule.title})"


def speculative_plan(
    m: ModelSpec, fmt: WeightFormat, layout: Layout, spec: Speculator, a: Assumptions
) -> SpeculativePlan:
    """What the plan says about its draft, for the chosen layout."""
    step = spec_decode(spec, a)
    overridden = a.speculative_acceptance_length is not None
    return SpeculativePlan(
        method=spec.method,
        vllm_method=spec.vllm_method,
        draft_repo=spec.draft_repo,
        num_speculative_tokens=spec.num_speculative_tokens,
        mean_acceptance_length=step.tokens_per_step,
        acceptance_source="assumption speculative_acceptance_length (given)" if overridden else spec.acceptance_source,
        draft_weights_gib=to_gib(draft_memory(m, fmt, layout, spec).weight_bytes),
    )
