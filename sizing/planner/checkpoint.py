"""Which checkpoint a plan downloads: a pre-quantized release of the served format where one is known, else the
model's own checkpoint (quantized by vLLM at load). Disk size and cold start follow this download."""

from __future__ import annotations

from sizing.catalog.checkpoints import Checkpoint, prequantized_release
from sizing.catalog.formats import WeightFormat, get_format
from sizing.memory.weights import total_weight_bytes
from sizing.models.spec import ModelSpec


def checkpoint_for(model: ModelSpec, fmt: WeightFormat) -> Checkpoint:
    """The checkpoint a node downloads to serve `model` in `fmt`, with its size on disk."""
    release = prequantized_release(model.hf_repo, fmt.name) if fmt.name != model.native_format else None
    if release is not None:
        computed = release.download_bytes is None
        size = total_weight_bytes(model, fmt) if computed else release.download_bytes
        return Checkpoint(repo=release.repo, format=fmt.name, download_bytes=round(size or 0), prequantized=True,
                          source=release.source + (f"; size computed from the parameter count in {fmt.name}" if computed
                                                   else " (recorded size)"))
    native = get_format(model.native_format)
    return Checkpoint(
        repo=model.hf_repo, format=native.name, download_bytes=round(total_weight_bytes(model, native)), prequantized=False,
        source=f"the model's own checkpoint; size computed from the parameter count in {native.name}"
               + (f", quantized to {fmt.name} by vLLM at load" if fmt.name != native.name else ""),
    )
