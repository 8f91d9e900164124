"""Rendering the node bootstrap script (user data) from the templates in components/bootstrap/.

Every value is checked against a strict pattern and quoted (deploy/shell_values.py) before it is written into the
script; the script honours LLMFLEET_ROOT so that the node simulation tests can run it in a temporary root."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from components.compute import DRAIN_HOOK, LAUNCH_HOOK
from deploy.fleet_metrics import (
    DIMENSION,
    GPU_MEMORY_USAGE,
    GPU_UTILIZATION,
    IN_FLIGHT,
    KV_USAGE,
    LAUNCH_ABANDONED,
    NAMESPACE,
    PUBLISH_EVERY_S,
    WAITING,
)
from deploy.fleet_spec import CapacitySpec, NodeSpec
from deploy.inputs import plain
from deploy.options import FleetOptions
from deploy.shell_values import checked, shell

BOOTSTRAP = Path(__file__).parent / "bootstrap"
MODELS_IN_CONTAINER = "/data/models"
READY_POLL_S = 10
"""How often the ready script asks /health."""
DLAMI_NVME = "/opt/dlami/nvme"
"""Where the GPU Deep Learning AMIs mount the instance store (all NVMe disks as one volume) at boot."""
CRASH_STARTS = 6
"""vLLM starts that may fail within the crash window before the node is marked Unhealthy and replaced: with RESTART_S,
a failure has to last minutes (not a transient API or registry error) before the node is given up."""
RESTART_S = 30
"""systemd waits this long before starting vLLM again (RestartSec=)."""
DLAMI_MOUNT_WAIT_S = 180
"""How long a start waits for the AMI to mount the instance store it has claimed before failing (and retrying)."""
DEREGISTRATION_PROPAGATION_S = 30
"""Seconds a leaving node keeps serving after it deregistered, before it counts its requests: the load balancer may
still send some while the deregistration takes hold."""
WATCH_EVERY_S = 5
"""How often llmfleet-watch.timer polls instance metadata: AWS suggests every 5 s for the spot two-minute notice
(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html)."""
LOG_BUFFER = "8m"
"""Docker's awslogs driver in non-blocking mode buffers this much in memory while CloudWatch Logs is unreachable (then
drops lines) instead of blocking vLLM's writes (https://docs.docker.com/engine/logging/configure/#configure-the-delivery-mode-of-log-messages-from-container-to-log-driver);
in that mode the driver also creates its log stream in the background, retrying, so the container starts while
CloudWatch Logs is unreachable (moby daemon/logger/awslogs/cloudwatchlogs.go, New)."""


@dataclass(frozen=True)
class BootContext:
    """What the node script needs besides the node spec."""

    fleet: str
    """Fleet name."""
    fleet_id: str
    """<project>/<stack>/<name>: the dimension of the fleet's CloudWatch metrics."""
    hf_repo: str | None
    """The preset's Hugging Face repo, if any."""
    api_key_secret: str
    """ARN or name of the API-key secret."""
    target_group_arn: str
    """Target group of the serving nodes: a node that is going away deregisters itself."""
    log_group: str
    """CloudWatch Logs group the vLLM container's output goes to."""
    image: str | None = None
    """What the nodes pull (components/boot_sources.py: the ECR cache or mirror); None: the node spec's image."""
    registry: str = ""
    """The ECR registry host docker logs in to before the pull ('' for a public registry)."""
    weights_bucket: str | None = None
    """The fleet's weights cache bucket (Hugging Face weights), if it has one."""


def _template(name: str) -> str:
    return (BOOTSTRAP / name).read_text()


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    left = re.findall(r"\{\{(\w+)\}\}", text)
    if left:
        raise KeyError(f"bootstrap template placeholders without a value: {left}")
    return text


def _registry_login(registry: str) -> str:
    """Shell lines that log docker in to the ECR registry the image is pulled from (nothing for a public one)."""
    if not registry:
        return "  : # public registry: no login"
    return (
        f'  aws ecr get-login-password --region "$REGION" | docker login --username AWS --password-stdin '
        f"{shell('ECR registry', registry)} >/dev/null || return 1"
    )


def _fetch_token(options: FleetOptions) -> str:
    w = options.weights
    if w.hf_token_secret_arn:
        fetch = (
            f'aws secretsmanager get-secret-value --region "$REGION" --secret-id '
            f"{shell('secret ARN', plain(w.hf_token_secret_arn))} --query SecretString --output text"
        )
    elif w.hf_token_ssm_parameter:
        fetch = (
            f'aws ssm get-parameter --region "$REGION" --with-decryption --name '
            f"{shell('SSM parameter', plain(w.hf_token_ssm_parameter))} --query Parameter.Value --output text"
        )
    else:
        return "# no Hugging Face token configured (public model or S3 weights)"
    return f'hub_token=$({fetch})\nprintf \'HF_TOKEN=%s\\n\' "$hub_token" >>"$RUN_DIR/env"'


