"""Which weight formats a plan weighs: a format asked for by name, the checkpoint's own (`native`), or (`auto`, the
command line's default) the checkpoint's own plus FP8 where that is sound."""

from __future__ import annotations

from sizing.catalog.checkpoints import prequantized_release
from sizing.catalog.formats import FORMAT_ALIASES, LLAMA_CPP_ONLY_FORMATS, WeightFormat, all_formats, get_format
from sizing.catalog.gpus import GpuSpec
from sizing.catalog.instances import InstanceType
from sizing.catalog.kernels import kernel_path
from sizing.errors import InvalidInputError, UnknownNameError
from sizing.memory.weights import total_weight_bytes
from sizing.models.spec import ModelSpec
from sizing.planner.checkpoint import CHECKPOINT_RULE, loadable, loadable_formats
from sizing.planner.layouts import max_replica_nodes

AUTO, NATIVE = "auto", "native"
"""--weights values that name a search rather than a format."""
ONLINE_FP8_SOURCES = ("bf16", "fp16")
"""Checkpoint formats vLLM quantizes to FP8 at load (--quantization fp8: per-tensor scales, dynamic activations), which
is sound for 16-bit checkpoints; already-quantized ones (fp8-block, mxfp4, AWQ/GPTQ) are served as published."""
FP8_KERNELS_MIN_COMPUTE_CAPABILITY = 8.9
"""Lowest compute capability with FP8 tensor cores (Ada 8.9, Hopper 9.0); below it vLLM runs FP8 weights as W8A16
Marlin, smaller but not faster (https://docs.vllm.ai/en/latest/features/quantization/fp8.html)."""
AUTO_FP8 = "fp8"
"""The format `auto` adds when the model has no pre-quantized FP8 release (vLLM quantizes the 16-bit checkpoint)."""
RELEASE_ONLY_FORMATS = frozenset({"nvfp4"})
"""Formats vLLM reads from a checkpoint and cannot quantize to at load: served only from a catalogued release."""
AUTO_FP4 = "nvfp4"
"""The 4-bit float format `auto` adds where its publisher released the model in it (checkpoints.csv), tried on GPUs
whose kernels for it are native (Blackwell datacenter parts, sizing/data/kernels.toml)."""
AUTO_FP8_RELEASES = ("fp8", "fp8-block")
"""FP8 formats whose pre-quantized release `auto` serves instead, first found wins (sizing/data/checkpoints.csv): the
vendor's or a known FP8 checkpoint halves the download and the disk, skips quantizing at load, and was validated by
its publisher (Qwen3's official FP8 is block-scaled, for example)."""


def requested_formats(m: ModelSpec, weights: str | None) -> tuple[WeightFormat, ...]:
    """Formats to weigh, the requested (or native) one first. None means the checkpoint's own."""
    key = (weights or NATIVE).strip().lower()
    native = get_format(m.native_format)
    if key == NATIVE:
        return (native,)
    if key == AUTO:
        if native.name not in ONLINE_FP8_SOURCES:
            return (native,)
        fp4 = (get_format(AUTO_FP4),) if prequantized_release(m.hf_repo, AUTO_FP4) else ()
        return (native, _auto_fp8(m), *fp4)
    if key not in all_formats() and key not in FORMAT_ALIASES:
        raise UnknownNameError(
            "weight format",
            weights or "",
            [*all_formats(), AUTO, NATIVE],
            "pass a format from sizing/data/weight_formats.csv, 'native' or 'auto'.",
        )
    fmt = get_format(key)
    if fmt.name in RELEASE_ONLY_FORMATS and fmt.name != native.name and not prequantized_release(m.hf_repo, fmt.name):
        raise InvalidInputError(
            f"weights={fmt.name!r}: no {fmt.name} release of {m.name!r} is catalogued "
            "(sizing/data/checkpoints.csv), and "
            f"vLLM reads {fmt.name} from a checkpoint, it cannot quantize to it at load. To fix: use fp8 "
            "(quantized at load) "
            "or auto, or add the publisher's release to checkpoints.csv with its model card."
        )
    if fmt.name in LLAMA_CPP_ONLY_FORMATS:
        raise InvalidInputError(
            f"weights={fmt.name!r} is a llama.cpp (GGUF) format; the fleet serves with vLLM, which would load the "
            f"checkpoint's {m.native_format} weights instead. To fix: use int4-awq or int4-gptq for 4-bit weights, "
            "or auto."
        )
    if fmt.applies_to == "experts" and m.moe is None:
        raise InvalidInputError(
            f"weights={fmt.name!r} quantizes only MoE experts, and {m.name!r} has none. "
            "To fix: use int4-awq, int4-gptq or fp8 for a dense model, or auto."
        )
    if not loadable(m, fmt):
        raise _no_checkpoint(m, fmt)
    return (fmt,)


