"""The rendered user data run under bash in a temporary root with stub docker/aws/curl/systemctl that record their
calls: first boot, reboot (tmpfs wiped), token fetch failure, image pull failure with and without a cached image,
readiness gated on /health, and 2- and 4-node replicas assigning every rank exactly once."""

from __future__ import annotations

import dataclasses
import datetime
import json
import shutil

import pytest

from components.fleet_spec import capacity_spec, node_spec
from components.userdata import BootContext, render_user_data
from tests.components.conftest import stack_options, stack_run, user_data
from tests.components.nodesim.sim import docker_runs, replica

SINGLE_NODE = ("dev", "prod")


def one_node(tmp_path, stack: str):
    node = replica(tmp_path, 1, instance_store=True)[0]
    assert node.first_boot(user_data(stack_run(stack))).returncode == 0, node.log()
    return node


@pytest.mark.parametrize("stack", SINGLE_NODE)
def test_first_boot_serves_and_completes_the_launch_hook(tmp_path, stack):
    node = one_node(tmp_path, stack)
    # --no-block: the ready unit is a oneshot that waits minutes for /health; cloud-init must not wait on it
    assert ["systemctl", "enable", "--now", "--no-block", "llmfleet.service", "llmfleet-ready.service"] in node.calls("systemctl")
    assert node.boot() == {"llmfleet.service": 0, "llmfleet-ready.service": 0}, node.log()
    (run,) = docker_runs(node)
    assert "--network" not in run and "-p" in run  # bridge networking: the container is one hop from IMDS
    block = ["iptables", "-I", "DOCKER-USER", "-d", "169.254.169.254/32", "-j", "DROP"]
    order = [c[:2] for c in node.calls()]
    assert block in node.calls("iptables") and order.index(["iptables", "-I"]) < order.index(["docker", "run"])
    env = (node.root / "run/llmfleet/env").read_text()
    assert "VLLM_API_KEY=s3cr3t-value" in env and ("HF_TOKEN=s3cr3t-value" in env) == (stack in ("dev", "prod"))
    (done,) = [c for c in node.calls("aws") if c[2] == "complete-lifecycle-action"]
    assert done[done.index("--lifecycle-action-result") + 1] == "CONTINUE"
    assert "s3cr3t-value" not in node.log()


def test_reboot_serves_again_after_tmpfs_is_wiped(tmp_path):
    node = one_node(tmp_path, "dev")
    node.boot()
    assert node.reboot() == {"llmfleet.service": 0, "llmfleet-ready.service": 0}, node.log()
    assert len(docker_runs(node)) == 2  # served again
    assert len([c for c in node.calls("aws") if c[2] == "complete-lifecycle-action"]) == 1  # the hook only once
    unit = (node.root / "etc/systemd/system/llmfleet.service").read_text()
    assert "RuntimeDirectory=llmfleet" in unit


def test_instance_store_the_dlami_mounted_is_used_not_reformatted(tmp_path):
    """The GPU DLAMIs mount every instance-store disk as one volume at /opt/dlami/nvme: the weights go there (a bind
    mount), and the first disk, a member of that volume, is neither formatted nor mounted."""
    node = replica(tmp_path, 1)[0]
    (node.state / "dlami-nvme").touch()
    (node.state / "raid-member").touch()
    node.first_boot(user_data(stack_run("dev")))
    assert node.boot()["llmfleet.service"] == 0, node.log()
    mounts = node.calls("mount")
    assert mounts == [["mount", "--bind", f"{node.root}/opt/dlami/nvme/llmfleet", f"{node.root}/opt/llmfleet/data"]]
    assert not node.calls("mkfs.xfs") and len(docker_runs(node)) == 1


@pytest.mark.parametrize("appears", [True, False])
def test_instance_store_disk_in_use_is_never_mounted_or_formatted(tmp_path, appears):
    """A start before the AMI has mounted its volume leaves the disk (a RAID member) alone and waits for the mount:
    when it appears the start goes on; when it does not, the start fails (systemd retries) without touching the disk."""
    node = replica(tmp_path, 1)[0]
    (node.state / "raid-member").touch()
    if appears:
        (node.state / "dlami-nvme-after").write_text("3")
    node.first_boot(user_data(stack_run("prod")))
    proc = node.start_unit("llmfleet.service")
    out, _ = proc.communicate(timeout=60)
    assert not node.calls("mkfs.xfs")
    assert [c for c in node.calls("mount") if "--bind" not in c] == []
    assert (proc.returncode == 0) == appears and bool(docker_runs(node)) == appears
    assert ("linux_raid_member, not mounted at /opt/dlami/nvme after" in out) != appears


