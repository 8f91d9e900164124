"""Which weight formats a plan weighs: a format asked for by name, the checkpoint's own (`native`), or (`auto`, the
command line's default) the checkpoint's own plus FP8 where that is sound."""

from __future__ import annotations

from sizing.catalog.checkpoints import prequantized_release
from sizing.catalog.formats import FORMAT_ALIASES, LLAMA_CPP_ONLY_FORMATS, WeightFormat, all_formats, get_format
from sizing.catalog.gpus import GpuSpec
from sizing.catalog.instances import InstanceType
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
        return (native, _auto_fp8(m)) if native.name in ONLINE_FP8_SOURCES else (native,)
    if key not in all_formats() and key not in FORMAT_ALIASES:
        raise UnknownNameError("weight format", weights or "", [*all_formats(), AUTO, NATIVE],
                               "pass a format from sizing/data/weight_formats.csv, 'native' or 'auto'.")
    fmt = get_format(key)
    if fmt.name in LLAMA_CPP_ONLY_FORMATS:
        raise InvalidInputError(
            f"weights={fmt.name!r} is a llama.cpp (GGUF) format; the fleet serves with vLLM, which would load the "
            f"checkpoint's {m.native_format} weights instead. To fix: use int4-awq or int4-gptq for 4-bit weights, or auto."
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
        f"is catalogued (sizing/data/checkpoints.csv), and vLLM quantizes a {m.native_format} checkpoint at load only to "
        f"FP8 (vLLM rule {CHECKPOINT_RULE}). To fix: use one of {', '.join(options)}, or 'auto'; or add the release's "
        "row to sizing/data/checkpoints.csv.")


def _auto_fp8(m: ModelSpec) -> WeightFormat:
    """The FP8 format `auto` weighs: a pre-quantized release's where one is known, else online FP8."""
    released = next((name for name in AUTO_FP8_RELEASES if prequantized_release(m.hf_repo, name)), AUTO_FP8)
    return get_format(released)


def has_fp8_kernels(gpu: GpuSpec) -> bool:
    """The GPU has FP8 tensor cores (compute capability 8.9+): FP8 is faster there, not just smaller."""
    return gpu.compute_capability is not None and gpu.compute_capability >= FP8_KERNELS_MIN_COMPUTE_CAPABILITY and "fp8" in gpu.dense_tflops


def formats_to_try(m: ModelSpec, formats: tuple[WeightFormat, ...], instance: InstanceType,
                   max_nodes: int) -> tuple[WeightFormat, ...]:
    """The formats worth sizing on one instance type. With `auto`'s (native 16-bit, fp8) pair: FP8 on a GPU with FP8
    kernels, the checkpoint's own format elsewhere. On an FP8 GPU the FP8 replica holds every layout the 16-bit one
    does with half the weight bytes and runs faster, so the 16-bit plan there can never rank first; sizing only one
    format per type keeps plan() as fast as without the search. A format whose weights alone exceed the largest
    replica the type can form is not tried."""
    if len(formats) == 1:
        return formats
    native, fp8 = formats
    fmt = fp8 if has_fp8_kernels(instance.gpu) else native
    nodes = max_replica_nodes(instance, max_nodes)
    fits = total_weight_bytes(m, fmt) <= instance.whole_gpus * nodes * instance.gpu.visible_memory_bytes
    return (fmt,) if fits or fmt is native else (native,)