def _no_checkpoint(m: ModelSpec, fmt: WeightFormat) -> InvalidInputError:
    """No checkpoint holds `fmt` and vLLM cannot make it at load: the plan would download the model's own weights and
    vLLM would stop ('Cannot find the config file for awq'), or serve them unquantized."""
    served = [n for n in all_formats() if n not in LLAMA_CPP_ONLY_FORMATS]
    options = loadable_formats(m, tuple(served))
    return InvalidInputError(
        f"weights={fmt.name!r} for {m.name!r}: no pre-quantized {fmt.name} release of {m.hf_repo or 'this checkpoint'} "
        f"is catalogued (sizing/data/checkpoints.csv), and vLLM quantizes a {m.native_format} checkpoint at load "
        "only to "
        f"FP8 (vLLM rule {CHECKPOINT_RULE}). To fix: use one of {', '.join(options)}, or 'auto'; or add the release's "
        "row to sizing/data/checkpoints.csv."
    )


def _auto_fp8(m: ModelSpec) -> WeightFormat:
    """The FP8 format `auto` weighs: a pre-quantized release's where one is known, else online FP8."""
    released = next((name for name in AUTO_FP8_RELEASES if prequantized_release(m.hf_repo, name)), AUTO_FP8)
    return get_format(released)


def has_fp8_kernels(gpu: GpuSpec) -> bool:
    """The GPU has FP8 tensor cores (compute capability 8.9+): FP8 is faster there, not just smaller."""
    return (
        gpu.compute_capability is not None
        and gpu.compute_capability >= FP8_KERNELS_MIN_COMPUTE_CAPABILITY
        and "fp8" in gpu.dense_tflops
    )


def formats_to_try(
    m: ModelSpec, formats: tuple[WeightFormat, ...], instance: InstanceType, max_nodes: int
) -> tuple[WeightFormat, ...]:
    """The formats worth sizing on one instance type. With `auto`'s list (the native 16-bit format, FP8, and NVFP4
    where a release exists): the quantized formats whose kernels are native on this GPU (sizing/data/kernels.toml:
    FP8 on Ada/Hopper/Blackwell, NVFP4 on Blackwell datacenter parts), which hold every layout the 16-bit replica does
    with fewer weight bytes and run faster, so the 16-bit plan there can never rank first; elsewhere the native format
    and the weight-only fallbacks (FP8 as Marlin W8A16 on Ampere: smaller, not faster, so either may win). Sizing only
    the contenders keeps plan() fast. A format whose weights alone exceed the largest replica the type can form, or
    that the GPU has no kernels for, is not tried."""
    if len(formats) == 1:
        return formats
    native, *quantized = formats
    gpu = instance.gpu
    runnable = [
        f
        for f in quantized
        if gpu.compute_capability is not None and gpu.compute_capability >= f.min_compute_capability
    ]
    fast = [
        f
        for f in runnable
        if kernel_path(gpu, f).maturity == "native"
        and (f.name != AUTO_FP4 or has_fp8_kernels(gpu))
        and (f.name == AUTO_FP4 or has_fp8_kernels(gpu))
    ]
    weight_only = [f for f in runnable if kernel_path(gpu, f).maturity == "fallback" and f.name != AUTO_FP4]
    candidates = fast if fast else [native, *weight_only]
    nodes = max_replica_nodes(instance, max_nodes)
    room = instance.whole_gpus * nodes * gpu.visible_memory_bytes
    fits = tuple(f for f in candidates if f is native or total_weight_bytes(m, f) <= room)
    return fits or (native,)
