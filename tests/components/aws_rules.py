"""Constraints AWS enforces (or documents) on what the program emits, checked on a mocked run. Mocks accept anything;
these rules see what the EC2, Auto Scaling and ELB APIs would refuse, or what would break on the node. Each rule
cites the AWS document it comes from and returns the violations it finds (empty: the run passes)."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from components.user_data_codec import decode_user_data
from deploy.fleet_spec import LIFECYCLE_HEARTBEAT_MAX_S, longest_request_s
from preview.mock_run import MOCK_ACCOUNT, MockedResource, MockRun
from sizing.planner.cold_start import GP3_MAX_MIBPS, GP3_MIBPS_PER_IOPS, plan_cold_start

AUTONAME_SUFFIX = 8
"""Pulumi appends '-' and 7 random characters to a logical name when no name is given."""
NAME_MAX = 32
GP3_MAX_IOPS_PER_GIB = 500


@dataclass(frozen=True)
class Rule:
    """One AWS constraint."""

    name: str
    """What is checked."""
    source: str
    """The AWS document that states it."""
    check: Callable[[MockRun], list[str]]
    """Violations in a run."""


def _zone_of(run: MockRun, subnet_id: str) -> str | None:
    created = {f"{r.name}-id": r.inputs.get("availabilityZone") for r in run.of_type("Subnet")}
    return created.get(subnet_id) or run.subnet_zones.get(subnet_id)


def _zones(run: MockRun, subnet_ids: list[str]) -> set[str | None]:
    return {_zone_of(run, s) for s in subnet_ids}


def _name(r: MockedResource) -> str:
    return r.inputs.get("name") or f"{r.name}-{'x' * (AUTONAME_SUFFIX - 1)}"


def lb_names_fit(run: MockRun) -> list[str]:
    return [
        f"{r.name}: name {_name(r)!r} is {len(_name(r))} characters (max {NAME_MAX})"
        for r in run.of_type("LoadBalancer") + run.of_type("TargetGroup")
        if len(_name(r)) > NAME_MAX or not re.fullmatch(r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?", _name(r))
    ]


def _hook(group: MockedResource, transition: str) -> dict | None:
    return next(
        (h for h in group.inputs.get("initialLifecycleHooks") or [] if h["lifecycleTransition"] == transition), None
    )


def ready_waits_for_cold_start(run: MockRun) -> list[str]:
    """Nodes are not judged before they can have started: a launch hook the node completes on /health, whose wait
    (the node's deadline) covers the predicted cold start; a hook heartbeat timeout is at most 7200 s."""
    assert run.plan
    cold = plan_cold_start(run.plan).total_s
    script = decode_user_data(run.one("LaunchTemplate").inputs["userData"])
    deadline = re.search(r"DEADLINE=\$\(\( \$\(date \+%s\) \+ (\d+) \)\)", script)
    problems = []
    for g in run.of_type("Group"):
        hook = _hook(g, "autoscaling:EC2_INSTANCE_LAUNCHING")
        if not hook:
            if g.inputs.get("healthCheckGracePeriod", 0) < cold:
                problems.append(f"{g.name}: grace {g.inputs.get('healthCheckGracePeriod')} s < cold start {cold:.0f} s")
            continue
        if not 30 <= hook["heartbeatTimeout"] <= LIFECYCLE_HEARTBEAT_MAX_S:
            problems.append(f"{g.name}: launch hook heartbeat {hook['heartbeatTimeout']} s outside 30..7200")
        if not deadline or int(deadline.group(1)) < cold:
            problems.append(f"{g.name}: the node's ready deadline is below the cold start {cold:.0f} s")
    return problems


def warmup_after_ready(run: MockRun) -> list[str]:
    """Instance warmup starts at InService, which the launch hook holds until /health answers: a group's default
    warmup (0-3600 s) and a scaling policy's estimated warmup are the short grace, not the cold start again."""
    problems = []
    for g in run.of_type("Group"):
        warmup, grace = g.inputs.get("defaultInstanceWarmup"), g.inputs.get("healthCheckGracePeriod", 300)
        if _hook(g, "autoscaling:EC2_INSTANCE_LAUNCHING") and (warmup is None or not 0 <= warmup <= min(grace, 3600)):
            problems.append(f"{g.name}: default instance warmup {warmup} s (grace {grace} s)")
    for p in run.of_type("Policy"):
        grace = min(g.inputs.get("healthCheckGracePeriod", 300) for g in run.of_type("Group"))
        if p.inputs.get("estimatedInstanceWarmup", 0) > grace:
            problems.append(f"{p.name}: estimated warmup {p.inputs['estimatedInstanceWarmup']} s after a ready node")
    return problems


def drains_longest_request(run: MockRun) -> list[str]:
    """Scale-in drains: deregistration delay (max 3600 s) covers the longest request, the terminating hook covers the
    deregistration delay."""
    assert run.plan
    problems = []
    delay = run.one("TargetGroup").inputs.get("deregistrationDelay", 300)
    if not longest_request_s(run.plan) <= delay <= 3600:
        problems.append(f"deregistration delay {delay} s vs longest request {longest_request_s(run.plan):.0f} s")
    for g in run.of_type("Group"):
        hook = _hook(g, "autoscaling:EC2_INSTANCE_TERMINATING")
        if not hook or hook["heartbeatTimeout"] < delay:
            problems.append(f"{g.name}: no terminating hook as long as the deregistration delay")
    return problems


def idle_timeout_covers_longest_request(run: MockRun) -> list[str]:
    """A non-streaming request sends nothing until it ends: the ALB's idle timeout (1-4000 s) must outlast the longest
    request, or the client gets a 504 for a generation the fleet completes."""
    assert run.plan
    idle = run.one("LoadBalancer").inputs.get("idleTimeout", 60)
    longest = longest_request_s(run.plan)
    return [] if longest <= idle <= 4000 else [f"ALB idle timeout {idle} s vs longest request {longest:.0f} s"]


def alb_two_zones(run: MockRun) -> list[str]:
    lb = run.one("LoadBalancer").inputs
    zones = _zones(run, lb["subnets"])
    return (
        [] if len(zones) >= 2 and None not in zones else [f"load balancer subnets in zones {sorted(map(str, zones))}"]
    )


def gp3_limits(run: MockRun) -> list[str]:
    ebs = run.one("LaunchTemplate").inputs["blockDeviceMappings"][0]["ebs"]
    mibps, iops = ebs.get("throughput"), ebs.get("iops")
    if mibps is None:
        return []
    problems = []
    if mibps > GP3_MAX_MIBPS or iops is None or mibps > iops * GP3_MIBPS_PER_IOPS:
        problems.append(f"gp3 throughput {mibps} MiB/s with {iops} IOPS")
    if iops and iops > ebs["volumeSize"] * GP3_MAX_IOPS_PER_GIB:
        problems.append(f"gp3 {iops} IOPS on {ebs['volumeSize']} GiB")
    return problems


def refresh_keeps_serving(run: MockRun) -> list[str]:
    """Instance refresh preferences AWS accepts (MaxHealthyPercentage 100..200, at most 100 above the minimum), and a
    group that launches replacements before terminating (max healthy above 100, min healthy 100 for the examples):
    AWS replaces at least one instance at a time, so a one-node group at max 100 loses its only node."""
    problems = []
    for g in run.of_type("Group"):
        prefs = (g.inputs.get("instanceRefresh") or {}).get("preferences") or {}
        low, high = prefs.get("minHealthyPercentage", 90), prefs.get("maxHealthyPercentage", 100)
        if not (0 <= low <= 100 <= high <= 200 and high - low <= 100):
            problems.append(f"{g.name}: min/max healthy {low}/{high} outside what AWS accepts")
        if not (low == 100 and high > 100):
            problems.append(f"{g.name}: refresh at min/max healthy {low}/{high} takes serving nodes down first")
    return problems


def _statements(run: MockRun) -> list[dict]:
    return [st for p in run.of_type("RolePolicy") for st in json.loads(p.inputs["policy"])["Statement"]]


def secrets_granted_exactly(run: MockRun) -> list[str]:
    """Least privilege: a Secrets Manager grant names the secret's ARN, never a pattern with a wildcard region, account
    or suffix, when the ARN is known (it is for the secret the stack creates and for any the config names)."""
    return [
        f"{st['Sid']}: {arn}"
        for st in _statements(run)
        if any(a.startswith("secretsmanager:") for a in st["Action"])
        for arn in st["Resource"]
        if "*" in arn
    ]


def secret_names_reusable(run: MockRun) -> list[str]:
    """A secret the stack creates has no fixed name: a deleted secret's name stays taken for its 7-30 day recovery
    window, so a fixed name fails the next `pulumi up` after `pulumi destroy` (and any replacement)."""
    return [f"{r.name}: fixed name {r.inputs['name']!r}" for r in run.of_type("Secret") if r.inputs.get("name")]


def only_serving_nodes_are_targets(run: MockRun) -> list[str]:
    """An Auto Scaling group attached to a target group registers every instance it launches, and every node of the
    fleet serves: its group is attached, and no node registers itself besides."""
    problems = [
        f"{g.name}: not attached to a target group" for g in run.of_type("Group") if not g.inputs.get("targetGroupArns")
    ]
    script = decode_user_data(run.one("LaunchTemplate").inputs["userData"])
    if re.search(r"\bregister-targets", script):
        problems.append("the nodes register themselves besides their group")
    return problems


def _granted(run: MockRun, prefix: str) -> list[dict]:
    return [st for st in _statements(run) if any(a.startswith(prefix) for a in st["Action"])]


def node_writes_only_its_own(run: MockRun) -> list[str]:
    """Least privilege for the calls the node makes on the fleet's own target group (DeregisterTargets takes the
    target group as its resource) and log group (CreateLogStream on the group, PutLogEvents on its streams): the grants
    name them, never '*'."""
    tg = (
        rf"arn:aws:elasticloadbalancing:[a-z0-9-]+:{MOCK_ACCOUNT}:targetgroup/"
        rf"{run.one('TargetGroup').inputs['name']}/[0-9a-f]{{16}}"
    )
    logs = rf"arn:aws:mock:[a-z0-9-]+:{MOCK_ACCOUNT}:{run.one('LogGroup').name}(:log-stream:\*)?"
    problems = [
        f"{st['Sid']}: {r}"
        for st in _granted(run, "elasticloadbalancing:")
        for r in st["Resource"]
        if not re.fullmatch(tg, r)
    ]
    problems += [
        f"{st['Sid']}: {r}" for st in _granted(run, "logs:") for r in st["Resource"] if not re.fullmatch(logs, r)
    ]
    wanted = {"elasticloadbalancing:DeregisterTargets", "logs:CreateLogStream", "logs:PutLogEvents"}
    have = {a for st in _granted(run, "elasticloadbalancing:") + _granted(run, "logs:") for a in st["Action"]}
    return problems + ([f"node actions {sorted(have)} != {sorted(wanted)}"] if have != wanted else [])


SPOT_POLL_MAX_S = 5
"""AWS suggests checking for the two-minute interruption notice every 5 seconds."""


def leaves_on_interruption_notice(run: MockRun) -> list[str]:
    """A node polls the spot interruption notice (IMDS spot/instance-action) every 5 s and, on it, deregisters itself,
    so that the load balancer drains it within the two minutes instead of routing to it."""
    script = decode_user_data(run.one("LaunchTemplate").inputs["userData"])
    every = re.search(r"^OnUnitActiveSec=(\d+)$", script, re.M)
    problems = [] if every and int(every.group(1)) <= SPOT_POLL_MAX_S else ["no poll of the notice every 5 s"]
    watch = re.search(r"<<'WATCH'\n(.*?)\nWATCH\n", script, re.S)
    body = watch.group(1) if watch else ""
    if not re.search(r"spot/instance-action.*?aws elbv2 deregister-targets", body, re.S):
        problems.append("the interruption notice does not take the node out of the target group")
    return problems


LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)
"""Values PutRetentionPolicy accepts for retentionInDays."""


