"""AWS constraints on what every platform-ec2 example stack emits (tests/components/aws_rules.py, each rule citing its
AWS document), and each rule shown to fail on a run that breaks it."""

from __future__ import annotations

import base64
import copy
import os
import re

import pytest

from components.user_data_codec import decode_user_data, encode_user_data
from tests.components.aws_rules import RULES, Rule
from tests.stack_runs import EC2_STACKS, STACKS, stack_run


@pytest.mark.parametrize("stack", sorted(EC2_STACKS))
@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_example_stacks_meet_aws_constraints(stack, rule: Rule):
    assert rule.source.startswith("https://docs.aws.amazon.com/")
    assert rule.check(stack_run(stack)) == []


def broken(stack: str, kind: str, change) -> object:
    """A copy of a stack's run with one resource's inputs changed."""
    run = copy.deepcopy(stack_run(stack))
    for r in run.of_type(kind):
        change(r.inputs)
    return run


def rule(name: str) -> Rule:
    return next(r for r in RULES if r.name == name)


@pytest.mark.parametrize(
    "name,stack,kind,change",
    [
        ("load balancer and target group names", "dev", "LoadBalancer", lambda i: i.update(name="x" * 33)),
        (
            "ready wait covers the cold start",
            "prod",
            "Group",
            lambda i: i.update(initialLifecycleHooks=[], healthCheckGracePeriod=60),
        ),
        ("scale-in drains the longest request", "dev", "TargetGroup", lambda i: i.update(deregistrationDelay=5)),
        ("ALB subnets in two zones", "dev", "LoadBalancer", lambda i: i.update(subnets=["dev-net-private-0-id"])),
        (
            "gp3 throughput and IOPS limits",
            "prod",
            "LaunchTemplate",
            lambda i: i["blockDeviceMappings"][0]["ebs"].update(throughput=1000, iops=3000, volumeSize=100),
        ),
        (
            "instance refresh launches before it terminates",
            "dev",
            "Group",
            lambda i: i["instanceRefresh"]["preferences"].pop("maxHealthyPercentage"),
        ),
        (
            "Secrets Manager grants name the secret's ARN",
            "prod",
            "RolePolicy",
            lambda i: i.update(policy=i["policy"].replace("secret:prod-api-key-AbCdEf", "secret:prod-api-key-*")),
        ),
        (
            "created secrets have no fixed name",
            "dev",
            "Secret",
            lambda i: i.update(name="llmfleet/llmfleet/dev/api-key"),
        ),
        ("ALB idle timeout covers the longest request", "prod", "LoadBalancer", lambda i: i.update(idleTimeout=60)),
        ("instance warmup counts from a ready node", "dev", "Policy", lambda i: i.update(estimatedInstanceWarmup=1428)),
        ("instance warmup counts from a ready node", "prod", "Group", lambda i: i.pop("defaultInstanceWarmup")),
        ("only serving nodes are load-balancer targets", "dev", "Group", lambda i: i.pop("targetGroupArns")),
        (
            "only serving nodes are load-balancer targets",
            "prod",
            "LaunchTemplate",
            lambda i: i.update(
                userData=encode_user_data(
                    decode_user_data(i["userData"]).replace(
                        "\nWATCH\n", '\naws elbv2 register-targets --targets "Id=$INSTANCE_ID"\nWATCH\n'
                    )
                )
            ),
        ),
        (
            "node writes only to its own target group and log group",
            "dev",
            "RolePolicy",
            lambda i: i.update(
                policy=i["policy"].replace("targetgroup/llmfleet-dev-tg-be2b/0123456789abcdef", "targetgroup/*")
            ),
        ),
        (
            "node writes only to its own target group and log group",
            "prod",
            "RolePolicy",
            lambda i: i.update(
                policy=i["policy"].replace('"logs:PutLogEvents"', '"logs:PutLogEvents", "logs:DeleteLogGroup"')
            ),
        ),
        ("log retention is a value CloudWatch Logs accepts", "prod", "LogGroup", lambda i: i.pop("retentionInDays")),
        (
            "nodes leave the load balancer on the spot interruption notice",
            "prod",
            "LaunchTemplate",
            lambda i: i.update(
                userData=encode_user_data(
                    decode_user_data(i["userData"]).replace("OnUnitActiveSec=5", "OnUnitActiveSec=60")
                )
            ),
        ),
        (
            "nodes leave the load balancer on the spot interruption notice",
            "dev",
            "LaunchTemplate",
            lambda i: i.update(
                userData=encode_user_data(
                    decode_user_data(i["userData"]).replace(
                        "aws elbv2 deregister-targets", ": elbv2 deregister-targets"
                    )
                )
            ),
        ),
        (
            "private nodes reach the ELB and CloudWatch Logs APIs",
            "dev",
            "VpcEndpoint",
            lambda i: i.update(serviceName="com.amazonaws.us-east-1.s3"),
        ),
        (
            "user data within EC2's 16 KB",
            "dev",
            "LaunchTemplate",
            lambda i: i.update(userData=base64.b64encode(base64.b64decode(i["userData"]) + os.urandom(16384)).decode()),
        ),  # incompressible: over the limit as sent
        (
            "spot never blocks the deployment, and falls back to on demand",
            "prod",
            "Group",
            lambda i: i.update(waitForCapacityTimeout="30m", waitForElbCapacity=i["maxSize"]) if i["minSize"] else None,
        ),
        (
            "spot never blocks the deployment, and falls back to on demand",
            "prod",
            "Group",
            lambda i: i.update(maxSize=0) if not i["minSize"] else None,
        ),
        (
            "capacity rebalancing only where a node can be added",
            "dev",
            "Group",
            lambda i: i.update(capacityRebalance=True),
        ),
        ("replacements launch before terminations", "dev", "Group", lambda i: i.pop("instanceMaintenancePolicy")),
        ("replacements launch before terminations", "prod", "Group", lambda i: i.update(healthCheckType="ELB")),
        (
            "the listener routes /v1 only",
            "dev",
            "Listener",
            lambda i: i.update(defaultActions=[{"type": "forward", "targetGroupArn": "tg"}]),
        ),
        (
            "the listener routes /v1 only",
            "prod",
            "ListenerRule",
            lambda i: i["conditions"][0]["pathPattern"].update(values=["/*"]),
        ),
        ("public load balancers over TLS only", "dev", "LoadBalancer", lambda i: i.update(internal=False)),
        (
            "autoscaling tracks vLLM's load",
            "prod",
            "Policy",
            lambda i: i["targetTrackingConfiguration"].update(
                customizedMetricSpecification=None,
                predefinedMetricSpecification={"predefinedMetricType": "ALBRequestCountPerTarget"},
            ),
        ),
        (
            "autoscaling tracks vLLM's load",
            "dev",
            "Policy",
            lambda i: i["targetTrackingConfiguration"].update(targetValue=500),
        ),
        (
            "the fleet is watched",
            "dev",
            "MetricAlarm",
            lambda i: i.update(metricName="CPUUtilization", metricQueries=[]),
        ),
        (
            "nodes publish their load to their own namespace only",
            "prod",
            "RolePolicy",
            lambda i: i.update(
                policy=i["policy"].replace('"cloudwatch:namespace": "LLMFleet"', '"cloudwatch:namespace": "*"')
            ),
        ),
        (
            "nodes publish their load to their own namespace only",
            "dev",
            "VpcEndpoint",
            lambda i: (
                i.update(serviceName="com.amazonaws.us-east-1.s3") if i["serviceName"].endswith("monitoring") else None
            ),
        ),
        (
            "pull-through cache rules ECR accepts",
            "prod",
            "PullThroughCacheRule",
            lambda i: i.update(ecrRepositoryPrefix="llmfleet-production-inference-fleet"),
        ),  # 35 characters
        (
            "pull-through cache rules ECR accepts",
            "prod",
            "PullThroughCacheRule",
            lambda i: i.update(credentialArn="arn:aws:secretsmanager:us-east-1:123456789012:secret:docker-hub-AbCdEf"),
        ),
        (
            "the nodes pull through the cache and may fill it",
            "prod",
            "RolePolicy",
            lambda i: i.update(policy=i["policy"].replace('"ecr:CreateRepository"', '"ecr:DescribeImages"')),
        ),
        (
            "the nodes pull through the cache and may fill it",
            "prod",
            "LaunchTemplate",
            lambda i: i.update(
                userData=encode_user_data(
                    re.sub(r"(?m)^IMAGE=.*$", "IMAGE=vllm/vllm-openai:v0.19.0", decode_user_data(i["userData"]))
                )
            ),
        ),
        (
            "buckets are private and TLS only",
            "dev",
            "BucketPublicAccessBlock",
            lambda i: i.update(restrictPublicBuckets=False),
        ),
        ("buckets are private and TLS only", "prod", "BucketPolicy", lambda i: i.update(policy='{"Statement": []}')),
    ],
)
def test_each_rule_catches_what_it_checks(name, stack, kind, change):
    assert rule(name).check(broken(stack, kind, change))