def test_a_stale_container_is_removed_before_the_next_start(tmp_path):
    node = one_node(tmp_path, "dev")
    node.boot()
    order = [c[:2] for c in node.calls("docker")]
    assert order.index(["docker", "rm"]) < order.index(["docker", "run"])
    assert ["docker", "rm", "-f", "vllm"] in node.calls("docker")


@pytest.mark.parametrize("stack", ["dev", "batch"])
def test_a_crash_looping_server_is_handed_back_to_its_group(tmp_path, stack):
    """systemd restarts vLLM every RestartSec; past StartLimitBurst starts in StartLimitIntervalSec the unit fails and
    OnFailure= marks the instance Unhealthy, so even an EC2-checked multi-node replica group replaces it; the server
    is started again either way (a failed unit would stay down)."""
    node = replica(tmp_path, 1)[0]
    node.first_boot(user_data(stack_run(stack)))
    unit = (node.root / "etc/systemd/system/llmfleet.service").read_text()
    keys = dict(line.split("=", 1) for line in unit.splitlines() if "=" in line)
    assert keys["OnFailure"] == "llmfleet-unhealthy.service" and keys["Restart"] == "always"
    burst, window, restart = int(keys["StartLimitBurst"]), int(keys["StartLimitIntervalSec"]), int(keys["RestartSec"])
    assert burst * restart < window  # the limit can be reached by restarts alone
    assert window >= 2 * stack_run(stack).plan.choice.cold_start_s  # a server that fails after loading still counts
    (node.root / "opt/llmfleet/ready-done").touch()  # it served once
    proc = node.start_unit("llmfleet-unhealthy.service")
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    (call,) = [c for c in node.calls("aws") if c[2] == "set-instance-health"]
    assert call[call.index("--health-status") + 1] == "Unhealthy" and node.instance_id in call
    assert node.calls("systemctl")[-2:] == [["systemctl", "reset-failed", "llmfleet.service"],
                                            ["systemctl", "start", "--no-block", "llmfleet.service"]]
    grants = [st for st in json.loads(stack_run(stack).one("RolePolicy").inputs["policy"])["Statement"]
              if "autoscaling:SetInstanceHealth" in st["Action"]]
    assert grants and all(st.get("Condition") for st in grants)  # only on its own fleet's groups


