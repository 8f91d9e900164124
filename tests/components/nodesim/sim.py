"""A node simulation: the rendered user data run under bash in a temporary root (LLMFLEET_ROOT) with stub commands
that record their calls, and a minimal systemd that honours what the units declare (RuntimeDirectory, ExecStart)."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

STUB = Path(__file__).with_name("stub.sh")
STUBBED = (
    "docker",
    "aws",
    "curl",
    "systemctl",
    "iptables",
    "mountpoint",
    "blkid",
    "mkfs.xfs",
    "mount",
    "sleep",
    "journalctl",
    "nvidia-smi",
)
"""Commands stubbed; the rest (install, cat, awk, date) are the real ones, writing under LLMFLEET_ROOT."""
UNITS = ("llmfleet.service", "llmfleet-ready.service")
"""Started in this order at boot (the ready unit runs After=llmfleet.service)."""
TIMEOUT_S = 60
REAL_SLEEP = shutil.which("sleep") or "/bin/sleep"


@dataclass
class Node:
    """One simulated instance: its root, identity, and the state its stub commands answer from and record to."""

    root: Path
    state: Path
    bin: Path
    instance_id: str = "i-0000000000000000a"

    def env(self) -> dict[str, str]:
        return {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "LLMFLEET_ROOT": str(self.root),
            "SIM_STATE": str(self.state),
            "SIM_INSTANCE": self.instance_id,
            "HOME": str(self.root),
        }

    def run(self, script: Path) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(script)], env=self.env(), capture_output=True, text=True, timeout=TIMEOUT_S)

    def first_boot(self, user_data: str) -> subprocess.CompletedProcess:
        """cloud-init runs the user data once; it installs and enables the units."""
        script = self.root / "var/lib/cloud/user-data.sh"
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(user_data)
        return self.run(script)

    def start_unit(self, unit: str) -> subprocess.Popen:
        """What systemd does for `systemctl start`: make the RuntimeDirectory (on /run, a tmpfs), run ExecStart."""
        text = (self.root / "etc/systemd/system" / unit).read_text()
        for name in re.findall(r"^RuntimeDirectory=(.+)$", text, re.M):
            (self.root / "run" / name).mkdir(parents=True, exist_ok=True)
        exec_start = re.search(r"^ExecStart=(\S+)$", text, re.M)
        assert exec_start, f"{unit} has no ExecStart"
        return subprocess.Popen(
            ["bash", str(self.root / exec_start.group(1).lstrip("/"))],
            env=self.env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def boot(self) -> dict[str, int]:
        """Start the enabled units in order; each unit's exit status."""
        status = {}
        for unit in UNITS:
            proc = self.start_unit(unit)
            proc.communicate(timeout=TIMEOUT_S)
            status[unit] = proc.returncode
        return status

    def reboot(self) -> dict[str, int]:
        """/run is a tmpfs: wiped at reboot. User data does not run again."""
        shutil.rmtree(self.root / "run", ignore_errors=True)
        return self.boot()

    def calls(self, cmd: str | None = None) -> list[list[str]]:
        """Recorded calls of this node (of one command, if given)."""
        path = self.state / "calls"
        rows = [line.split("\x1f") for line in path.read_text().splitlines()] if path.exists() else []
        return [row[1:] for row in rows if row[0] == self.instance_id and (cmd is None or row[1] == cmd)]

    @property
    def log_path(self) -> Path:
        """The boot log user data writes."""
        return self.root / "var/log/llmfleet-boot.log"

    def log(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""


def make_stubs(bin_dir: Path) -> None:
    """A recording stub per command; `sleep` only yields briefly (it is called in wait loops, not worth recording)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    for cmd in STUBBED:
        path = bin_dir / cmd
        if cmd == "sleep":
            path.write_text(f"#!/bin/sh\nexec {REAL_SLEEP} 0.02\n")
            path.chmod(0o755)
        else:
            path.symlink_to(STUB)


def new_node(tmp: Path, instance_store: bool = True) -> Node:
    """One instance of the fleet's Auto Scaling group, before its first boot."""
    state = tmp / "state"
    state.mkdir(parents=True)
    make_stubs(tmp / "bin")
    node = Node(root=tmp / "node", state=state, bin=tmp / "bin")
    (node.root / "run").mkdir(parents=True)
    if instance_store:
        disk = node.root / "dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_AWS0000"
        disk.parent.mkdir(parents=True)
        disk.touch()
    return node


def docker_runs(node: Node) -> list[list[str]]:
    return [c for c in node.calls("docker") if c[1] == "run"]
