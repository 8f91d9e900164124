"""Cross-checking live instance specs against the embedded catalog. Pure; no boto3. Pre-flight (gather) adds each
difference to its notices, which every plan of the stack shows as a warning."""

from __future__ import annotations

from sizing.catalog.instances import all_instance_types
from sizing.live.facts import LiveFacts
from sizing.live.refresh import HAND_FIXES

MIB_PER_GIB = 1024
MEMORY_TOLERANCE_GIB = 0.1
"""GPU memory differences below this are rounding, not drift."""


def drift_warnings(facts: LiveFacts) -> list[str]:
    """One warning per field where AWS and the catalog disagree, naming both values; a field the catalog corrects on
    purpose (HAND_FIXES: a known AWS data error) is not drift."""
    warnings = []
    catalog = all_instance_types()
    for name, live in sorted(facts.specs.items()):
        embedded = catalog.get(name)
        if embedded is None:
            continue
        pairs = [
            ("GPUs", "gpus", live.gpus, embedded.gpus),
            ("vCPUs", "vcpus", live.vcpus, embedded.vcpus),
            ("EFA", "efa", live.efa, embedded.efa),
        ]
        for field, column, aws_value, ours in pairs:
            if aws_value != ours and column not in HAND_FIXES.get(name, {}):
                warnings.append(
                    f"catalog drift for {name}: AWS reports {field}={_show(aws_value)}, "
                    f"the embedded catalog has {_show(ours)}"
                )
        live_gib = live.gpu_memory_mib / MIB_PER_GIB
        catalog_gib = embedded.gpu.visible_memory_gib
        if live.gpu_memory_mib and live_gib + MEMORY_TOLERANCE_GIB < catalog_gib:
            warnings.append(
                f"catalog drift for {name}: AWS reports {live_gib:.2f} GiB per GPU, below the catalog's visible "
                f"{catalog_gib:.2f} GiB"
            )
    return warnings


def _show(value: float | bool) -> str:
    return str(value) if isinstance(value, bool) else f"{value:g}"