S3_CLASSIC_CONCURRENCY = 64
"""Concurrent requests of the classic AWS CLI S3 client when the CRT client cannot be used (its default is 10, too few
to fill a GPU instance's network: https://docs.aws.amazon.com/cli/latest/topic/s3-config.html)."""
S3_CLASSIC_CHUNK = "64MB"
"""Part size of the classic client's ranged downloads (default 8MB)."""


def _s3_fetch(served_name: str) -> str:
    """Shell lines defining `fetch_from_s3 URI`: sync the weights from S3 into the weights disk with the AWS CLI's CRT
    transfer client, which targets the instance's network bandwidth (the cold-start model's download rate); `auto` picks
    it only on p4d, p4de, p5.48xlarge and trn1, else the classic client at 10 requests. The CRT client refuses a bucket
    in another region (no region redirects): the classic client, with more concurrency, then retries
    (https://docs.aws.amazon.com/cli/latest/topic/s3-config.html)."""
    return "\n".join(
        [
            "printf '[default]\\ns3 =\\n  preferred_transfer_client = crt\\n' >\"$ROOT/opt/llmfleet/s3-crt.conf\"",
            "printf '[default]\\ns3 =\\n  preferred_transfer_client = classic\\n"
            f"  max_concurrent_requests = {S3_CLASSIC_CONCURRENCY}\\n  multipart_chunksize = {S3_CLASSIC_CHUNK}\\n' "
            '>"$ROOT/opt/llmfleet/s3-classic.conf"',
            "sync_weights() {",
            '  AWS_CONFIG_FILE="$ROOT/opt/llmfleet/s3-$1.conf" aws s3 sync --only-show-errors --region "$REGION" "$2" '
            f'"$DATA/models/{served_name}"',
            "}",
            "fetch_from_s3() {",
            '  sync_weights crt "$1" && return 0',
            '  echo "weights sync with the CRT S3 client failed (a bucket in another region?); retrying with the '
            'classic client"',
            '  sync_weights classic "$1"',
            "}",
        ]
    )


CACHE_COMPLETE = ".complete"
"""The object a node writes into the weights cache after the last file: a cache without it is not used."""
FILL_FLAG = "opt/llmfleet/fill-weights-cache"
"""Left on a node that downloaded the weights from the hub: once it serves, it uploads them into the cache."""


def _hub_cache_dir(repo: str) -> str:
    """Where the hub client keeps a model repository under $HF_HOME/hub: models--<org>--<name>, its files under
    snapshots/<revision>/ (https://huggingface.co/docs/huggingface_hub/guides/manage-cache)."""
    return "models--" + repo.replace("/", "--")


def _cached_hub_fetch(repo: str, bucket: str, served_name: str) -> str:
    """Shell lines for Hugging Face weights with the fleet's S3 cache: from the cache when a node has filled it (and
    its sync works), else from the hub, this node then filling the cache once it serves (ready.sh)."""
    uri = shell("S3 URI", f"s3://{bucket}/{repo}")
    key = shell("S3 key", f"{repo}/{CACHE_COMPLETE}")
    local = shell("path", f"{MODELS_IN_CONTAINER}/{served_name}")
    return "\n".join(
        [
            _s3_fetch(served_name),
            f'if aws s3api head-object --region "$REGION" --bucket {shell("S3 bucket", bucket)} --key {key} >/dev/null '
            "2>&1 &&",
            f"    fetch_from_s3 {uri}; then",
            f"  MODEL_REF={local}",
            f'  rm -f "$ROOT/{FILL_FLAG}"',
            "else",
            '  echo "the weights cache has no complete copy: vLLM downloads from the hub; this node fills the cache '
            'once it serves"',
            f'  touch "$ROOT/{FILL_FLAG}"',
            "fi",
        ]
    )


