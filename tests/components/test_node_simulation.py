"""The rendered user data run under bash in a temporary root with stub docker/aws/curl/systemctl that record their
calls: first boot, reboot (tmpfs wiped), token fetch failure, image pull failure with and without a cached image,
readiness gated on /health, crash loops, and leaving the load balancer on a spot notice or termination."""

from __future__ import annotations

import json

import pytest

from components.userdata import BootContext, render_user_data
from deploy.fleet_spec import capacity_spec, node_spec
from deploy.options import WeightsSource
from tests.components.nodesim.sim import docker_runs, new_node
from tests.stack_runs import EC2_STACKS, stack_options, stack_run, user_data


def one_node(tmp_path, stack: str):
    node = new_node(tmp_path)
    assert node.first_boot(user_data(stack_run(stack))).returncode == 0, node.log()
    return node


@pytest.mark.parametrize("stack", sorted(EC2_STACKS))
def test_first_boot_serves_and_completes_the_launch_hook(tmp_path, stack):
    node = one_node(tmp_path, stack)
    # --no-block: the ready unit is a oneshot that waits minutes for /health; cloud-init must not wait on it
    assert [
        "systemctl",
        "enable",
        "--now",
        "--no-block",
        "llmfleet.service",
        "llmfleet-ready.service",
        "llmfleet-watch.timer",
        "llmfleet-metrics.timer",
    ] in node.calls("systemctl")
    assert node.boot() == {"llmfleet.service": 0, "llmfleet-ready.service": 0}, node.log()
    (run,) = docker_runs(node)
    assert "--network" not in run and "-p" in run  # bridge networking: the container is one hop from IMDS
    block = ["iptables", "-I", "DOCKER-USER", "-d", "169.254.169.254/32", "-j", "DROP"]
    order = [c[:2] for c in node.calls()]
    assert block in node.calls("iptables") and order.index(["iptables", "-I"]) < order.index(["docker", "run"])
    env = (node.root / "run/llmfleet/env").read_text()
    assert "VLLM_API_KEY=s3cr3t-value" in env and "HF_TOKEN=s3cr3t-value" in env
    (done,) = [c for c in node.calls("aws") if c[2] == "complete-lifecycle-action"]
    assert done[done.index("--lifecycle-action-result") + 1] == "CONTINUE"
    assert "s3cr3t-value" not in node.log()
    assert not any("s3cr3t-value" in " ".join(c) for c in node.calls())  # no secret on any command line
    # vLLM's output goes to the fleet's CloudWatch log group, a stream per instance, without blocking vLLM
    opts = [run[i + 1] for i, arg in enumerate(run) if arg == "--log-opt"]
    assert run[run.index("--log-driver") + 1] == "awslogs"
    (group,) = stack_run(stack).of_type("LogGroup")
    assert {
        "awslogs-region=us-east-1",
        f"awslogs-group={group.inputs['name']}",
        f"awslogs-stream={node.instance_id}/vllm",
        "mode=non-blocking",
    } <= set(opts)


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
    node = new_node(tmp_path)
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
    node = new_node(tmp_path)
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


@pytest.mark.parametrize("stack", sorted(EC2_STACKS))
def test_a_crash_looping_server_is_handed_back_to_its_group(tmp_path, stack):
    """systemd restarts vLLM every RestartSec; past StartLimitBurst starts in StartLimitIntervalSec the unit fails and
    OnFailure= marks the instance Unhealthy, so its group replaces it; the server is started again either way (a failed
    unit would stay down)."""
    node = new_node(tmp_path)
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
    assert node.calls("systemctl")[-2:] == [
        ["systemctl", "reset-failed", "llmfleet.service"],
        ["systemctl", "start", "--no-block", "llmfleet.service"],
    ]
    grants = [
        st
        for st in json.loads(stack_run(stack).one("RolePolicy").inputs["policy"])["Statement"]
        if "autoscaling:SetInstanceHealth" in st["Action"]
    ]
    assert grants and all(st.get("Condition") for st in grants)  # only on its own fleet's groups


