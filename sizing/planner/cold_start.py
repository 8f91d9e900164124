"""Cold start of one node, term by term: boot the instance, pull the image, download the checkpoint to the weights disk,
load this node's shard from that disk into GPU memory, start the engine. The download runs at the slowest of the source
(S3 or the hub), the NIC and the disk's write rate; the disk is the local NVMe instance store where the type has one
large enough, else a gp3 volume whose throughput is provisioned from the download rate."""

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict

from sizing.catalog.assumptions import Assumptions
from sizing.catalog.instances import InstanceType, get_instance_type
from sizing.catalog.node_hardware import node_hardware
from sizing.planner.results import Plan
from sizing.units import BYTES_PER_GB, BYTES_PER_MB

BYTES_PER_MIB = 2**20
BITS_PER_BYTE = 8
WEIGHTS_DISK_FACTOR = 1.1
"""Weights on disk: one copy of the checkpoint plus 10% for tokenizer, config files and a partial re-download."""
GP3_BASELINE_MIBPS = 125
"""gp3 throughput included without provisioning, MiB/s (https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html#gp3-ebs-volume-type)."""
GP3_MAX_MIBPS = 1000
"""Highest throughput a gp3 volume can be provisioned with, MiB/s (same page)."""
GP3_BASELINE_IOPS = 3000
"""gp3 IOPS included without provisioning (same page)."""
GP3_MIBPS_PER_IOPS = 0.25
"""gp3 throughput may be at most 0.25 MiB/s per provisioned IOPS (same page)."""


def weights_footprint_bytes(download_bytes: float) -> float:
    """Disk a node needs for the weights: the checkpoint plus WEIGHTS_DISK_FACTOR's margin."""
    return download_bytes * WEIGHTS_DISK_FACTOR


class WeightsDisk(BaseModel):
    """Where a node keeps the weights and how fast that disk is."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    kind: Literal["instance-store", "gp3"]
    """Local NVMe SSD (first instance-store disk) or the encrypted gp3 root volume."""
    rate_bytes_per_s: float
    """Sequential read and write rate, bytes/s."""
    gp3_throughput_mibps: int | None = None
    """Provisioned gp3 throughput, MiB/s (None on instance store)."""
    gp3_iops: int | None = None
    """Provisioned gp3 IOPS, enough for the throughput (None on instance store)."""


class ColdStart(BaseModel):
    """Seconds from launch to serving for one node, term by term."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    boot_s: float
    """EC2 launch until the user data runs."""
    image_pull_s: float
    """Pulling the serving image."""
    download_bytes: float
    """Checkpoint bytes every node downloads."""
    download_rate_bytes_per_s: float
    """Download rate: the slowest of source, NIC and disk."""
    download_limited_by: Literal["source", "nic", "disk"]
    """Which of the three sets the download rate."""
    download_s: float
    """Downloading the checkpoint to the weights disk."""
    load_bytes: float
    """Bytes this node loads into GPU memory (its TP/PP shard)."""
    load_s: float
    """Reading the node's shard from the weights disk into GPU memory."""
    engine_init_s: float
    """Profiling, KV allocation and CUDA graph capture."""
    disk: WeightsDisk
    """The weights disk."""

    @property
    def total_s(self) -> float:
        """Launch to serving, seconds."""
        return self.boot_s + self.image_pull_s + self.download_s + self.load_s + self.engine_init_s

    def explain(self) -> list[str]:
        """One line per term, with the rate and the bound behind it."""
        gb = BYTES_PER_GB
        disk = (
            f"gp3 at {self.disk.gp3_throughput_mibps} MiB/s provisioned"
            if self.disk.kind == "gp3"
            else "local NVMe instance store"
        )
        return [
            f"instance boot {self.boot_s:.0f} s (assumption instance_boot_s)",
            f"image pull {self.image_pull_s:.0f} s (assumption container_pull_s)",
            f"download {self.download_bytes / gb:.1f} GB at {self.download_rate_bytes_per_s / gb:.2f} GB/s "
            f"(limited by the {self.download_limited_by}) = {self.download_s:.0f} s",
            f"load {self.load_bytes / gb:.1f} GB from {disk} at {self.disk.rate_bytes_per_s / gb:.2f} GB/s = "
            f"{self.load_s:.0f} s",
            f"engine start {self.engine_init_s:.0f} s (assumption engine_init_s)",
            f"total {self.total_s:.0f} s ({self.total_s / 60:.1f} min)",
        ]


