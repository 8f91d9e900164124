"""The Kubernetes objects of a mocked run, checked against the real schemas: the Kubernetes OpenAPI of the pinned
version (kubernetes-validate, strict: an unknown field is an error) for built-in kinds, and the CRDs' published OpenAPI
schemas at their pinned releases (tests/data/crds, with `additionalProperties: false` added where the schema lists
properties, so that a misspelt field fails as the API server's strict field validation would refuse it)."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate

from deploy.eks_prerequisites import KUBERNETES_SCHEMA
from preview.mock_run import MockedResource, MockRun

CRD_DIR = Path(__file__).resolve().parents[1] / "data" / "crds"


def as_json(value: Any) -> Any:
    """Inputs as the API server receives them: Pulumi's mocks carry every number as a float."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_json(v) for v in value]
    return value


def k8s_objects(run: MockRun) -> list[tuple[MockedResource, dict[str, Any]]]:
    """Every Kubernetes object the run registered (providers excluded), with its manifest."""
    return [
        (r, as_json(r.inputs))
        for r in run.resources
        if r.custom and r.type.startswith("kubernetes:") and "apiVersion" in r.inputs
    ]


def _closed(schema: Any) -> Any:
    """The schema with additionalProperties: false on every object that lists its properties and does not preserve
    unknown fields."""
    if isinstance(schema, list):
        return [_closed(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _closed(v) for k, v in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the closed schema, for every CRD file."""
    found = {}
    for path in CRD_DIR.glob("*.json"):
        doc = json.loads(path.read_text())
        for version, schema in doc["versions"].items():
            found[(f"{doc['group']}/{version}", doc["kind"])] = _closed(schema)
    return found


def crd_release(api_version: str, kind: str) -> str:
    """The release tag a CRD schema file was taken from."""
    for path in CRD_DIR.glob("*.json"):
        doc = json.loads(path.read_text())
        if doc["kind"] == kind and api_version.split("/")[0] == doc["group"]:
            return doc["version"]
    raise LookupError(f"no schema file for {api_version} {kind}")


def _core_errors(obj: dict[str, Any]) -> list[str]:
    try:
        kubernetes_validate.validate(obj, KUBERNETES_SCHEMA, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'.'.join(map(str, exc.path))}: {exc.message}"]
    return []


def _pod_templates(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """Pod templates inside a custom resource (a LeaderWorkerSet's leader and worker)."""
    lwt = obj.get("spec", {}).get("leaderWorkerTemplate", {})
    return [t for t in (lwt.get("leaderTemplate"), lwt.get("workerTemplate")) if t]


def schema_errors(obj: dict[str, Any]) -> list[str]:
    """Why the API server would refuse the object (empty: it validates)."""
    key = (obj.get("apiVersion", ""), obj.get("kind", ""))
    schema = crd_schemas().get(key)
    if schema is None:
        return _core_errors(obj)
    errors = [
        f"{'.'.join(map(str, e.path))}: {e.message}"
        for e in jsonschema.Draft7Validator(schema).iter_errors(copy.deepcopy(obj))
    ]
    for template in _pod_templates(obj):  # the embedded pod template against Kubernetes' own PodTemplateSpec
        errors += _core_errors(
            {"apiVersion": "v1", "kind": "PodTemplate", "metadata": {"name": "t"}, "template": template}
        )
    return errors