def _fill_cache(repo: str | None, bucket: str | None) -> str:
    """ready.sh's lines that upload the hub download into the weights cache, the completion marker last, once the node
    serves (what vLLM loaded is whole). Never fails the unit: the next node then downloads from the hub again."""
    if not (repo and bucket):
        return "# no weights cache"
    snapshots = f'"$DATA/hf/hub/{checked("Hugging Face repo", _hub_cache_dir(repo))}/snapshots/"'
    uri = shell("S3 URI", f"s3://{bucket}/{repo}")
    marker = shell("S3 URI", f"s3://{bucket}/{repo}/{CACHE_COMPLETE}")
    return "\n".join(
        [
            f'if [ -e "$ROOT/{FILL_FLAG}" ]; then',
            '  snapshot=""  # the newest revision vLLM downloaded',
            f"  for dir in {snapshots}*/; do",
            '    if [ -d "$dir" ] && { [ -z "$snapshot" ] || [ "$dir" -nt "$snapshot" ]; }; then snapshot=$dir; fi',
            "  done",
            f'  if [ -n "$snapshot" ] && aws s3 sync --only-show-errors --region "$REGION" "$snapshot" {uri} &&',
            f'      printf \'%s\\n\' "$INSTANCE_ID" | aws s3 cp --only-show-errors --region "$REGION" - {marker}; then',
            f'    echo "weights cache filled from the hub download"; rm -f "$ROOT/{FILL_FLAG}"',
            "  else",
            '    echo "could not fill the weights cache; the next node downloads from the hub"',
            "  fi",
            "fi",
        ]
    )


def _weights(
    options: FleetOptions, hf_repo: str | None, served_name: str, bucket: str | None
) -> tuple[str, str | None]:
    """(shell lines that fetch the weights and set MODEL_REF, the model reference vLLM is given; the Hugging Face repo
    the weights cache holds, if any)."""
    w = options.weights
    if w.s3_uri:
        local = shell("path", f"{MODELS_IN_CONTAINER}/{checked('served model name', served_name)}")
        return f"{_s3_fetch(served_name)}\nfetch_from_s3 {shell('S3 URI', w.s3_uri)}\nMODEL_REF={local}", None
    repo = w.hf_model_id or hf_repo
    if not repo:
        raise ValueError(
            "no weights source: set llmfleet:fleet.weights.hf_model_id or .s3_uri for a model without a preset"
        )
    hub = f"MODEL_REF={shell('Hugging Face repo', repo)}"
    if not bucket:
        return (
            f"# weights download from the Hugging Face hub on first start (cached under the weights disk)\n{hub}",
            None,
        )
    return f"{hub}\n{_cached_hub_fetch(repo, bucket, served_name)}", repo


def _weights_disk(spec: NodeSpec) -> str:
    make = 'install -d -m 755 "$DATA/hf" "$DATA/models" "$DATA/home"'
    if spec.weights_disk.kind != "instance-store":
        return f"# weights on the encrypted gp3 root volume (throughput provisioned from the download)\n{make}"
    dlami = f'"$ROOT{DLAMI_NVME}"'
    return "\n".join(
        [
            "# weights on local NVMe instance store (faster than EBS). The GPU Deep Learning AMIs mount every "
            "instance-store",
            f"# disk as one volume at {DLAMI_NVME} at boot: use it (bind-mounted) when it is there or once it appears. "
            "Else",
            "# the first disk, formatted on first use and mounted again after a reboot. A disk that holds something "
            "else (a",
            "# RAID or LVM member of the AMI's volume) is never formatted or mounted here.",
            'if ! mountpoint -q "$DATA"; then',
            '  install -d "$DATA"',
            "  disk=",
            f"  if ! mountpoint -q {dlami}; then",
            '    disks=("$ROOT"/dev/disk/by-id/nvme-Amazon_EC2_NVMe_Instance_Storage_*)',
            '    if [ ! -e "${disks[0]}" ]; then echo "no instance-store NVMe disk found"; exit 1; fi',
            '    fs=$(blkid -o value -s TYPE "${disks[0]}" || true)',
            "    case $fs in",
            '      "") mkfs.xfs -q "${disks[0]}"; disk=${disks[0]} ;;',
            "      xfs) disk=${disks[0]} ;;",
            f"      *) for ((waited = 0; waited < {DLAMI_MOUNT_WAIT_S}; waited += 5)); do",
            f"           if mountpoint -q {dlami}; then break; fi",
            "           sleep 5",
            "         done",
            f"         if ! mountpoint -q {dlami}; then",
            f'           echo "instance-store disk ${{disks[0]}} holds $fs, not mounted at {DLAMI_NVME} after '
            f'{DLAMI_MOUNT_WAIT_S} s"',
            "           exit 1",
            "         fi ;;",
            "    esac",
            "  fi",
            '  if [ -n "$disk" ]; then',
            '    mount "$disk" "$DATA"',
            "  else",
            f'    install -d -m 755 "$ROOT{DLAMI_NVME}/llmfleet"',
            f'    mount --bind "$ROOT{DLAMI_NVME}/llmfleet" "$DATA"',
            "  fi",
            "fi",
            make,
        ]
    )