def logs_retained_for_a_while(run: MockRun) -> list[str]:
    """The fleet has its log group, kept for a retention period CloudWatch Logs accepts (never forever by default)."""
    groups = run.of_type("LogGroup")
    return [
        f"{g.name}: retention {g.inputs.get('retentionInDays')}"
        for g in groups
        if g.inputs.get("retentionInDays") not in LOG_RETENTION_DAYS
    ] + ([] if groups else ["no log group"])


def private_nodes_reach_their_apis(run: MockRun) -> list[str]:
    """Nodes in a created VPC's private subnets reach every AWS API they call through an interface endpoint (the
    target group calls and CloudWatch Logs included)."""
    if not run.of_type("Vpc"):
        return []
    have = {str(e.inputs.get("serviceName", "")).rsplit(".", 1)[-1] for e in run.of_type("VpcEndpoint")}
    return [f"no {service} endpoint" for service in ("elasticloadbalancing", "logs") if service not in have]


USER_DATA_MAX_BYTES = 16384
"""EC2 user data is limited to 16 KB in raw form, before base64 encoding (EC2 User Guide, "Run commands when you launch
an EC2 instance with user data input")."""
GZIP_MAGIC = b"\x1f\x8b"


def user_data_fits(run: MockRun) -> list[str]:
    """The launch template's user data, decoded, is at most 16,384 bytes (gzip-compressed user data counts as sent)."""
    raw = base64.b64decode(run.one("LaunchTemplate").inputs["userData"])
    return (
        []
        if len(raw) <= USER_DATA_MAX_BYTES
        else [
            f"user data is {len(raw):,} bytes{' (gzip)' if raw.startswith(GZIP_MAGIC) else ''}, over "
            f"{USER_DATA_MAX_BYTES:,}"
        ]
    )


