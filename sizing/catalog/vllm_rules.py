"""What vLLM accepts (sizing/data/vllm_rules.toml): named, sourced rules for the layouts and formats vLLM 0.19
refuses, and the start-up memory some kernel paths add. Each check returns a Refusal that names its rule."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sizing.catalog.files import read_toml
from sizing.catalog.formats import WeightFormat
from sizing.catalog.gpus import GpuSpec
from sizing.memory.layout import Layout
from sizing.models.spec import ModelSpec
from sizing.units import BYTES_PER_GIB


@dataclass(frozen=True)
class Rule:
    """One rule of the table."""

    id: str
    """Rule id, e.g. 'block-quant-per-rank'."""
    title: str
    """Short title."""
    source: str
    """The vLLM source or log behind it."""
    params: dict
    """Numbers the rule uses (block sizes, measured peaks)."""


@dataclass(frozen=True)
class Refusal:
    """A rule vLLM would enforce against this deployment."""

    rule: Rule
    """The rule."""
    detail: str
    """What fails, with the numbers."""

    @property
    def reason(self) -> str:
        """The detail with the rule named, as rejections show it."""
        return f"{self.detail} (vLLM rule {self.rule.id}: {self.rule.title})"


@cache
def rules() -> dict[str, Rule]:
    """Every rule, by id."""
    table = read_toml("vllm_rules.toml")
    return {
        rid: Rule(
            id=rid,
            title=r["title"],
            source=r["source"],
            params={k: v for k, v in r.items() if k not in ("title", "source", "condition")},
        )
        for rid, r in table.items()
    }


def layout_refusal(m: ModelSpec, fmt: WeightFormat, layout: Layout) -> Refusal | None:
    """The first rule this split of the model breaks, or None."""
    return structure_refusal(m, layout) or _block_quant_refusal(m, fmt, layout)


def structure_refusal(m: ModelSpec, layout: Layout) -> Refusal | None:
    """The first rule this split breaks whatever the format (heads and KV heads against TP, PP against the layers)."""
    r = rules()
    if m.num_attention_heads % layout.tp:
        return Refusal(
            r["heads-divisible-by-tp"], f"{m.num_attention_heads} attention heads are not divisible by TP={layout.tp}"
        )
    if m.mla is None and m.num_kv_heads % layout.tp and layout.tp % m.num_kv_heads:
        return Refusal(r["kv-heads-and-tp"], f"{m.num_kv_heads} KV heads and TP={layout.tp}: neither divides the other")
    if layout.pp > m.num_layers:
        return Refusal(r["pp-within-layers"], f"PP={layout.pp} exceeds the {m.num_layers} layers")
    return None


def _block_quant_refusal(m: ModelSpec, fmt: WeightFormat, layout: Layout) -> Refusal | None:
    if fmt.name != "fp8-block":
        return None
    rule = rules()["block-quant-per-rank"]
    block = int(rule.params["block_size"])
    if m.moe is not None and not layout.ep and layout.expert_ranks > 1:
        per_rank = m.moe.expert_intermediate_size / layout.expert_ranks
        if per_rank % block:
            return Refusal(
                rule,
                f"expert intermediate size {m.moe.expert_intermediate_size} / {layout.expert_ranks} ranks = "
                f"{per_rank:g}, not a multiple of the {block}-wide FP8 blocks; "
                "--enable-expert-parallel keeps experts whole",
            )
    dense = m.intermediate_size / layout.tp
    if m.has_dense_mlp_layers and layout.tp > 1 and dense % block:
        return Refusal(
            rule,
            f"MLP intermediate size {m.intermediate_size} / TP={layout.tp} = {dense:g}, "
            f"not a multiple of the {block}-wide FP8 blocks",
        )
    return None


def kernel_refusal(gpu: GpuSpec, fmt: WeightFormat, m: ModelSpec | None = None) -> Refusal | None:
    """vLLM has no kernels for this weight format (or this model's attention) on this GPU generation."""
    capability = gpu.compute_capability
    if capability is None:
        return None
    if capability < fmt.min_compute_capability:
        return Refusal(
            rules()["kernel-capability"],
            f"{fmt.name} weights need CUDA compute capability "
            f"{fmt.min_compute_capability:g} or newer; {gpu.name} has {capability:g}",
        )
    sinks = rules()["attention-sinks-backend"]
    if m is not None and m.attention_sinks and capability < sinks.params["min_compute_capability"]:
        return Refusal(
            sinks,
            f"{m.name}'s attention sinks need compute capability "
            f"{sinks.params['min_compute_capability']:g} or newer; {gpu.name} has {capability:g}",
        )
    return None


def _mxfp4_hopper(gpu: GpuSpec, fmt: WeightFormat) -> Rule | None:
    rule = rules()["mxfp4-hopper-startup-peak"]
    cc = gpu.compute_capability
    if (
        fmt.name != "mxfp4"
        or cc is None
        or not rule.params["min_compute_capability"] <= cc < rule.params["max_compute_capability"]
    ):
        return None
    return rule


def expert_padding_factor(m: ModelSpec, gpu: GpuSpec, fmt: WeightFormat) -> float:
    """Expert bytes in GPU memory over the checkpoint's, where the kernel path pads expert tensors (1.0 elsewhere)."""
    rule = _mxfp4_hopper(gpu, fmt)
    if rule is None or m.moe is None:
        return 1.0
    step = int(rule.params["hidden_round_to"])
    return -(-m.hidden_size // step) * step / m.hidden_size


def startup_workspace_bytes(gpu: GpuSpec, fmt: WeightFormat) -> float:
    """Start-up profile peak a kernel path adds beyond the forward pass and the sampler."""
    rule = _mxfp4_hopper(gpu, fmt)
    return float(rule.params["profile_extra_gib"]) * BYTES_PER_GIB if rule else 0.0


def startup_rule_note(gpu: GpuSpec, fmt: WeightFormat) -> str:
    """' (vLLM rule ...)' when a start-up memory rule shapes this GPU's budget, else ''."""
    rule = _mxfp4_hopper(gpu, fmt)
    return f" (vLLM rule {rule.id}: {rule.title})" if rule else ""