def test_a_node_is_not_given_up_before_it_ever_served(tmp_path):
    """Before the node ever served, its launch hook's deadline decides: the server is started again, not given up."""
    node = new_node(tmp_path)
    node.first_boot(user_data(stack_run("dev")))
    proc = node.start_unit("llmfleet-unhealthy.service")
    out, _ = proc.communicate(timeout=60)
    assert not [c for c in node.calls("aws") if c[2] == "set-instance-health"]
    assert "before it ever served" in out
    assert ["systemctl", "start", "--no-block", "llmfleet.service"] in node.calls("systemctl")


def s3_user_data() -> str:
    """The dev stack's user data with its weights in S3 instead of the Hugging Face hub."""
    run, cfg = stack_run("dev"), stack_options("dev")
    fleet = cfg.fleet.model_copy(
        update={"weights": WeightsSource(s3_uri="s3://example-llm-weights/meta-llama/Llama-3.1-8B")}
    )
    return render_user_data(
        node_spec(run.plan, fleet),
        capacity_spec(run.plan, fleet),
        fleet,
        BootContext(
            "dev",
            "llmfleet/dev/dev",
            run.plan.checkpoint.repo,
            "llmfleet/llm-fleet/dev/api-key",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t-tg/0123456789abcdef",
            "/llmfleet/t",
        ),
    )


@pytest.mark.parametrize("crt_fails", [False, True])
def test_s3_weights_sync_with_the_crt_client_then_classic(tmp_path, crt_fails):
    """The AWS CLI picks its CRT S3 client (which targets the instance's bandwidth) only on a few types; otherwise the
    classic client at 10 requests downloads far below the cold-start model's rate and the launch hook times out. The
    CRT client fails on a bucket in another region: the classic client, with more concurrency, retries."""
    node = new_node(tmp_path)
    if crt_fails:
        (node.state / "fail-crt").touch()
    node.first_boot(s3_user_data())
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


def target_calls(node) -> list[tuple[str, str]]:
    """(action, instance id) of each target-group call the node made."""
    return [(c[2], c[c.index("--targets") + 1].removeprefix("Id=")) for c in node.calls("aws") if c[1] == "elbv2"]


def watch(node) -> int:
    proc = node.start_unit("llmfleet-watch.service")
    proc.communicate(timeout=60)
    return proc.returncode


@pytest.mark.parametrize("signal", ["none", "rebalance", "spot notice", "terminating"])
def test_a_node_going_away_leaves_the_load_balancer_at_once(tmp_path, signal):
    """On the spot two-minute notice, or when its group terminates it, the node deregisters itself from the target
    group so that in-flight requests drain while it still runs and new ones go elsewhere; with neither it stays. A
    rebalance recommendation is only a risk: the group's capacity rebalancing replaces the node, then terminates it
    (the 'terminating' case); until then it serves."""
    node = one_node(tmp_path, "dev")
    node.boot()
    timer = (node.root / "etc/systemd/system/llmfleet-watch.timer").read_text()
    assert "OnUnitActiveSec=5\n" in timer and "AccuracySec=1\n" in timer  # AWS: poll the notice every 5 s
    if signal == "spot notice":
        (node.state / "spot-notice").write_text('{"action": "terminate", "time": "2026-11-27T16:00:00Z"}')
    if signal == "terminating":
        (node.state / "lifecycle-state").write_text("Terminated")
    if signal == "rebalance":
        (node.state / "rebalance").write_text('{"noticeTime": "2026-11-27T15:58:00Z"}')
    outs = [node.start_unit("llmfleet-watch.service").communicate(timeout=60)[0] for _ in range(2)]  # polled twice
    leaves = signal in ("spot notice", "terminating")
    assert target_calls(node) == ([("deregister-targets", node.instance_id)] if leaves else [])  # once
    assert ["rebalance recommendation" in out for out in outs] == [signal == "rebalance", False]
    tg = stack_run("dev").one("TargetGroup").inputs["name"]
    assert all(tg in c[c.index("--target-group-arn") + 1] for c in node.calls("aws") if c[1] == "elbv2")


def shipped(node, name: str) -> list[str]:
    """Messages of the node's CloudWatch Logs stream <instance id>/<name>."""
    path = node.state / "shipped" / f"{node.instance_id}_{name}"
    return [e["message"] for e in json.loads(path.read_text())] if path.exists() else []


