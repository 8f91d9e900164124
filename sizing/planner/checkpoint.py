"""Which checkpoint a plan downloads: a pre-quantized release of the served format where one is known, else the
model's own checkpoint, quantized by vLLM at load only where vLLM can (vllm_rules.toml checkpoint-quantization): a plan
never names a format no checkpoint it can download holds. Disk size and cold start follow this download."""

from __future__ import annotations

from sizing.catalog.checkpoints import Checkpoint, prequantized_release
from sizing.catalog.formats import WeightFormat, get_format
from sizing.catalog.vllm_rules import rules
from sizing.memory.weights import total_weight_bytes
from sizing.models.spec import ModelSpec

CHECKPOINT_RULE = "checkpoint-quantization"
"""The vLLM rule (sizing/data/vllm_rules.toml) saying which formats vLLM makes at load from which checkpoints."""


def quantized_at_load(source_format: str, served: str) -> bool:
    """vLLM quantizes a checkpoint stored in `source_format` to `served` at load (only FP8 from 16-bit)."""
    return source_format in rules()[CHECKPOINT_RULE].params["online"].get(served, ())


def loadable(model: ModelSpec, fmt: WeightFormat) -> bool:
    """Some checkpoint serves `model` in `fmt`: its own, a catalogued pre-quantized release, or its own quantized at
    load."""
    return (
        fmt.name == model.native_format
        or prequantized_release(model.hf_repo, fmt.name) is not None
        or quantized_at_load(model.native_format, fmt.name)
    )


def loadable_formats(model: ModelSpec, names: tuple[str, ...]) -> list[str]:
    """The formats of `names` that some checkpoint serves, each with where it comes from, for a refusal's fix."""
    out = []
    for name in names:
        fmt = get_format(name)
        release = prequantized_release(model.hf_repo, name) if name != model.native_format else None
        if name == model.native_format:
            out.append(f"{name} (the checkpoint's own)")
        elif release is not None:
            out.append(f"{name} ({release.repo})")
        elif quantized_at_load(model.native_format, fmt.name):
            out.append(f"{name} (quantized by vLLM at load)")
    return out


def checkpoint_for(model: ModelSpec, fmt: WeightFormat) -> Checkpoint:
    """The checkpoint a node downloads to serve `model` in `fmt`, with its size on disk (the caller checked
    loadable())."""
    release = prequantized_release(model.hf_repo, fmt.name) if fmt.name != model.native_format else None
    if release is not None:
        computed = release.download_bytes is None
        size = total_weight_bytes(model, fmt) if computed else release.download_bytes
        return Checkpoint(
            repo=release.repo,
            format=fmt.name,
            download_bytes=round(size or 0),
            prequantized=True,
            source=release.source
            + (f"; size computed from the parameter count in {fmt.name}" if computed else " (recorded size)"),
        )
    native = get_format(model.native_format)
    return Checkpoint(
        repo=model.hf_repo,
        format=native.name,
        download_bytes=round(total_weight_bytes(model, native)),
        prequantized=False,
        source=f"the model's own checkpoint; size computed from the parameter count in {native.name}"
        + (f", quantized to {fmt.name} by vLLM at load" if fmt.name != native.name else ""),
    )


def vllm_quantization_for(fmt: WeightFormat, checkpoint: Checkpoint) -> str:
    """The --quantization flag the fleet passes: none when the checkpoint stores the served format (vLLM reads its
    quantization config), the format's method when vLLM quantizes at load."""
    return fmt.vllm_quantization if fmt.name != checkpoint.format else ""