def _spot_group(group: MockedResource) -> bool:
    dist = (group.inputs.get("mixedInstancesPolicy") or {}).get("instancesDistribution") or {}
    return dist.get("onDemandPercentageAboveBaseCapacity", 100) < 100 and group.inputs.get("maxSize", 0) > dist.get(
        "onDemandBaseCapacity", 0
    )


def spot_never_blocks_the_deployment(run: MockRun) -> list[str]:
    """An Auto Scaling group never falls back from spot to on demand by itself: a group that buys spot waits, at most,
    for its on-demand base (else `pulumi up` fails when spot capacity is short), and an on-demand group stands beside
    it for the capacity the plan prices as running on demand when spot is unfilled."""
    problems = []
    groups = run.of_type("Group")
    for g in groups:
        if not _spot_group(g):
            continue
        base = g.inputs["mixedInstancesPolicy"]["instancesDistribution"].get("onDemandBaseCapacity", 0)
        waits = g.inputs.get("waitForCapacityTimeout", "10m") != "0"
        if waits and g.inputs.get("waitForElbCapacity", g.inputs.get("desiredCapacity", 0)) > base:
            problems.append(f"{g.name}: waits for spot capacity")
        fallback = [
            f
            for f in groups
            if f is not g
            and not _spot_group(f)
            and f.inputs.get("minSize") == 0
            and f.inputs.get("maxSize", 0) >= g.inputs["maxSize"] - base
        ]
        if not fallback:
            problems.append(f"{g.name}: no on-demand fallback for its spot capacity")
    return problems