def _network_rates(instance: InstanceType, a: Assumptions) -> dict[str, float]:
    """Bytes/s the source and the NIC allow for one node's download."""
    return {
        "source": instance.facts.weights_load_gb_per_s * BYTES_PER_GB,
        "nic": instance.network_gbps * BYTES_PER_GB / BITS_PER_BYTE * a.download_nic_efficiency,
    }


def weights_disk(instance: InstanceType, download_bytes: float, a: Assumptions) -> WeightsDisk:
    """The first instance-store NVMe disk when the type has one that holds the checkpoint, else gp3 provisioned to keep
    up with the network (between the gp3 baseline and maximum, and under the instance's EBS ceiling)."""
    hw = node_hardware(instance.name)
    if hw.instance_store_disks and hw.instance_store_disk_bytes >= weights_footprint_bytes(download_bytes):
        return WeightsDisk(kind="instance-store", rate_bytes_per_s=a.instance_store_gb_per_s * BYTES_PER_GB)
    wanted_mibps = min(_network_rates(instance, a).values()) / BYTES_PER_MIB
    ceiling_mibps = min(GP3_MAX_MIBPS, hw.ebs_max_mbps * BYTES_PER_MB / BYTES_PER_MIB)
    mibps = max(GP3_BASELINE_MIBPS, min(math.ceil(wanted_mibps), math.floor(ceiling_mibps)))
    iops = max(GP3_BASELINE_IOPS, math.ceil(mibps / GP3_MIBPS_PER_IOPS))
    return WeightsDisk(kind="gp3", rate_bytes_per_s=mibps * BYTES_PER_MIB, gp3_throughput_mibps=mibps, gp3_iops=iops)


def cold_start(instance: InstanceType, download_bytes: float, load_bytes: float, a: Assumptions) -> ColdStart:
    """Cold start of one node that downloads `download_bytes` and loads `load_bytes` into its GPUs."""
    disk = weights_disk(instance, download_bytes, a)
    rates = {**_network_rates(instance, a), "disk": disk.rate_bytes_per_s}
    limited_by = min(rates, key=lambda k: rates[k])
    rate = rates[limited_by]
    return ColdStart(
        boot_s=a.instance_boot_s,
        image_pull_s=a.container_pull_s,
        download_bytes=download_bytes,
        download_rate_bytes_per_s=rate,
        download_limited_by=limited_by,  # type: ignore[arg-type]
        download_s=download_bytes / rate,
        load_bytes=load_bytes,
        load_s=load_bytes / disk.rate_bytes_per_s,
        engine_init_s=a.engine_init_s,
        disk=disk,
    )


def node_cold_start(instance: InstanceType, checkpoint_bytes: float, a: Assumptions) -> ColdStart:
    """Cold start of one node of a fleet: every node downloads the whole checkpoint and reads it from its weights disk
    (each node of a multi-node replica too: vLLM reads its layers from the node's own copy)."""
    return cold_start(instance, checkpoint_bytes, checkpoint_bytes, a)


def plan_cold_start(plan: Plan) -> ColdStart:
    """A plan's cold start, as the planner priced it (pricing.node_cold_start_s)."""
    return node_cold_start(
        get_instance_type(plan.choice.instance_type), plan.checkpoint.download_bytes, plan.assumptions
    )