@pytest.mark.parametrize("healthy", [True, False])
def test_the_boot_story_reaches_cloudwatch_before_the_hook_decides(tmp_path, healthy):
    """The boot log and the server's journal go to the fleet's log group when the launch hook is completed, and above
    all when it is abandoned (the group then terminates the node, its disks and journal with it); never a secret."""
    node = one_node(tmp_path, "dev")
    with open(node.log_path, "a") as log:
        log.write("weights synced in 412 s\n")
    if not healthy:
        script = node.root / "opt/llmfleet/ready.sh"
        script.write_text(script.read_text().replace("DEADLINE=$(( $(date +%s) + ", "DEADLINE=$(( $(date +%s) - "))
        (node.state / "health-fails").write_text("1000")
    node.boot()
    (done,) = [c for c in node.calls("aws") if c[2] == "complete-lifecycle-action"]
    assert done[-1] == ("CONTINUE" if healthy else "ABANDON")
    messages = shipped(node, "boot")
    assert "weights synced in 412 s" in messages and any("journal line of llmfleet.service" in m for m in messages)
    order = [c[2] for c in node.calls("aws") if c[1] in ("logs", "autoscaling")]
    assert order.index("put-log-events") < order.index("complete-lifecycle-action")
    assert not any("s3cr3t-value" in m for m in messages)
    (group,) = stack_run("dev").of_type("LogGroup")
    (put,) = [c for c in node.calls("aws") if c[2] == "put-log-events"]
    assert put[put.index("--log-group-name") + 1] == group.inputs["name"]


def test_a_crash_loop_ships_the_journal_before_the_node_is_given_up(tmp_path):
    node = one_node(tmp_path, "dev")
    (node.root / "opt/llmfleet/ready-done").touch()
    node.start_unit("llmfleet-unhealthy.service").communicate(timeout=60)
    streams = [p.name for p in (node.state / "shipped").iterdir()]
    assert len(streams) == 1 and streams[0].startswith(f"{node.instance_id}_crash-")
    calls = [c[2] for c in node.calls("aws")]
    assert calls.index("put-log-events") < calls.index("set-instance-health")


def lifecycle_calls(node) -> list[tuple[str, str, str | None]]:
    """(action, hook, result) of each lifecycle call the node made."""
    return [
        (
            c[2],
            c[c.index("--lifecycle-hook-name") + 1],
            c[c.index("--lifecycle-action-result") + 1] if "--lifecycle-action-result" in c else None,
        )
        for c in node.calls("aws")
        if c[1] == "autoscaling" and "--lifecycle-hook-name" in c
    ]


def test_a_terminated_node_drains_then_completes_its_terminating_hook(tmp_path):
    """Scale-in or refresh: the node leaves the target group, waits until vLLM reports no request running or waiting,
    then completes the terminating hook (CONTINUE) instead of holding the instance for the hook's whole timeout."""
    node = one_node(tmp_path, "dev")
    node.boot()
    (node.state / "lifecycle-state").write_text("Terminated")
    (node.state / "busy-polls").write_text("2")
    assert watch(node) == 0, node.log()
    assert target_calls(node) == [("deregister-targets", node.instance_id)]
    metrics = [c for c in node.calls("curl") if c[-1].endswith("/metrics")]
    assert len(metrics) == 3  # busy, busy, idle
    assert lifecycle_calls(node)[-1] == ("complete-lifecycle-action", "llmfleet-drain", "CONTINUE")


def test_a_spot_notice_leaves_without_holding_a_hook(tmp_path):
    node = one_node(tmp_path, "dev")
    node.boot()
    (node.state / "spot-notice").write_text('{"action": "terminate", "time": "2026-11-27T16:00:00Z"}')
    watch(node)
    assert ("complete-lifecycle-action", "llmfleet-drain", "CONTINUE") not in lifecycle_calls(node)


def _down_for(node, seconds: int) -> None:
    import time

    (node.root / "run/llmfleet").mkdir(parents=True, exist_ok=True)
    (node.root / "run/llmfleet/down-since").write_text(str(int(time.time()) - seconds))


