"""Turn a published CustomResourceDefinition YAML file into the JSON test data under tests/data/crds/.

Usage:
    python tools/crd_schemas.py CRD.yaml SOURCE_URL RELEASE [--commit SHA] [--licence SPDX] [--out-dir DIR]

For every CustomResourceDefinition in the file it writes ``<group>_<plural>.json`` holding the provenance (source URL,
release, commit, licence, sha256 of the YAML bytes) and, for each served version, its ``openAPIV3Schema`` with the
``description`` annotations removed. Only the annotations go: a property that happens to be *named* ``description``
(a key of ``properties``) is kept, and ``default``/``example``/``enum`` values are copied untouched. Nothing else in
the schema is changed. Output is JSON with sorted keys and indent=1, so regenerating from the same file is a no-op.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any, TypeAlias

import yaml

Json: TypeAlias = "dict[str, Json] | list[Json] | str | int | float | bool | None"

DEFAULT_OUT_DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "crds"

# Keys whose value maps arbitrary names (property names, definition names) to schemas: the names are data, not
# annotations, so a name "description" must survive.
_NAMED_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"})
# Keys whose value is instance data, not schema: copied as they are.
_LITERAL_KEYS = frozenset({"default", "example", "enum", "const", "examples"})


def strip_descriptions(schema: Json) -> Json:
    """Return a copy of ``schema`` with every ``description`` annotation removed, recursively."""
    if isinstance(schema, list):
        return [strip_descriptions(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Json] = {}
    for key, value in schema.items():
        if key == "description" and isinstance(value, str):
            continue
        if key in _LITERAL_KEYS:
            out[key] = value
        elif key in _NAMED_SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: strip_descriptions(sub) for name, sub in value.items()}
        else:
            out[key] = strip_descriptions(value)
    return out


def crd_record(
    crd: dict[str, Any], *, source: str, version: str, commit: str | None, licence: str, sha256: str
) -> dict[str, Any]:
    """The JSON document for one CustomResourceDefinition."""
    spec = crd["spec"]
    versions = {
        v["name"]: strip_descriptions(v["schema"]["openAPIV3Schema"])
        for v in spec["versions"]
        if v.get("served", False)
    }
    if not versions:
        raise ValueError(f"{crd['metadata']['name']}: no served version with a schema")
    return {
        "source": source,
        "version": version,
        "commit": commit,
        "licence": licence,
        "sha256_of_source": sha256,
        "group": spec["group"],
        "kind": spec["names"]["kind"],
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("yaml_path", type=Path, help="the CRD YAML file, exactly as downloaded")
    parser.add_argument("source", help="raw URL of that file at the release tag")
    parser.add_argument("version", help="release tag, e.g. v1.14.1")
    parser.add_argument("--commit", default=None, help="commit the tag points at")
    parser.add_argument("--licence", default="Apache-2.0", help="SPDX id of the source repository's licence")
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args(argv)

    raw = args.yaml_path.read_bytes()
    sha256 = hashlib.sha256(raw).hexdigest()
    crds = [
        doc
        for doc in yaml.safe_load_all(raw)
        if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition"
    ]
    if not crds:
        parser.error(f"{args.yaml_path}: no CustomResourceDefinition in it")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for crd in crds:
        record = crd_record(
            crd, source=args.source, version=args.version, commit=args.commit, licence=args.licence, sha256=sha256
        )
        out = args.out_dir / f"{crd['spec']['group']}_{crd['spec']['names']['plural']}.json"
        out.write_text(json.dumps(record, sort_keys=True, indent=1) + "\n", encoding="utf-8")
        print(f"{out}: {record['kind']} {sorted(record['versions'])} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
