"""Stand-in for the commands a node's bootstrap calls (docker, aws, curl, systemctl, iptables, mount tools, sleep).

Every call is appended to $SIM_STATE/calls.jsonl with the node it ran on; answers come from $SIM_STATE (shared by the
nodes of one simulated replica): instances.json (the Auto Scaling group's instances and their rank tags) and flags
(files whose presence changes an answer: fail-secret, fail-pull, cached-image, health-fails-N)."""

from __future__ import annotations

import fcntl
import json
import os
import sys
import time
from pathlib import Path

STATE = Path(os.environ["SIM_STATE"])
NODE = os.environ.get("SIM_INSTANCE", "i-0000000000000000a")
IP = os.environ.get("SIM_IP", "10.0.0.10")
ASG = "asg-replica-0"


def record(cmd: str, args: list[str]) -> None:
    with open(STATE / "calls.jsonl", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        fh.write(json.dumps({"node": NODE, "cmd": cmd, "args": args}) + "\n")


def flag(name: str) -> bool:
    return (STATE / name).exists()


def instances(update=None) -> dict:
    """Read (and optionally change) the group's instances under a lock: {id: {"ip": ..., "rank": ...}}."""
    path = STATE / "instances.json"
    with open(STATE / "instances.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        data = json.loads(path.read_text()) if path.exists() else {}
        if update:
            update(data)
            path.write_text(json.dumps(data))
        return data


def opt(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def curl(args: list[str]) -> int:
    url = args[-1]
    answers = {"/api/token": "token", "placement/region": "us-east-1", "meta-data/instance-id": NODE,
               "meta-data/local-ipv4": IP, "tags/instance/aws:autoscaling:groupName": ASG}
    for key, value in answers.items():
        if url.endswith(key):
            print(value)
            return 0
    if url.endswith("/health"):
        failing = sorted(STATE.glob("health-fails-*"))
        if failing:  # health-fails-N: the next N health checks fail
            left = int(failing[0].name.rsplit("-", 1)[1])
            failing[0].unlink()
            if left > 1:
                (STATE / f"health-fails-{left - 1}").touch()
            return 22
        return 0
    return 22


def aws(args: list[str]) -> int:
    service, action = args[0], args[1]
    if (service, action) in (("secretsmanager", "get-secret-value"), ("ssm", "get-parameter")):
        if flag("fail-secret"):
            print("An error occurred (AccessDeniedException)", file=sys.stderr)
            return 254
        print("s3cr3t-value")
        return 0
    if (service, action) == ("ec2", "describe-instances"):
        for iid, node in sorted(instances().items()):
            print(f"{iid}\t{node['ip']}\t{node.get('rank', 'None')}")
        return 0
    if (service, action) == ("ec2", "create-tags"):
        rank = opt(args, "--tags").split("Value=", 1)[1]
        instances(lambda d: d[opt(args, "--resources")].update(rank=rank))
        return 0
    if (service, action) == ("ec2", "delete-tags"):
        instances(lambda d: d[opt(args, "--resources")].pop("rank", None))
        return 0
    if (service, action) == ("ecr", "get-login-password"):
        print("ecr-password")
    return 0


def docker(args: list[str]) -> int:
    if args[0] == "pull":
        return 1 if flag("fail-pull") else 0
    if args[:2] == ["image", "inspect"]:
        return 0 if flag("cached-image") else 1
    return 0


def main() -> int:
    cmd, args = Path(sys.argv[1]).name, sys.argv[2:]
    record(cmd, args)
    if cmd == "curl":
        return curl(args)
    if cmd == "aws":
        return aws(args)
    if cmd == "docker":
        return docker(args)
    if cmd == "sleep":
        time.sleep(0.02)  # let concurrent nodes interleave, without the real wait
        return 0
    if cmd in ("mountpoint", "blkid") or (cmd == "iptables" and "-C" in args):
        return 1  # not mounted / no filesystem / rule not there yet
    return 0


if __name__ == "__main__":
    sys.exit(main())