def rebalancing_only_where_a_node_can_be_added(run: MockRun) -> list[str]:
    """Capacity rebalancing launches a replacement before it terminates the node at risk: never on a fixed-size group
    (min = max), and only on a group that buys spot."""
    return [
        f"{g.name}: capacity rebalancing on "
        f"{'a fixed-size' if g.inputs['minSize'] == g.inputs['maxSize'] else 'an on-demand'} group"
        for g in run.of_type("Group")
        if g.inputs.get("capacityRebalance") and (g.inputs["minSize"] == g.inputs["maxSize"] or not _spot_group(g))
    ]


def replacement_before_termination(run: MockRun) -> list[str]:
    """An instance maintenance policy of min 100 / max above 100 makes the group launch a replacement (of an unhealthy
    node too) and wait for it before it terminates the node; health checks are EC2's, so a vLLM restart takes the node
    out of the load balancer without the group replacing it (the node hands itself back if vLLM stays down)."""
    problems = []
    for g in run.of_type("Group"):
        policy = g.inputs.get("instanceMaintenancePolicy") or {}
        if not (policy.get("minHealthyPercentage") == 100 and policy.get("maxHealthyPercentage", 0) > 100):
            problems.append(f"{g.name}: instance maintenance policy {policy}")
        if g.inputs.get("healthCheckType", "EC2") == "ELB":
            problems.append(f"{g.name}: ELB health checks replace a node whose vLLM restarts")
    return problems


