"""The fleet's GPU nodes as Karpenter v1 objects: one EC2NodeClass (AMI, role, subnets, disks, metadata) and a NodePool
per purchase (on-demand floor, spot above it, or reserved capacity). Pure functions returning manifests.

Sources: https://karpenter.sh/docs/concepts/nodepools/, /nodeclasses/, /disruption/ and /scheduling/ (v1.14)."""

from __future__ import annotations

from typing import Any

from deploy.eks_spec import EksSpec, PoolSpec, node_volumes
from deploy.fleet_spec import Gp3Volume
from deploy.options import FleetOptions
from sizing.names import ANNOTATION_PREFIX, FLEET_TAG, MANAGED_BY
from sizing.planner.results import Plan

KARPENTER_GROUP = "karpenter.k8s.aws"
NODE_CLASS_API, NODE_POOL_API = f"{KARPENTER_GROUP}/v1", "karpenter.sh/v1"
FLEET_LABEL = f"{ANNOTATION_PREFIX}fleet"
"""Node (and pod) label naming the fleet: the fleet's pods select their own nodes by it."""
GPU_RESOURCE = "nvidia.com/gpu"
"""What the NVIDIA device plugin advertises (https://github.com/NVIDIA/k8s-device-plugin)."""
GPU_PRESENT_LABEL = "nvidia.com/gpu.present"
"""The node label on which the NVIDIA device plugin chart (v0.20.0 values.yaml) schedules its DaemonSet when node
feature discovery does not label the node: without it, no node advertises nvidia.com/gpu and the pods never schedule."""
GPU_TAINT = {"key": GPU_RESOURCE, "value": "true", "effect": "NoSchedule"}
"""Keeps every pod that does not tolerate GPUs off the fleet's nodes, as Karpenter's docs isolate expensive hardware
(nodepools "Isolating Expensive Hardware"). A fleet-specific taint would also keep off the NVIDIA and EFA device plugin
DaemonSets, whose charts tolerate this one, and the nodes would never advertise their GPUs."""
CONSOLIDATE_EMPTY_AFTER = "5m"
"""An empty GPU node is removed after this long (between two pods of a rollout it is not empty: the replacement is
already bound to its new node)."""
DISRUPTED_AT_ONCE = "1"
"""Voluntary disruptions (drift, emptiness) of the fleet's nodes at a time."""
IMDS = {
    "httpEndpoint": "enabled",
    "httpProtocolIPv6": "disabled",
    "httpPutResponseHopLimit": 1,
    "httpTokens": "required",
}
"""IMDSv2 only, one hop: a pod (a network namespace away from the node) cannot reach the node role's credentials
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html)."""
DEVICES = ("/dev/xvda", "/dev/xvdb")
"""Device names of a node's volumes, in node_volumes' order: the root (AL2023) or OS (Bottlerocket) volume, then
Bottlerocket's data volume."""


def node_class(plan: Plan, options: FleetOptions, spec: EksSpec) -> dict[str, Any]:
    """The EC2NodeClass of the fleet's nodes."""
    cluster = options.cluster
    assert cluster is not None
    discovery = [{"tags": {cluster.discovery_tag: cluster.name}}]
    body: dict[str, Any] = {
        "amiSelectorTerms": [{"alias": cluster.ami_alias}],
        "role": cluster.karpenter_node_role,
        "subnetSelectorTerms": discovery,
        "securityGroupSelectorTerms": discovery,
        "blockDeviceMappings": _block_devices(node_volumes(plan, options)),
        "metadataOptions": dict(IMDS),
        # Only tags that stay put: Karpenter hashes the EC2NodeClass for drift, so a plan-derived tag would replace
        # every node on a plan change (the pods carry the sizing declaration as annotations instead).
        "tags": {**MANAGED_BY, FLEET_TAG: spec.fleet_id, **options.tags},
    }
    if spec.instance_store:
        body["instanceStorePolicy"] = "RAID0"  # kubelet and containerd on the NVMe array: images and emptyDirs there
    if plan.choice.purchase == "capacity-block":
        body["capacityReservationSelectorTerms"] = [{"id": i} for i in cluster.capacity_reservation_ids]
    return {"apiVersion": NODE_CLASS_API, "kind": "EC2NodeClass", "metadata": {"name": spec.name}, "spec": body}


def _block_devices(volumes: tuple[Gp3Volume, ...]) -> list[dict[str, Any]]:
    """The volumes as EC2NodeClass blockDeviceMappings, on DEVICES in order."""
    return [{"deviceName": device, "ebs": _ebs(volume)} for device, volume in zip(DEVICES, volumes, strict=False)]


def _ebs(volume: Gp3Volume) -> dict[str, Any]:
    ebs: dict[str, Any] = {
        "volumeSize": f"{volume.size_gib}Gi",
        "volumeType": "gp3",
        "encrypted": True,
        "deleteOnTermination": True,
    }
    if volume.throughput_mibps:
        ebs.update(throughput=volume.throughput_mibps, iops=volume.iops)
    return ebs


def node_pool(spec: EksSpec, pool: PoolSpec) -> dict[str, Any]:
    """One NodePool: the fleet's types and zones, one purchase, a GPU limit, never a consolidation of a node that
    holds a pod (WhenEmpty, and the pods carry karpenter.sh/do-not-disrupt)."""
    requirements = [
        {"key": "node.kubernetes.io/instance-type", "operator": "In", "values": list(spec.instance_types)},
        {"key": "karpenter.sh/capacity-type", "operator": "In", "values": list(pool.capacity_types)},
    ]
    if spec.zones:
        requirements.append({"key": "topology.kubernetes.io/zone", "operator": "In", "values": list(spec.zones)})
    return {
        "apiVersion": NODE_POOL_API,
        "kind": "NodePool",
        "metadata": {"name": pool.name},
        "spec": {
            "weight": pool.weight,
            "limits": {GPU_RESOURCE: str(pool.gpu_limit)},
            "disruption": {
                "consolidationPolicy": "WhenEmpty",
                "consolidateAfter": CONSOLIDATE_EMPTY_AFTER,
                "budgets": [{"nodes": DISRUPTED_AT_ONCE}],
            },
            "template": {
                "metadata": {"labels": {FLEET_LABEL: spec.name, GPU_PRESENT_LABEL: "true"}},
                "spec": {
                    "nodeClassRef": {"group": KARPENTER_GROUP, "kind": "EC2NodeClass", "name": spec.name},
                    "requirements": requirements,
                    "taints": [dict(GPU_TAINT)],
                    # A serving node is not replaced on a timer, and no terminationGracePeriod: with one, drift would
                    # evict pods that carry do-not-disrupt (disruption.md); a drifted node goes when its pod moves (a
                    # rollout).
                    "expireAfter": "Never",
                },
            },
        },
    }
