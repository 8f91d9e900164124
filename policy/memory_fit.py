"""Can the GPUs of an instance type hold the model its tags declare, at the declared context? The sizing engine's own
memory model (vLLM's start-up budget), applied to what a launch template or node group says it runs."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from components import fleet_tags as tag
from policy.errors import InvalidDeclarationError, UndeclaredError, UnknownTypeError
from sizing.catalog.engines import get_engine
from sizing.catalog.formats import get_format, vllm_kv_cache_dtype
from sizing.catalog.instances import InstanceType, all_instance_types
from sizing.errors import SizingError
from sizing.limits import MAX_CONTEXT_TOKENS, MAX_PARALLEL
from sizing.memory.budget import EngineSettings, kv_element_bytes, memory_breakdown
from sizing.memory.layout import Layout
from sizing.models.presets import load_preset

ACCELERATED_FAMILY = re.compile(r"(p|g|gr|dl|trn|inf|f|vt)[0-9][a-z0-9-]*")
"""EC2's accelerated computing families (GPU, Trainium, Inferentia, FPGA and video transcoding instances:
https://docs.aws.amazon.com/ec2/latest/instancetypes/ac.html), e.g. p3, g5g, g4ad, dl1, trn1, inf2, f1, vt1."""


def _number(
    tags: Mapping[str, str], key: str, default: float | None, low: float, high: float, kind: type = int
) -> float | None:
    """A declared number within [low, high] (low excluded for floats), or InvalidDeclarationError naming the key."""
    value = tags.get(key)
    if value is None:
        return default
    try:
        number = kind(str(value).strip())
    except ValueError:
        raise InvalidDeclarationError(
            f"{key}={str(value)[:40]!r} is not {'an integer' if kind is int else 'a number'}. "
            f"To fix: declare the value vLLM starts with."
        ) from None
    inside = low < number <= high if kind is float else low <= number <= high
    if not (math.isfinite(number) and inside):
        raise InvalidDeclarationError(
            f"{key}={str(value)[:40]!r} is outside what vLLM accepts ({low:g} to {high:g}). "
            "To fix: declare the value vLLM starts with."
        )
    return number


def known_gpus(instance_type: str) -> InstanceType | None:
    """The catalog's entry for a type with GPUs (None: a type without accelerators); UnknownTypeError for an
    accelerated type outside the catalog."""
    inst = all_instance_types().get(instance_type)
    if inst is None and ACCELERATED_FAMILY.fullmatch(str(instance_type).split(".")[0]):
        raise UnknownTypeError(
            f"{str(instance_type)[:60]} is an accelerated instance type the catalog (sizing/data/"
            "instances.csv) does not know, so whether its GPUs hold the model cannot be judged. "
            "To fix: use a catalog type (`python -m sizing plan` lists them), or add the type to the "
            "catalog with its GPU facts."
        )
    return inst if inst is not None and inst.gpus >= 1 else None


def shortfall(instance_type: str, tags: Mapping[str, str], replica_gpus: int | None = None) -> str | None:
    """Why this instance type cannot hold the declared model (None: it can). `replica_gpus`: the GPUs one replica
    spans (default: the instance's). Raises UndeclaredError when nothing checkable is declared, InvalidDeclarationError
    for a declared value that cannot be true, UnknownTypeError for an accelerated type outside the catalog; returns None
    for instance types without GPUs."""
    inst = known_gpus(instance_type)
    if inst is None:
        return None
    if tag.MODEL not in tags or tag.MAX_MODEL_LEN not in tags:
        raise UndeclaredError(
            f"{instance_type} has GPUs but no {tag.MODEL} / {tag.MAX_MODEL_LEN} tags, so what it serves "
            f"cannot be checked. To fix: tag it, e.g. {tag.MODEL}=llama-3.1-8b {tag.MAX_MODEL_LEN}=8192."
        )
    gpus = replica_gpus or inst.whole_gpus
    tp = int(_number(tags, tag.TENSOR_PARALLEL, inst.whole_gpus, 1, MAX_PARALLEL) or 1)
    pp = int(_number(tags, tag.PIPELINE_PARALLEL, 1, 1, MAX_PARALLEL) or 1)
    if tp * pp > gpus:
        raise InvalidDeclarationError(
            f"TP x PP = {tp} x {pp} GPUs on {instance_type}, which has {inst.whole_gpus}: vLLM "
            "cannot start. To fix: declare the layout the node runs."
        )
    util = _number(tags, tag.GPU_MEMORY_UTILIZATION, None, 0.0, 1.0, float)
    max_model_len = int(_number(tags, tag.MAX_MODEL_LEN, None, 1, MAX_CONTEXT_TOKENS) or 0)
    try:
        kv = vllm_kv_cache_dtype(tags.get(tag.KV_DTYPE, "auto"))
    except SizingError as exc:
        raise InvalidDeclarationError(f"{tag.KV_DTYPE}: {exc}") from None
    try:
        model = load_preset(tags[tag.MODEL])
    except (SizingError, ValueError) as exc:
        raise UndeclaredError(f"the declared model cannot be sized: {exc}") from None
    try:
        fmt = get_format(tags.get(tag.WEIGHTS) or model.native_format)
        layout = Layout(tp=tp, pp=pp)
        settings = EngineSettings(
            gpu_memory_utilization=util, max_model_len=max_model_len, kv_element_bytes=kv_element_bytes(kv, fmt)
        )
        mem = memory_breakdown(model, inst.gpu, fmt, layout, get_engine(), settings)
    except (SizingError, ValueError) as exc:
        raise InvalidDeclarationError(f"the declared settings cannot be sized: {exc}") from None
    if mem.fits:
        return None
    return (
        f"{instance_type} ({inst.gpus:g} x {inst.gpu.name}) cannot hold {model.name} ({fmt.name}, {layout.label}) "
        f"at max-model-len {settings.max_model_len}: vLLM's budget is {mem.budget_gib:.1f} GiB per GPU, "
        f"the weights take {mem.weights_gib:.1f} GiB; holding them and one request of {settings.max_model_len} tokens "
        f"needs {mem.shortfall_gib:.1f} GiB more per GPU, so the engine refuses to start. To fix: a larger GPU "
        "or more GPUs "
        f"(TP), a smaller weight format, or a shorter {tag.MAX_MODEL_LEN}; `python -m sizing plan --model {model.name} "
        f"--max-model-len {settings.max_model_len}` finds one that fits."
    )
