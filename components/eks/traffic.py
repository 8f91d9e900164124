"""How traffic reaches the fleet and how the fleet follows it: the KEDA ScaledObject on vLLM's own metrics, the
Prometheus Operator PodMonitor that collects them, and the optional ALB Ingress that routes /v1 only. Pure functions
returning manifests.

Sources: https://keda.sh/docs/2.20/reference/scaledobject-spec/ and /scalers/prometheus/, the Prometheus Operator API
(monitoring.coreos.com/v1 PodMonitor), https://kubernetes-sigs.github.io/aws-load-balancer-controller/latest/guide/
ingress/annotations/, vLLM v0.19.0 vllm/v1/metrics/loggers.py and its API-key middleware (/v1 routes only)."""

from __future__ import annotations

import json
import math
from typing import Any

from components.eks.workload import LWS_API, labels, serving_selector
from deploy.eks_spec import QUEUED_PER_REPLICA, EksSpec
from deploy.fleet_spec import longest_request_s, served_name
from deploy.options import FleetOptions
from sizing.planner.results import Plan

POLL_S = 15
"""How often KEDA asks Prometheus (pollingInterval)."""
SCRAPE_INTERVAL = "15s"
"""How often Prometheus scrapes vLLM's /metrics."""
SCALE_UP_PERIOD_S = 60
"""A scale-out adds at most one replica a minute: each new one costs a node and a cold start, and the load signals
need a scrape or two to show the last one."""
ALB_IDLE_TIMEOUT_MAX_S = 4000
"""Largest ALB idle timeout (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/
application-load-balancers.html#connection-idle-timeout)."""
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
"""TLS 1.3 and 1.2 only (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/describe-ssl-policies.html)."""
API_PREFIX = "/v1"
"""The only path routed from outside: vLLM's API key covers routes under /v1 and nothing else (/invocations and
/metrics answer without it; checked on vLLM 0.32's CPU build and in v0.19.0's AuthenticationMiddleware)."""


def _selector(plan: Plan, spec: EksSpec) -> str:
    return f'{{namespace="{spec.namespace}",model_name="{served_name(plan)}"}}'


def scaled_object(plan: Plan, options: FleetOptions, spec: EksSpec) -> dict[str, Any]:
    """Scale the Deployment or LeaderWorkerSet between the plan's replicas (headroom included) and its ceiling on
    vLLM's own load: requests in flight per replica against the capacity the plan sized the fleet by, a queue, and an
    engine whose KV cache nears what preempts requests. Scale-down waits out a cold start."""
    cluster = options.cluster
    assert cluster is not None
    where = _selector(plan, spec)
    target = (
        {"apiVersion": LWS_API, "kind": "LeaderWorkerSet", "name": spec.name}
        if spec.multi_node
        else {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec.name}
    )

    def prometheus(name: str, query: str, threshold: float, metric_type: str) -> dict[str, Any]:
        # ignoreNullValues false: no series (Prometheus not scraping vLLM) is an error KEDA reports, not a load of 0
        # that would keep the fleet at its floor in silence.
        return {
            "type": "prometheus",
            "name": name,
            "metricType": metric_type,
            "metadata": {
                "serverAddress": cluster.prometheus_url,
                "query": query,
                "threshold": f"{threshold:g}",
                "ignoreNullValues": "false",
            },
        }

    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": labels(spec)},
        "spec": {
            "scaleTargetRef": target,
            "minReplicaCount": spec.replicas,
            "maxReplicaCount": spec.max_replicas,
            "pollingInterval": POLL_S,
            "cooldownPeriod": spec.scale_down_window_s,
            "advanced": {
                "horizontalPodAutoscalerConfig": {
                    "behavior": {
                        "scaleDown": {
                            "stabilizationWindowSeconds": spec.scale_down_window_s,
                            "policies": [{"type": "Pods", "value": 1, "periodSeconds": spec.scale_down_window_s}],
                        },
                        "scaleUp": {
                            "stabilizationWindowSeconds": 0,
                            "policies": [{"type": "Pods", "value": 1, "periodSeconds": SCALE_UP_PERIOD_S}],
                        },
                    }
                }
            },
            "triggers": [
                # AverageValue: the HPA divides the fleet's total by the replicas (LWS: groups, led by their leader).
                prometheus(
                    "in-flight",
                    f"sum(vllm:num_requests_running{where}) + sum(vllm:num_requests_waiting{where})",
                    spec.in_flight_per_replica,
                    "AverageValue",
                ),
                prometheus("queued", f"sum(vllm:num_requests_waiting{where})", QUEUED_PER_REPLICA, "AverageValue"),
                prometheus("kv-cache", f"max(vllm:kv_cache_usage_perc{where})", spec.kv_usage_guard, "Value"),
            ],
        },
    }


def pod_monitor(options: FleetOptions, spec: EksSpec) -> dict[str, Any]:
    """Prometheus scrapes the serving pods' /metrics (the leader's, on a LeaderWorkerSet: workers serve nothing)."""
    cluster = options.cluster
    assert cluster is not None
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {
            "name": spec.name,
            "namespace": spec.namespace,
            "labels": {**labels(spec), **cluster.monitor_labels},
        },
        "spec": {
            "selector": {"matchLabels": serving_selector(spec)},
            "podMetricsEndpoints": [{"port": "http", "path": "/metrics", "interval": SCRAPE_INTERVAL}],
        },
    }


def ingress(plan: Plan, options: FleetOptions, spec: EksSpec) -> dict[str, Any]:
    """An ALB from the AWS Load Balancer Controller to the pods (target type ip), for /v1 only: internal unless the
    stack allows public ingress, which the options admit only with a certificate (HTTPS, TLS 1.2+)."""
    https = options.certificate_arn is not None
    notes: dict[str, Any] = {
        "alb.ingress.kubernetes.io/scheme": "internet-facing" if options.allow_public_ingress else "internal",
        "alb.ingress.kubernetes.io/target-type": "ip",
        "alb.ingress.kubernetes.io/healthcheck-path": "/health",
        "alb.ingress.kubernetes.io/listen-ports": json.dumps(
            [{"HTTPS": 443}] if https else [{"HTTP": options.listener_port}]
        ),
        # A non-streaming request sends nothing until it ends, queueing included: the drain time (longest request with
        # margin) at least.
        "alb.ingress.kubernetes.io/load-balancer-attributes": (
            "idle_timeout.timeout_seconds="
            f"{min(ALB_IDLE_TIMEOUT_MAX_S, max(spec.drain_s, math.ceil(longest_request_s(plan))))}"
        ),
        "alb.ingress.kubernetes.io/target-group-attributes": f"deregistration_delay.timeout_seconds={spec.drain_s}",
    }
    if https:
        notes.update(
            {
                "alb.ingress.kubernetes.io/certificate-arn": options.certificate_arn,
                "alb.ingress.kubernetes.io/ssl-policy": TLS_POLICY,
            }
        )
    if options.allowed_cidrs:
        notes["alb.ingress.kubernetes.io/inbound-cidrs"] = ",".join(options.allowed_cidrs)
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": API_PREFIX,
                    "pathType": "Prefix",
                    "backend": {"service": {"name": spec.service_name, "port": {"name": "http"}}},
                }
            ]
        }
    }
    if options.domain_name:
        rule["host"] = options.domain_name
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": spec.name, "namespace": spec.namespace, "labels": labels(spec), "annotations": notes},
        "spec": {"ingressClassName": "alb", "rules": [rule]},
    }