def listener_routes_the_api_only(run: MockRun) -> list[str]:
    """vLLM's API key covers /v1 only: the listener answers anything else itself (fixed response) and forwards /v1/*."""
    problems = []
    for listener in run.of_type("Listener"):
        if any(a.get("type") != "fixed-response" for a in listener.inputs.get("defaultActions") or []):
            problems.append(f"{listener.name}: the default action reaches the targets")
    for rule in run.of_type("ListenerRule"):
        paths = [v for c in rule.inputs.get("conditions") or [] for v in (c.get("pathPattern") or {}).get("values", [])]
        forwards = any(a.get("type") == "forward" for a in rule.inputs.get("actions") or [])
        if forwards and (not paths or any(not p.startswith("/v1/") for p in paths)):
            problems.append(f"{rule.name}: forwards {paths or 'every path'}")
    return problems


def public_only_over_tls(run: MockRun) -> list[str]:
    """An internet-facing load balancer listens on HTTPS only, with a certificate: the bearer key would otherwise cross
    the internet in clear text."""
    if run.one("LoadBalancer").inputs.get("internal", True):
        return []
    return [
        f"{lst.name}: {lst.inputs.get('protocol')} on a public load balancer"
        for lst in run.of_type("Listener")
        if lst.inputs.get("protocol") != "HTTPS" or not lst.inputs.get("certificateArn")
    ]


def autoscaling_tracks_vllm_load(run: MockRun) -> list[str]:
    """Every group's target tracking holds vLLM's requests in flight per node (the nodes' own gauges, published to
    CloudWatch) at the plan's per-node capacity, not ALB request counts: a request of 8,000 tokens is not one of 80."""
    assert run.plan
    from deploy.fleet_spec import in_flight_target

    problems = []
    policies = run.of_type("Policy")
    for p in policies:
        spec = p.inputs.get("targetTrackingConfiguration") or {}
        metric = spec.get("customizedMetricSpecification") or {}
        if (metric.get("namespace"), metric.get("metricName")) != ("LLMFleet", "RequestsInFlight"):
            problems.append(f"{p.name}: tracks {metric or spec.get('predefinedMetricSpecification')}")
        elif spec.get("targetValue") != in_flight_target(run.plan):
            problems.append(f"{p.name}: target {spec.get('targetValue')} != {in_flight_target(run.plan)}")
    if len(policies) != len(run.of_type("Group")):
        problems.append(f"{len(policies)} policies for {len(run.of_type('Group'))} groups")
    return problems


WATCHED = {
    ("AWS/ApplicationELB", "UnHealthyHostCount"),
    ("AWS/ApplicationELB", "TargetResponseTime"),
    ("LLMFleet", "RequestsWaiting"),
    ("LLMFleet", "LaunchAbandoned"),
}
"""What an on-call wants paged on besides 5xx: failing targets, slow requests, a queue, a node given up."""


def the_fleet_is_watched(run: MockRun) -> list[str]:
    """Alarms on unhealthy targets, 5xx (a metric-math share of requests), slow responses, a queue that does not drain
    and abandoned launches, notifying the stack's SNS topic when it has one; a dashboard."""
    alarms = run.of_type("MetricAlarm")
    have = {(a.inputs.get("namespace"), a.inputs.get("metricName")) for a in alarms}
    problems = [f"no alarm on {ns} {m}" for ns, m in sorted(WATCHED - have)]
    if not any("5XX" in json.dumps(a.inputs.get("metricQueries") or []) for a in alarms):
        problems.append("no alarm on 5xx responses")
    return problems + ([] if run.of_type("Dashboard") else ["no dashboard"])


def node_publishes_its_load(run: MockRun) -> list[str]:
    """The node may put metrics in the fleet's namespace only (cloudwatch:PutMetricData takes no resource: the
    cloudwatch:namespace condition key scopes it), and private nodes reach CloudWatch's API through its endpoint."""
    grants = _granted(run, "cloudwatch:")
    problems = [
        f"{st['Sid']}: {st.get('Condition')}"
        for st in grants
        if (st.get("Condition") or {}).get("StringEquals", {}).get("cloudwatch:namespace") != "LLMFleet"
    ]
    if not grants:
        problems.append("the node may not publish its load")
    if run.of_type("Vpc") and not any(
        str(e.inputs.get("serviceName", "")).endswith(".monitoring") for e in run.of_type("VpcEndpoint")
    ):
        problems.append("no monitoring endpoint for private nodes")
    return problems