@pytest.mark.parametrize("down_s,given_back", [(None, False), (60, False), (10**6, True)])
def test_a_served_node_whose_vllm_stays_down_hands_itself_back(tmp_path, down_s, given_back):
    """The group's health checks are EC2's: a vLLM restart (its /health down a minute) keeps the node, which comes back
    without a new cold start; a node that has served and whose /health stays down past the ready deadline marks
    itself Unhealthy, its journal shipped first, and the group launches a replacement before it terminates it."""
    node = one_node(tmp_path, "dev")
    node.boot()
    (node.state / "health-fails").write_text("1000")
    if down_s is not None:
        _down_for(node, down_s)
    assert watch(node) == 0, node.log()
    health = [c for c in node.calls("aws") if c[2] == "set-instance-health"]
    assert bool(health) is given_back
    assert (node.root / "run/llmfleet/down-since").exists() is not given_back  # the clock starts (or restarts)
    if given_back:
        streams = [p.name for p in (node.state / "shipped").iterdir()]
        assert any(name.startswith(f"{node.instance_id}_down-") for name in streams)


def test_a_node_that_never_served_is_left_to_its_launch_hook(tmp_path):
    node = one_node(tmp_path, "dev")
    (node.state / "health-fails").write_text("1000")
    _down_for(node, 10**6)
    watch(node)
    assert not [c for c in node.calls("aws") if c[2] == "set-instance-health"]


def published(node) -> list[dict]:
    """The datapoints the node put into CloudWatch."""
    path = node.state / "metrics.json"
    return [point for line in path.read_text().splitlines() for point in json.loads(line)] if path.exists() else []


def test_the_node_publishes_vllms_load_for_the_autoscaling(tmp_path):
    """Every minute the node reads vLLM's gauges and puts requests in flight, waiting and the KV-cache usage under the
    fleet's dimension, what the groups' target tracking and the alarms read; nothing while vLLM does not answer."""
    node = one_node(tmp_path, "dev")
    node.boot()
    (node.state / "busy-polls").write_text("1")
    assert node.start_unit("llmfleet-metrics.service").communicate(timeout=60) and published(node)
    points = {p["MetricName"]: p for p in published(node)}
    assert points["RequestsInFlight"]["Value"] == 1 and points["RequestsWaiting"]["Value"] == 0
    assert {d["Name"]: d["Value"] for d in points["KvCacheUsage"]["Dimensions"]} == {"Fleet": "llmfleet/dev/dev"}
    assert points["GpuUtilization"]["Value"] == 50  # the mean of the two GPUs
    assert points["GpuMemoryUsage"]["Value"] == pytest.approx(42000 / 46068, abs=1e-5)  # the fuller GPU
    (put,) = [c for c in node.calls("aws") if c[2] == "put-metric-data"]
    assert put[put.index("--namespace") + 1] == "LLMFleet"
    timer = (node.root / "etc/systemd/system/llmfleet-metrics.timer").read_text()
    assert "OnUnitActiveSec=60\n" in timer


def test_without_nvidia_smi_the_node_publishes_vllms_load_alone(tmp_path):
    node = one_node(tmp_path, "dev")
    node.boot()
    (node.state / "no-gpu").touch()
    node.start_unit("llmfleet-metrics.service").communicate(timeout=60)
    assert {p["MetricName"] for p in published(node)} == {"RequestsInFlight", "RequestsWaiting", "KvCacheUsage"}


def test_an_abandoned_launch_is_counted_for_the_alarm(tmp_path):
    node = one_node(tmp_path, "dev")
    script = node.root / "opt/llmfleet/ready.sh"
    script.write_text(script.read_text().replace("DEADLINE=$(( $(date +%s) + ", "DEADLINE=$(( $(date +%s) - "))
    (node.state / "health-fails").write_text("1000")
    node.boot()
    assert [p["MetricName"] for p in published(node)] == ["LaunchAbandoned"]
    assert lifecycle_calls(node)[-1] == ("complete-lifecycle-action", "llmfleet-ready", "ABANDON")