SHIP_LINES = 1000
"""Lines of the boot log and journal shipped at a readiness outcome or a crash loop (the end of the story)."""
SHIP_LINE_CHARS = 512
"""Characters kept of each shipped line: 1,000 events of at most 512 + 26 bytes stay under PutLogEvents' 1,048,576
bytes (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html)."""


def _log_options(log_group: str) -> str:
    """The docker run options that send vLLM's output to CloudWatch Logs, one stream per instance (docker's awslogs
    driver, which needs only logs:CreateLogStream and logs:PutLogEvents:
    https://docs.docker.com/engine/logging/drivers/awslogs/). Secrets are in --env-file, never on the command line."""
    group = shell("log group", log_group)
    return (
        f'LOGS=(--log-driver awslogs --log-opt "awslogs-region=$REGION" --log-opt awslogs-group={group}\n'
        '  --log-opt "awslogs-stream=$INSTANCE_ID/vllm" --log-opt mode=non-blocking --log-opt '
        f"max-buffer-size={LOG_BUFFER})"
    )


def render_user_data(spec: NodeSpec, capacity: CapacitySpec, options: FleetOptions, boot: BootContext) -> str:
    """The bootstrap script for every node of the fleet."""
    fetch, cached_repo = _weights(options, boot.hf_repo, spec.served_model_name, boot.weights_bucket)
    secret_kind = "secret ARN" if boot.api_key_secret.startswith("arn:") else "secret name"
    port = shell("number", str(options.api_port))
    run = _fill(
        _template("run_single.sh"),
        {"vllm_args": " ".join(shell("vLLM argument", a) for a in spec.vllm_args), "port": port},
    )
    return _fill(
        _template("node.sh"),
        {
            "fleet": checked("fleet name", boot.fleet),
            "served_model_name": checked("served model name", spec.served_model_name),
            "image": shell("image", boot.image or spec.image),
            "registry_login": _registry_login(boot.registry),
            "weights_disk": _weights_disk(spec),
            "fill_cache": _fill_cache(cached_repo, boot.weights_bucket),
            "fetch_token": _fetch_token(options),
            "api_key_secret": shell(secret_kind, boot.api_key_secret),
            "fetch_weights": fetch,
            "run": run.rstrip("\n"),
            "hook": shell("lifecycle hook", LAUNCH_HOOK),
            "ready_timeout_s": str(capacity.ready_timeout_s),
            "heartbeat_every_s": str(max(READY_POLL_S, capacity.hook_heartbeat_s // 2)),
            "poll_s": str(READY_POLL_S),
            "port": port,
            "crash_starts": str(CRASH_STARTS),
            "crash_window_s": str(crash_window_s(capacity)),
            "restart_s": str(RESTART_S),
            "watch_every_s": str(WATCH_EVERY_S),
            "target_group_arn": shell("target group ARN", boot.target_group_arn),
            "drain_hook": shell("lifecycle hook", DRAIN_HOOK),
            "drain_s": str(capacity.drain_s),
            "propagation_s": str(DEREGISTRATION_PROPAGATION_S),
            "metrics_every_s": str(PUBLISH_EVERY_S),
            "metric_namespace": NAMESPACE,
            "dimension": DIMENSION,
            "fleet_id": checked("fleet id", boot.fleet_id),
            "in_flight": IN_FLIGHT,
            "waiting": WAITING,
            "kv_usage": KV_USAGE,
            "abandoned": LAUNCH_ABANDONED,
            "gpu_utilization": GPU_UTILIZATION,
            "gpu_memory": GPU_MEMORY_USAGE,
            "log_options": _log_options(boot.log_group),
            "log_group": shell("log group", boot.log_group),
            "ship_lines": str(SHIP_LINES),
            "ship_line_chars": str(SHIP_LINE_CHARS),
        },
    )


def crash_window_s(capacity: CapacitySpec) -> int:
    """systemd's start-limit window: CRASH_STARTS failed starts within it mark the node Unhealthy. Twice the ready
    deadline, so that a server that loads for minutes before failing still reaches the limit, and never shorter than
    the restarts themselves take (else the limit could never be hit)."""
    return max(2 * capacity.ready_timeout_s, (CRASH_STARTS + 1) * RESTART_S)