ECR_PREFIX = re.compile(r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*")
"""CreatePullThroughCacheRule's ecrRepositoryPrefix pattern; 2 to 30 characters."""
ECR_CREDENTIAL = re.compile(
    r"arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr-pullthroughcache/[a-zA-Z0-9/_+=.@-]+"
)
"""CreatePullThroughCacheRule's credentialArn pattern."""
ECR_UPSTREAMS = {"public.ecr.aws", "registry-1.docker.io", "quay.io", "registry.k8s.io", "ghcr.io"}
"""upstreamRegistryUrl values for the public registries (same page)."""
CACHE_FILL = {"ecr:BatchImportUpstreamImage", "ecr:CreateRepository", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"}
"""What a pull through a cache rule needs besides the registry login: import the image, create its repository, pull."""


def cache_rules_ecr_accepts(run: MockRun) -> list[str]:
    """A pull-through cache rule's prefix is 2-30 characters of ECR's pattern, its upstream a registry ECR fronts, and
    its credential (Docker Hub and GHCR need one) a secret named ecr-pullthroughcache/..."""
    problems = []
    for r in run.of_type("PullThroughCacheRule"):
        prefix, url, cred = (
            r.inputs.get(k) or "" for k in ("ecrRepositoryPrefix", "upstreamRegistryUrl", "credentialArn")
        )
        if not (2 <= len(prefix) <= 30 and ECR_PREFIX.fullmatch(prefix)):
            problems.append(f"{r.name}: prefix {prefix!r}")
        if url not in ECR_UPSTREAMS:
            problems.append(f"{r.name}: upstream {url!r}")
        if url in ("registry-1.docker.io", "ghcr.io") and not ECR_CREDENTIAL.fullmatch(cred):
            problems.append(f"{r.name}: {url} needs an ecr-pullthroughcache/ credential, has {cred!r}")
    return problems


def nodes_pull_through_the_cache(run: MockRun) -> list[str]:
    """With a cache rule, the nodes pull `<account>.dkr.ecr.<region>.amazonaws.com/<prefix>/<repository>` after a
    registry login, and may import the image and create its repository under the prefix (only there): the first pull
    through the cache does both."""
    problems = []
    for r in run.of_type("PullThroughCacheRule"):
        prefix = r.inputs["ecrRepositoryPrefix"]
        script = decode_user_data(run.one("LaunchTemplate").inputs["userData"])
        if not re.search(rf"^IMAGE={MOCK_ACCOUNT}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/{prefix}/", script, re.M):
            problems.append(f"the nodes do not pull through {prefix}/")
        if "ecr get-login-password" not in script:
            problems.append("no registry login before the pull")
        grants = _granted(run, "ecr:")
        scoped = {
            a
            for st in grants
            if st["Resource"] == [f"arn:aws:ecr:us-east-1:{MOCK_ACCOUNT}:repository/{prefix}/*"]
            for a in st["Action"]
        }
        if not CACHE_FILL <= scoped:
            problems.append(f"missing on {prefix}/*: {sorted(CACHE_FILL - scoped)}")
        problems += [
            f"{st['Sid']}: {st['Resource']}"
            for st in grants
            if set(st["Action"]) & CACHE_FILL
            and st["Resource"] != [f"arn:aws:ecr:us-east-1:{MOCK_ACCOUNT}:repository/{prefix}/*"]
        ]
    return problems


PUBLIC_ACCESS_BLOCKS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def buckets_are_private(run: MockRun) -> list[str]:
    """Every bucket the stack creates blocks public access with all four settings and refuses requests without TLS."""
    problems = []
    for b in run.of_type("Bucket"):
        blocks = [p.inputs for p in run.of_type("BucketPublicAccessBlock") if p.inputs.get("bucket") == f"{b.name}-id"]
        if not blocks or not all(blocks[0].get(k) is True for k in PUBLIC_ACCESS_BLOCKS):
            problems.append(f"{b.name}: public access not blocked ({blocks})")
        policies = [
            json.loads(p.inputs["policy"])
            for p in run.of_type("BucketPolicy")
            if p.inputs.get("bucket") == f"{b.name}-id"
        ]
        if not any(
            st.get("Effect") == "Deny" and st.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for pol in policies
            for st in pol["Statement"]
        ):
            problems.append(f"{b.name}: requests without TLS are not refused")
    return problems


RULES = (
    Rule(
        "load balancer and target group names",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html",
        lb_names_fit,
    ),
    Rule(
        "ready wait covers the cold start",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/lifecycle-hooks-overview.html",
        ready_waits_for_cold_start,
    ),
    Rule(
        "instance warmup counts from a ready node",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-default-instance-warmup.html",
        warmup_after_ready,
    ),
    Rule(
        "scale-in drains the longest request",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-target-groups.html#deregistration-delay",
        drains_longest_request,
    ),
    Rule(
        "ALB idle timeout covers the longest request",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#connection-idle-timeout",
        idle_timeout_covers_longest_request,
    ),
    Rule(
        "ALB subnets in two zones",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#availability-zones",
        alb_two_zones,
    ),
    Rule(
        "gp3 throughput and IOPS limits",
        "https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html#gp3-ebs-volume-type",
        gp3_limits,
    ),
    Rule(
        "instance refresh launches before it terminates",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-maintenance-policy.html",
        refresh_keeps_serving,
    ),
    Rule(
        "Secrets Manager grants name the secret's ARN",
        "https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege",
        secrets_granted_exactly,
    ),
    Rule(
        "created secrets have no fixed name",
        "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html",
        secret_names_reusable,
    ),
    Rule(
        "only serving nodes are load-balancer targets",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/attach-load-balancer-asg.html",
        only_serving_nodes_are_targets,
    ),
    Rule(
        "node writes only to its own target group and log group",
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselasticloadbalancingv2.html",
        node_writes_only_its_own,
    ),
    Rule(
        "nodes leave the load balancer on the spot interruption notice",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html",
        leaves_on_interruption_notice,
    ),
    Rule(
        "log retention is a value CloudWatch Logs accepts",
        "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html",
        logs_retained_for_a_while,
    ),
    Rule(
        "user data within EC2's 16 KB",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html",
        user_data_fits,
    ),
    Rule(
        "spot never blocks the deployment, and falls back to on demand",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-mixed-instances-groups.html",
        spot_never_blocks_the_deployment,
    ),
    Rule(
        "capacity rebalancing only where a node can be added",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-capacity-rebalancing.html",
        rebalancing_only_where_a_node_can_be_added,
    ),
    Rule(
        "replacements launch before terminations",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-instance-maintenance-policy.html",
        replacement_before_termination,
    ),
    Rule(
        "the listener routes /v1 only",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-update-rules.html",
        listener_routes_the_api_only,
    ),
    Rule(
        "public load balancers over TLS only",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/create-https-listener.html",
        public_only_over_tls,
    ),
    Rule(
        "autoscaling tracks vLLM's load",
        "https://docs.aws.amazon.com/autoscaling/ec2/userguide/as-scaling-target-tracking.html",
        autoscaling_tracks_vllm_load,
    ),
    Rule(
        "the fleet is watched",
        "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html",
        the_fleet_is_watched,
    ),
    Rule(
        "nodes publish their load to their own namespace only",
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html",
        node_publishes_its_load,
    ),
    Rule(
        "pull-through cache rules ECR accepts",
        "https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_CreatePullThroughCacheRule.html",
        cache_rules_ecr_accepts,
    ),
    Rule(
        "the nodes pull through the cache and may fill it",
        "https://docs.aws.amazon.com/AmazonECR/latest/userguide/pull-through-cache-iam.html",
        nodes_pull_through_the_cache,
    ),
    Rule(
        "buckets are private and TLS only",
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/access-control-block-public-access.html",
        buckets_are_private,
    ),
    Rule(
        "private nodes reach the ELB and CloudWatch Logs APIs",
        "https://docs.aws.amazon.com/vpc/latest/privatelink/aws-services-privatelink-support.html",
        private_nodes_reach_their_apis,
    ),
)