@pytest.mark.parametrize("pinned", [True, False])
def test_an_image_pinned_by_digest_and_present_is_not_pulled_again(tmp_path, pinned):
    """A digest cannot move: a node that has the image does not ask the registry again at each start (rate limits,
    a registry outage); a tag may move, so it is pulled."""
    digest = "vllm/vllm-openai@sha256:" + "a" * 64
    cfg = stack_options("dev")
    fleet = cfg.fleet.model_copy(update={"vllm_image": digest if pinned else cfg.fleet.vllm_image})
    run = stack_run("dev")
    script = render_user_data(
        node_spec(run.plan, fleet),
        capacity_spec(run.plan, fleet),
        fleet,
        BootContext(
            "dev",
            "llmfleet/dev/dev",
            run.plan.checkpoint.repo,
            "llmfleet/x/dev/api-key",
            "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t-tg/0123456789abcdef",
            "/llmfleet/t",
        ),
    )
    node = new_node(tmp_path)
    (node.state / "cached-image").touch()
    node.first_boot(script)
    assert node.boot()["llmfleet.service"] == 0, node.log()
    pulls = [c for c in node.calls("docker") if c[1] == "pull"]
    assert bool(pulls) is not pinned


HUB_REPO = "meta-llama/Llama-3.1-8B-Instruct"
"""The dev stack's checkpoint."""


def cache_bucket(stack: str = "dev") -> str:
    bucket = stack_run(stack).one("Bucket")
    return f"{bucket.inputs['bucketPrefix']}20261207000000000001"  # the mocks' name (preview/mock_run.py)


def served_model(node) -> str:
    (run,) = docker_runs(node)
    return run[run.index("serve") + 1]


def test_an_empty_weights_cache_is_filled_by_the_first_node_that_serves(tmp_path):
    """No complete copy in the fleet's bucket: vLLM downloads from the hub; once the node serves, it uploads the
    snapshot vLLM loaded, then the completion marker (never before the files)."""
    node = one_node(tmp_path, "dev")
    snapshot = node.root / f"opt/llmfleet/data/hf/hub/models--{HUB_REPO.replace('/', '--')}/snapshots/0123abcd"
    snapshot.mkdir(parents=True)
    assert node.boot() == {"llmfleet.service": 0, "llmfleet-ready.service": 0}, node.log()
    assert served_model(node) == HUB_REPO
    uploads = [c for c in node.calls("aws") if c[1:3] in (["s3", "sync"], ["s3", "cp"])]
    bucket = cache_bucket()
    assert [c[1:3] for c in uploads] == [["s3", "sync"], ["s3", "cp"]]  # the files, then the marker
    assert uploads[0][-2:] == [f"{snapshot}/", f"s3://{bucket}/{HUB_REPO}"]
    assert uploads[1][-2:] == ["-", f"s3://{bucket}/{HUB_REPO}/.complete"]
    assert (node.state / "uploaded").read_text().strip() == node.instance_id
    assert not (node.root / "opt/llmfleet/fill-weights-cache").exists()


def test_a_filled_weights_cache_serves_the_next_nodes_not_the_hub(tmp_path):
    node = new_node(tmp_path)
    (node.state / "weights-cached").touch()
    node.first_boot(user_data(stack_run("dev")))
    assert node.boot() == {"llmfleet.service": 0, "llmfleet-ready.service": 0}, node.log()
    assert served_model(node) == "/data/models/llama-3.1-8b"
    (sync,) = [c for c in node.calls("aws") if c[1:3] == ["s3", "sync"]]
    assert sync[-2:] == [f"s3://{cache_bucket()}/{HUB_REPO}", f"{node.root}/opt/llmfleet/data/models/llama-3.1-8b"]
    assert not [c for c in node.calls("aws") if c[1:3] == ["s3", "cp"]]  # nothing uploaded


def test_a_weights_cache_that_cannot_be_read_falls_back_to_the_hub(tmp_path):
    node = new_node(tmp_path)
    (node.state / "weights-cached").touch()
    (node.state / "fail-sync").touch()
    node.first_boot(user_data(stack_run("dev")))
    assert node.boot()["llmfleet.service"] == 0, node.log()
    assert served_model(node) == HUB_REPO