def test_long_outputs_keep_the_alb_connection_open(tmp_path):
    """A stack whose longest request (a full context at its TPOT) outlasts the 600 s floor: the ALB idle timeout follows
    it, so a non-streaming generation is not cut with a 504."""
    from preview.mock_run import MockRun, run_stack

    stack = tmp_path / "Pulumi.long.yaml"  # no plan lock next to it: the fresh plan deploys
    stack.write_text(EC2_STACKS["dev"].read_text().replace("output_tokens: 256", "output_tokens: 16000"))
    run = run_stack(stack, MockRun(stack="long"))
    assert rule("ALB idle timeout covers the longest request").check(run) == []
    assert run.one("LoadBalancer").inputs["idleTimeout"] > 600


def test_two_stacks_of_one_program_never_share_a_name(tmp_path):
    """Load balancer and target group names are unique per region and account (CreateLoadBalancer,
    CreateTargetGroup): the same program deployed as two stacks (and the examples' `fleet` in each) must not collide."""
    from preview.mock_run import MockRun, run_stack

    names = []
    for stack in ("team-a", "team-b"):
        path = tmp_path / f"Pulumi.{stack}.yaml"
        path.write_text(STACKS["dev"].read_text())
        run = run_stack(path, MockRun(stack=stack))
        names.append({r.inputs["name"] for r in run.of_type("LoadBalancer") + run.of_type("TargetGroup")})
        assert rule("load balancer and target group names").check(run) == []
    assert names[0].isdisjoint(names[1]) and len(names[0]) == 2


def test_a_replacement_takes_a_new_name():
    """A target group replaced (port changed) is created before the old one is deleted: its name differs."""
    from components.loadbalancing import replacement_key

    assert replacement_key(8000, "HTTP", "instance", "created") != replacement_key(8001, "HTTP", "instance", "created")


def test_a_public_fleet_listens_on_https_only(tmp_path):
    from preview.mock_run import MockRun, run_stack

    path = tmp_path / "Pulumi.public.yaml"
    path.write_text(
        STACKS["dev"]
        .read_text()
        .replace(
            'allowed_cidrs: ["10.0.0.0/8"]',
            'allowed_cidrs: ["0.0.0.0/0"]\n    allow_public_ingress: true\n'
            "    certificate_arn: arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b\n"
            "    domain_name: llm.example.com",
        )
    )
    run = run_stack(path, MockRun(stack="public"))
    assert run.one("LoadBalancer").inputs["internal"] is False
    assert rule("public load balancers over TLS only").check(run) == []
    assert [lst.inputs["protocol"] for lst in run.of_type("Listener")] == ["HTTPS"]
