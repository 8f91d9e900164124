"""The fleet's monitoring, as data: CloudWatch alarms on what pages a team (unhealthy targets, 5xx, requests slower than
any the plan admits, a queue that does not drain, a node that gave up its launch) and a dashboard of the fleet's load,
its load balancer and its groups (components/monitoring.py creates them; the fixed overhead counts them). Alarms notify
the stack's SNS topic when one is given.

Sources: ALB metrics (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html),
metric math alarms (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Create-alarm-on-metric-math-expression.html)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from deploy.fleet_metrics import (
    DIMENSION,
    GPU_MEMORY_USAGE,
    GPU_UTILIZATION,
    IN_FLIGHT,
    KV_USAGE,
    LAUNCH_ABANDONED,
    NAMESPACE,
    WAITING,
)

if TYPE_CHECKING:
    import pulumi

PERIOD_S = 60
"""Alarm and dashboard period (CloudWatch's standard resolution)."""
UNHEALTHY_MINUTES = 5
"""A target failing /health this long pages: longer than a vLLM restart takes to be noticed, shorter than a cold
start."""
ERROR_RATE = 0.01
"""Share of requests answered 5xx (by the targets or the load balancer) over ERROR_MINUTES that pages."""
ERROR_MINUTES = 5
QUEUED_PER_NODE = 1.0
"""Requests waiting per node, on average, that mean the fleet is past its capacity (vLLM queues only when the running
batch is capped); it pages after QUEUE_MINUTES, the autoscaling having had time to add nodes."""
QUEUE_MINUTES = 15
SLOW_PERCENTILE = "p99"
"""The response-time statistic that pages when it exceeds the longest request the plan admits."""


@dataclass(frozen=True)
class MonitoringArgs:
    """Inputs of Monitoring."""

    fleet_id: str
    """<project>/<stack>/<name>: the fleet metrics' dimension."""
    load_balancer_label: pulumi.Input[str]
    """The ALB's ARN suffix (app/<name>/<id>), its CloudWatch dimension."""
    target_group_label: pulumi.Input[str]
    """The target group's ARN suffix (targetgroup/<name>/<id>)."""
    group_names: pulumi.Input[list[str]]
    """The fleet's Auto Scaling groups."""
    longest_request_s: float
    """The longest request the plan admits (a full context of output)."""
    alarm_topic_arn: pulumi.Input[str] | None
    """SNS topic the alarms notify, if any."""
    region: str
    """AWS region (the dashboard's widgets)."""
    tags: dict[str, str]
    """Tags on every resource."""


def _alb(metric: str, labels: dict[str, pulumi.Input[str]], stat: str) -> dict[str, Any]:
    return {
        "namespace": "AWS/ApplicationELB",
        "metric_name": metric,
        "dimensions": labels,
        "period": PERIOD_S,
        "statistic" if not stat.startswith("p") else "extended_statistic": stat,
    }


def alarm_specs(args: MonitoringArgs) -> dict[str, dict[str, Any]]:
    """Each alarm's arguments (aws.cloudwatch.MetricAlarm), by the suffix of its name."""
    lb = {"LoadBalancer": args.load_balancer_label}
    tg = {**lb, "TargetGroup": args.target_group_label}
    fleet = {DIMENSION: args.fleet_id}
    five_xx = {
        "metric_queries": [
            {
                "id": "targets",
                "metric": {
                    "namespace": "AWS/ApplicationELB",
                    "metric_name": "HTTPCode_Target_5XX_Count",
                    "dimensions": tg,
                    "period": PERIOD_S,
                    "stat": "Sum",
                },
            },
            {
                "id": "balancer",
                "metric": {
                    "namespace": "AWS/ApplicationELB",
                    "metric_name": "HTTPCode_ELB_5XX_Count",
                    "dimensions": lb,
                    "period": PERIOD_S,
                    "stat": "Sum",
                },
            },
            {
                "id": "requests",
                "metric": {
                    "namespace": "AWS/ApplicationELB",
                    "metric_name": "RequestCount",
                    "dimensions": lb,
                    "period": PERIOD_S,
                    "stat": "Sum",
                },
            },
            {
                "id": "rate",
                "expression": "(FILL(targets, 0) + FILL(balancer, 0)) / FILL(requests, 1)",
                "return_data": True,
                "label": "5xx share",
            },
        ]
    }
    return {
        "unhealthy-targets": {
            **_alb("UnHealthyHostCount", tg, "Maximum"),
            "threshold": 0,
            "comparison_operator": "GreaterThanThreshold",
            "evaluation_periods": UNHEALTHY_MINUTES,
            "alarm_description": "a node has failed vLLM's /health for minutes",
        },
        "5xx": {
            **five_xx,
            "threshold": ERROR_RATE,
            "comparison_operator": "GreaterThanThreshold",
            "evaluation_periods": ERROR_MINUTES,
            "alarm_description": f"more than {ERROR_RATE:.0%} of requests fail",
        },
        "slow": {
            **_alb("TargetResponseTime", tg, SLOW_PERCENTILE),
            "threshold": math.ceil(args.longest_request_s),
            "comparison_operator": "GreaterThanThreshold",
            "evaluation_periods": ERROR_MINUTES,
            "alarm_description": "requests take longer than the longest the plan admits (queueing or a slow node)",
        },
        "queued": {
            "namespace": NAMESPACE,
            "metric_name": WAITING,
            "dimensions": fleet,
            "period": PERIOD_S,
            "statistic": "Average",
            "threshold": QUEUED_PER_NODE,
            "comparison_operator": "GreaterThanThreshold",
            "evaluation_periods": QUEUE_MINUTES,
            "alarm_description": "requests queue in vLLM although the fleet had time to scale out (at its ceiling?)",
        },
        "launch-abandoned": {
            "namespace": NAMESPACE,
            "metric_name": LAUNCH_ABANDONED,
            "dimensions": fleet,
            "period": PERIOD_S,
            "statistic": "Sum",
            "threshold": 1,
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "evaluation_periods": 1,
            "alarm_description": "a node never served within its ready deadline and was given up",
        },
    }


def alarm_metrics() -> int:
    """Alarm metrics the fleet's alarms count for CloudWatch's billing: one per metric an alarm lists, each metric of a
    metric-math alarm included (the expression itself is not billed)."""
    probe = MonitoringArgs(
        fleet_id="p/s/n",
        load_balancer_label="",
        target_group_label="",
        group_names=[],
        longest_request_s=1.0,
        alarm_topic_arn=None,
        region="",
        tags={},
    )
    return sum(
        len([q for q in spec.get("metric_queries", []) if "metric" in q]) or 1 for spec in alarm_specs(probe).values()
    )


DASHBOARDS = 1
"""Dashboards the fleet creates."""


def dashboard_body(fleet_id: str, region: str, lb_label: str, tg_label: str, groups: list[str]) -> str:
    """The dashboard's widgets: vLLM's load per node, the load balancer's traffic, errors and latency, the groups'
    nodes."""
    fleet = [DIMENSION, fleet_id]

    def widget(title: str, metrics: list[list[Any]], x: int, y: int, stat: str = "Average") -> dict[str, Any]:
        return {
            "type": "metric",
            "x": x,
            "y": y,
            "width": 12,
            "height": 6,
            "properties": {
                "title": title,
                "region": region,
                "stat": stat,
                "period": PERIOD_S,
                "view": "timeSeries",
                "metrics": metrics,
            },
        }

    widgets = [
        widget(
            "vLLM requests per node (in flight, waiting)",
            [[NAMESPACE, IN_FLIGHT, *fleet], [NAMESPACE, WAITING, *fleet]],
            0,
            0,
        ),
        widget("vLLM KV-cache usage (highest engine, per node)", [[NAMESPACE, KV_USAGE, *fleet]], 12, 0),
        widget("GPU utilization (%, per node)", [[NAMESPACE, GPU_UTILIZATION, *fleet]], 0, 18),
        widget("GPU memory in use (highest GPU, per node)", [[NAMESPACE, GPU_MEMORY_USAGE, *fleet]], 12, 18),
        widget(
            "Requests and 5xx",
            [
                ["AWS/ApplicationELB", "RequestCount", "LoadBalancer", lb_label],
                ["AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "LoadBalancer", lb_label, "TargetGroup", tg_label],
                ["AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer", lb_label],
            ],
            0,
            6,
            "Sum",
        ),
        widget(
            "Response time (p50, p95, p99)",
            [
                [
                    "AWS/ApplicationELB",
                    "TargetResponseTime",
                    "LoadBalancer",
                    lb_label,
                    "TargetGroup",
                    tg_label,
                    {"stat": p},
                ]
                for p in ("p50", "p95", "p99")
            ],
            12,
            6,
        ),
        widget(
            "Healthy and unhealthy nodes",
            [
                ["AWS/ApplicationELB", m, "LoadBalancer", lb_label, "TargetGroup", tg_label]
                for m in ("HealthyHostCount", "UnHealthyHostCount")
            ],
            0,
            12,
            "Maximum",
        ),
        widget(
            "Nodes in service",
            [["AWS/AutoScaling", "GroupInServiceInstances", "AutoScalingGroupName", g] for g in groups],
            12,
            12,
            "Maximum",
        ),
    ]
    return json.dumps({"widgets": widgets}, sort_keys=True)
