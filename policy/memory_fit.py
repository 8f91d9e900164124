"""Can the GPUs of an instance type hold the model its tags declare, at the declared context? The sizing engine's own
memory model (vLLM's start-up budget), applied to what a launch template or node group says it runs."""

from __future__ import annotations

from collections.abc import Mapping

from components import fleet_tags as tag
from sizing.catalog.engines import get_engine
from sizing.catalog.formats import get_format
from sizing.catalog.instances import all_instance_types
from sizing.errors import SizingError
from sizing.memory.budget import EngineSettings, kv_element_bytes, memory_breakdown
from sizing.memory.layout import Layout
from sizing.models.presets import load_preset


class UndeclaredError(ValueError):
    """The tags do not declare a model the engine can size (absent, or not a preset)."""


def _number(tags: Mapping[str, str], key: str, default: float | None, kind: type = int) -> float | None:
    value = tags.get(key)
    if value is None:
        return default
    try:
        return kind(value)
    except ValueError:
        raise UndeclaredError(f"tag {key}={value!r} is not a number. To fix: e.g. {key}=8192.") from None


def shortfall(instance_type: str, tags: Mapping[str, str]) -> str | None:
    """Why this instance type cannot hold the declared model (None: it can). Raises UndeclaredError when the tags
    declare nothing checkable; returns None for instance types without GPUs in the catalog."""
    inst = all_instance_types().get(instance_type)
    if inst is None or inst.gpus < 1:
        return None
    if tag.MODEL not in tags or tag.MAX_MODEL_LEN not in tags:
        raise UndeclaredError(f"{instance_type} has GPUs but no {tag.MODEL} / {tag.MAX_MODEL_LEN} tags, so what it serves "
                              f"cannot be checked. To fix: tag it, e.g. {tag.MODEL}=llama-3.1-8b {tag.MAX_MODEL_LEN}=8192.")
    try:
        model = load_preset(tags[tag.MODEL])
        fmt = get_format(tags.get(tag.WEIGHTS) or model.native_format)
        layout = Layout(tp=int(_number(tags, tag.TENSOR_PARALLEL, inst.gpus) or 1),
                        pp=int(_number(tags, tag.PIPELINE_PARALLEL, 1) or 1))
        settings = EngineSettings(
            gpu_memory_utilization=_number(tags, tag.GPU_MEMORY_UTILIZATION, None, float),
            max_model_len=int(_number(tags, tag.MAX_MODEL_LEN, None) or 0),
            kv_element_bytes=kv_element_bytes(tags.get(tag.KV_DTYPE, "auto"), fmt))
        mem = memory_breakdown(model, inst.gpu, fmt, layout, get_engine(), settings)
    except (SizingError, ValueError) as exc:
        raise UndeclaredError(f"the declared model cannot be sized: {exc}") from None
    if mem.fits:
        return None
    return (f"{instance_type} ({inst.gpus:g} x {inst.gpu.name}) cannot hold {model.name} ({fmt.name}, TP={layout.tp} "
            f"PP={layout.pp}) at max-model-len {settings.max_model_len}: vLLM's budget is {mem.budget_gib:.1f} GiB per GPU, "
            f"the weights take {mem.weights_gib:.1f} GiB; holding them and one request of {settings.max_model_len} tokens "
            f"needs {mem.shortfall_gib:.1f} GiB more per GPU, so the engine refuses to start. To fix: a larger GPU or more GPUs "
            f"(TP), a smaller weight format, or a shorter {tag.MAX_MODEL_LEN}; `python -m sizing plan --model {model.name} "
            f"--max-model-len {settings.max_model_len}` finds one that fits.")