@pytest.mark.parametrize("why", ["never served", "replica forming"])
def test_a_node_is_not_given_up_while_it_or_its_replica_is_starting(tmp_path, why):
    """Before the node ever served, its launch hook's deadline decides; while a peer of its multi-node replica is
    younger than the ready deadline (a replacement downloading its weights), failures to reach it are expected. The
    server is started again, not given up."""
    first, peer = replica(tmp_path, 2)
    first.first_boot(user_data(stack_run("batch")))
    if why == "replica forming":
        (first.root / "opt/llmfleet/ready-done").touch()
        (peer.state / "instances" / peer.instance_id / "launch").write_text(
            datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    proc = first.start_unit("llmfleet-unhealthy.service")
    out, _ = proc.communicate(timeout=60)
    assert not [c for c in first.calls("aws") if c[2] == "set-instance-health"]
    assert (peer.instance_id in out) == (why == "replica forming")
    assert ["systemctl", "start", "--no-block", "llmfleet.service"] in first.calls("systemctl")


@pytest.mark.parametrize("crt_fails", [False, True])
def test_s3_weights_sync_with_the_crt_client_then_classic(tmp_path, crt_fails):
    """The AWS CLI picks its CRT S3 client (which targets the instance's bandwidth) only on a few types; otherwise the
    classic client at 10 requests downloads far below the cold-start model's rate and the launch hook times out. The
    CRT client fails on a bucket in another region: the classic client, with more concurrency, retries."""
    node = replica(tmp_path, 1)[0]
    if crt_fails:
        (node.state / "fail-crt").touch()
    node.first_boot(multi_node_user_data(1))
    proc = node.start_unit("llmfleet.service")
    proc.communicate(timeout=60)
    assert proc.returncode == 0
    clients = [c[1] for c in node.calls("s3-client")]
    assert clients == (["crt", "classic"] if crt_fails else ["crt"])
    classic = (node.root / "opt/llmfleet/s3-classic.conf").read_text()
    assert "max_concurrent_requests = 64" in classic and "multipart_chunksize = 64MB" in classic


def test_token_fetch_failure_stops_the_start(tmp_path):
    node = one_node(tmp_path, "dev")
    (node.state / "fail-secret").touch()
    proc = node.start_unit("llmfleet.service")
    proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert not docker_runs(node)  # never serves without its token and API key
    assert "HF_TOKEN=" not in (node.root / "run/llmfleet/env").read_text()


@pytest.mark.parametrize("cached,serves", [(True, True), (False, False)])
def test_image_pull_failure_falls_back_to_the_cached_image(tmp_path, cached, serves):
    node = one_node(tmp_path, "dev")
    (node.state / "fail-pull").touch()
    if cached:
        (node.state / "cached-image").touch()
    proc = node.start_unit("llmfleet.service")
    out, _ = proc.communicate(timeout=60)
    assert (proc.returncode == 0) == serves and bool(docker_runs(node)) == serves
    assert ("starting the cached" in out) == cached  # the journal says why


def test_launch_hook_waits_for_health(tmp_path):
    node = one_node(tmp_path, "dev")
    (node.state / "health-fails").write_text("3")
    node.boot()
    calls = node.calls()
    health = [i for i, c in enumerate(calls) if c[0] == "curl" and c[-1].endswith("/health")]
    done = next(i for i, c in enumerate(calls) if c[:3] == ["aws", "autoscaling", "complete-lifecycle-action"])
    assert len(health) == 4 and done > health[-1]  # three failures, then healthy, then the hook


def multi_node_user_data(nodes: int) -> str:
    """The batch stack's own user data for its replica size; for another size, the same stack re-rendered."""
    run, cfg = stack_run("batch"), stack_options("batch")
    if nodes == run.plan.choice.nodes_per_replica:
        return user_data(run)
    spec = dataclasses.replace(node_spec(run.plan, cfg.fleet), nodes_per_replica=nodes)
    return render_user_data(spec, capacity_spec(run.plan, cfg.fleet), cfg.fleet,
                            BootContext("batch", run.plan.checkpoint.repo, "llmfleet/llm-fleet/batch/api-key"))


@pytest.mark.parametrize("nodes", [2, 4])
def test_replica_assigns_every_rank_exactly_once(tmp_path, nodes):
    members = replica(tmp_path, nodes)
    script = multi_node_user_data(nodes)
    for node in members:
        assert node.first_boot(script).returncode == 0, node.log()
    procs = [node.start_unit("llmfleet.service") for node in members]  # all nodes boot at once
    for proc in procs:
        proc.communicate(timeout=120)
        assert proc.returncode == 0
    runs = {node.ip: docker_runs(node)[0] for node in members}
    ranks = sorted(int(r[r.index("--node-rank") + 1]) for r in runs.values())
    assert ranks == list(range(nodes))
    head = next(ip for ip, r in runs.items() if r[r.index("--node-rank") + 1] == "0")
    assert all(r[r.index("--master-addr") + 1] == head for r in runs.values())
    assert all(("--headless" in r) == (r[r.index("--node-rank") + 1] != "0") for r in runs.values())
    assert all(r[r.index("--nnodes") + 1] == str(nodes) for r in runs.values())
    assert all("--user" in r for r in runs.values())  # uid kept off IMDS by the OUTPUT rule
    block = ["iptables", "-I", "OUTPUT", "-d", "169.254.169.254/32", "-m", "owner", "--uid-owner", "1000", "-j", "DROP"]
    assert all(block in node.calls("iptables") for node in members)
    # a restart keeps the rank (the tag stays with the instance)
    again = members[-1].start_unit("llmfleet.service")
    again.communicate(timeout=60)
    first, second = docker_runs(members[-1])
    assert first[first.index("--node-rank") + 1] == second[second.index("--node-rank") + 1]


def test_a_replacement_node_takes_the_rank_its_predecessor_freed(tmp_path):
    first, lost = replica(tmp_path, 2)
    script = multi_node_user_data(2)
    for node in (first, lost):
        node.first_boot(script)
    for proc in [node.start_unit("llmfleet.service") for node in (first, lost)]:
        proc.communicate(timeout=120)
    freed = docker_runs(lost)[0]
    shutil.rmtree(lost.state / "instances" / lost.instance_id)  # terminated: its tags go with it
    new = dataclasses.replace(lost, root=tmp_path / "replacement", instance_id="i-0fffffffffffffff0", ip="10.0.0.99")
    (new.state / "instances" / new.instance_id).mkdir()
    (new.state / "instances" / new.instance_id / "ip").write_text(new.ip)
    disk = new.root / "dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_AWS0001"
    disk.parent.mkdir(parents=True)
    disk.touch()
    (new.root / "run").mkdir()
    assert new.first_boot(script).returncode == 0
    proc = new.start_unit("llmfleet.service")
    proc.communicate(timeout=120)
    (run,) = docker_runs(new)
    assert run[run.index("--node-rank") + 1] == freed[freed.index("--node-rank") + 1]
    head = new.ip if run[run.index("--node-rank") + 1] == "0" else first.ip
    assert run[run.index("--master-addr") + 1] == head
