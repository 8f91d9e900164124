"""Run stack files through the Pulumi program under mocks and print what each creates, as JSON: the plan, or the
engine's error, and every cloud resource with a digest of each input (never the value: inputs may hold secrets).

Self-contained on purpose: the report copies this file into a checkout of the base commit and runs it there, with the
base's own engine, catalog and components (`python export_stacks.py STACK...`). It relies only on
preview.mock_run's run_stack, stack_name and MockRun, which every version of the project has; the fixed overhead
(deploy/fixed_costs.py) only where the version has it."""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from preview.mock_run import MockRun, run_stack, stack_name


def digest(value: Any) -> str:
    """A stable fingerprint of one input value (sorted JSON, SHA-256, first 16 hex digits)."""
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _of_kind(run: MockRun, kind: str) -> list[dict[str, Any]]:
    return [
        r.inputs
        for r in run.resources
        if r.custom and r.type.startswith("kubernetes:") and r.inputs.get("kind") == kind
    ]


def _pod(workload: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """(the serving pod template, pods per replica group)."""
    spec = workload["spec"]
    if workload["kind"] == "LeaderWorkerSet":
        return spec["leaderWorkerTemplate"]["leaderTemplate"], int(spec["leaderWorkerTemplate"]["size"])
    return spec["template"], 1


def kubernetes(run: MockRun) -> dict[str, Any] | None:
    """What an EKS fleet runs, in figures a reviewer reads (names, counts, types, limits; no input values that could
    hold a secret): the workload, its NodePools, its autoscaling range and its ingress. None for other fleets."""
    workloads = _of_kind(run, "Deployment") + _of_kind(run, "LeaderWorkerSet")
    if len(workloads) != 1:
        return None
    w = workloads[0]
    template, size = _pod(w)
    container = template["spec"]["containers"][0]
    terms = (
        template["spec"]
        .get("affinity", {})
        .get("nodeAffinity", {})
        .get("requiredDuringSchedulingIgnoredDuringExecution", {})
        .get("nodeSelectorTerms", [])
    )
    types = [
        v
        for t in terms
        for e in t.get("matchExpressions", [])
        if e["key"] == "node.kubernetes.io/instance-type"
        for v in e["values"]
    ]
    scaled = _of_kind(run, "ScaledObject")
    ingresses = _of_kind(run, "Ingress")

    def requirement(pool: dict[str, Any], key: str) -> list[str]:
        return next((r["values"] for r in pool["spec"]["template"]["spec"]["requirements"] if r["key"] == key), [])

    return {
        "workload": {
            "kind": w["kind"],
            "namespace": w["metadata"]["namespace"],
            "name": w["metadata"]["name"],
            "replicas": int(w["spec"]["replicas"]),
            "pods_per_replica": size,
            "gpus_per_pod": int(container["resources"]["limits"].get("nvidia.com/gpu", 0)),
            "instance_types": types,
        },
        "node_pools": [
            {
                "name": p["metadata"]["name"],
                "capacity_types": requirement(p, "karpenter.sh/capacity-type"),
                "gpu_limit": int(p["spec"]["limits"].get("nvidia.com/gpu", 0)),
                "zones": requirement(p, "topology.kubernetes.io/zone"),
            }
            for p in _of_kind(run, "NodePool")
        ],
        "autoscaling": (
            {"min": int(scaled[0]["spec"]["minReplicaCount"]), "max": int(scaled[0]["spec"]["maxReplicaCount"])}
            if scaled
            else None
        ),
        "ingress": (
            {
                "scheme": ingresses[0]["metadata"]["annotations"].get("alb.ingress.kubernetes.io/scheme", "internal"),
                "https": bool(ingresses[0]["metadata"]["annotations"].get("alb.ingress.kubernetes.io/certificate-arn")),
                "paths": [p["path"] for r in ingresses[0]["spec"]["rules"] for p in r["http"]["paths"]],
            }
            if ingresses
            else None
        ),
    }


def fixed_costs(path: str, run: MockRun) -> dict[str, Any]:
    """{fixed_costs, fixed_costs_unknown}: the overhead of what the stack creates besides its instances
    (deploy/fixed_costs.py), or why there is none: "version" for a project version without it (the base side of a
    report made before it), "region" where its region has no prices."""
    try:
        from deploy.fixed_costs import stack_fixed_costs
    except ImportError:
        return {"fixed_costs": None, "fixed_costs_unknown": "version"}
    costs = stack_fixed_costs(path, run.plan) if run.plan else None
    return {
        "fixed_costs": costs.model_dump(mode="json") if costs else None,
        "fixed_costs_unknown": None if costs else "region",
    }


def _run(path: str) -> dict[str, Any]:
    run = MockRun(stack=stack_name(path))
    try:
        run_stack(path, run)
    except Exception as exc:  # the program's own failure (bad config, infeasible plan) is the result to report
        return {"name": run.stack, "plan": None, "error": str(exc), "inputs": {}}
    inputs = {
        f"{r.type}::{r.name}": {k: digest(v) for k, v in sorted(r.inputs.items())} for r in run.resources if r.custom
    }
    return {
        "name": run.stack,
        "plan": run.plan.model_dump_json() if run.plan else None,
        "error": None,
        "inputs": inputs,
        "kubernetes": kubernetes(run),
        **fixed_costs(path, run),
    }


def export_stack(path: str) -> dict[str, Any]:
    """{name, plan (JSON text) or error, inputs: {"type::name": {input: digest}}, kubernetes, fixed_costs,
    fixed_costs_unknown, lock_error} for one stack file. A
    stack that fails only because of its plan lock (Pulumi.<stack>.plan.json next to it, made for other config) is run
    again without the lock, so that the report shows what the change buys; lock_error says why preview fails."""
    result = _run(path)
    lock = Path(path).with_name(Path(path).name.rsplit(".", 1)[0] + ".plan.json")
    if result["plan"] is not None or not lock.exists():
        return {**result, "lock_error": None}
    with tempfile.TemporaryDirectory() as folder:
        unlocked = _run(shutil.copy(path, str(Path(folder) / Path(path).name)))
    return (
        {**unlocked, "lock_error": result["error"]} if unlocked["plan"] is not None else {**result, "lock_error": None}
    )


if __name__ == "__main__":
    json.dump([export_stack(p) for p in sys.argv[1:]], sys.stdout, sort_keys=True)
