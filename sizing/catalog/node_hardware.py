"""Per-type node hardware the fleet is built on (sizing/data/node_hardware.csv): network cards and EFA interfaces,
local NVMe instance store and the EBS ceiling. Read from DescribeInstanceTypes; the source is on every row."""

from functools import cache

from pydantic import BaseModel, ConfigDict, Field

from sizing.catalog.files import read_csv
from sizing.units import BYTES_PER_GB


class NodeHardware(BaseModel):
    """Network and storage facts of one instance type."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    instance_type: str
    """API name, e.g. 'p5.48xlarge'."""
    network_cards: int = Field(ge=1)
    """Network cards (a launch template attaches one interface per card)."""
    efa_interfaces_max: int = Field(ge=0)
    """EFA interfaces the type takes (0: no EFA); one per network card on the multi-card types."""
    efa_first_card: int = Field(ge=0)
    """First network card that takes an EFA: 0 on most types, 1 where card 0 is ENA-only (p6-b300, p6e-gb200)."""
    instance_store_disks: int = Field(ge=0)
    """Local NVMe SSDs (0: EBS only)."""
    instance_store_disk_gb: float = Field(ge=0)
    """Size of one local NVMe SSD, GB (10^9)."""
    ebs_max_mbps: float = Field(gt=0)
    """The instance's EBS throughput ceiling, MB/s (10^6)."""
    source: str
    """Where the row comes from."""
    as_of: str
    """Date of the row."""

    @property
    def instance_store_disk_bytes(self) -> float:
        """One local NVMe SSD, bytes."""
        return self.instance_store_disk_gb * BYTES_PER_GB


NO_ROW = dict(
    network_cards=1,
    efa_interfaces_max=0,
    efa_first_card=0,
    instance_store_disks=0,
    instance_store_disk_gb=0,
    ebs_max_mbps=125,
    source="no row in node_hardware.csv: one card, no EFA, no instance store assumed",
    as_of="",
)
"""What a type without a row is taken to have: the most conservative node (EBS only, one network card)."""


@cache
def node_hardware(instance_type: str) -> NodeHardware:
    """The row of node_hardware.csv for a type (a conservative default for a type without one)."""
    for row in read_csv("node_hardware.csv"):
        if row["instance_type"] == instance_type:
            return NodeHardware(**row)  # type: ignore[arg-type]
    return NodeHardware(instance_type=instance_type, **NO_ROW)  # type: ignore[arg-type]
