"""Built-in model presets (sizing/data/models/*.json), and resolving a model argument: preset name or config.json
path."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from sizing.catalog.files import DATA_DIR
from sizing.errors import InvalidInputError, UnknownModelError
from sizing.limits import MAX_NAME_CHARS
from sizing.models.hf_config import spec_from_file, spec_from_hf_config
from sizing.models.spec import ModelSpec

PRESET_DIR = DATA_DIR / "models"


@cache
def preset_names() -> tuple[str, ...]:
    """Names of the built-in presets."""
    return tuple(sorted(p.stem for p in PRESET_DIR.glob("*.json")))


@cache
def _aliases() -> dict[str, str]:
    """Preset lookup keys: the name and the Hugging Face repo id, lower-case."""
    index = {}
    for name in preset_names():
        doc = json.loads((PRESET_DIR / f"{name}.json").read_text())
        index[name] = name
        index[doc["hf_repo"].lower()] = name
        index[doc["hf_repo"].split("/")[-1].lower()] = name
    return index


@cache
def load_preset(name: str) -> ModelSpec:
    """A preset by name or Hugging Face repo id (a name is found without reading the other presets' files)."""
    wanted = name.strip().lower()
    key = wanted if wanted in preset_names() else _aliases().get(wanted)
    if key is None:
        raise UnknownModelError(
            "model",
            name,
            preset_names(),
            "pass a preset name, a Hugging Face repo id of a preset, or a path to a config.json on disk.",
        )
    doc = json.loads((PRESET_DIR / f"{key}.json").read_text())
    spec = spec_from_hf_config(doc["config"], name=key, source=f"{doc['source']} (as of {doc['as_of']})")
    return spec.model_copy(update={"hf_repo": doc["hf_repo"]})


def resolve_model(model: str) -> ModelSpec:
    """A model argument: an existing path (config.json or its folder) or a preset name."""
    if len(model) > MAX_NAME_CHARS:
        raise UnknownModelError(
            "model",
            model[:60] + "...",
            preset_names(),
            f"pass a preset name or a path of at most {MAX_NAME_CHARS} characters.",
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in model):  # a newline in a path would end a line of the boot script
        raise InvalidInputError(
            f"model {model[:80]!r} contains a control character (newline, tab, NUL...). To fix: pass "
            "a preset name or a path without control characters (rename the folder)."
        )
    path = Path(model)
    try:
        on_disk = path.suffix == ".json" or path.exists()
    except OSError:
        on_disk = True  # an unreadable path: spec_from_file names the problem
    if on_disk:
        return spec_from_file(path)
    return load_preset(model)
