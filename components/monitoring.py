"""Monitoring: the fleet's CloudWatch alarms and dashboard, as deploy/monitoring_spec.py defines them."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.fleet_tags import fleet_slug
from deploy.monitoring_spec import MonitoringArgs, alarm_specs, dashboard_body


class Monitoring(pulumi.ComponentResource):
    """The fleet's alarms and dashboard."""

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("llmfleet:aws:Monitoring", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        actions = [args.alarm_topic_arn] if args.alarm_topic_arn is not None else []
        for suffix, spec in alarm_specs(args).items():
            aws.cloudwatch.MetricAlarm(
                f"{name}-{suffix}",
                alarm_actions=actions,
                ok_actions=actions,
                treat_missing_data="notBreaching",
                tags=args.tags,
                opts=child,
                **spec,
            )
        body = pulumi.Output.all(args.load_balancer_label, args.target_group_label, args.group_names).apply(
            lambda v: dashboard_body(args.fleet_id, args.region, v[0], v[1], v[2])
        )
        aws.cloudwatch.Dashboard(
            f"{name}-dashboard", dashboard_name=fleet_slug(args.fleet_id), dashboard_body=body, opts=child
        )
        self.register_outputs({})
