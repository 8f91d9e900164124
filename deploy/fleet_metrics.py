"""The fleet's own load metrics in CloudWatch, one definition for the node that publishes them (the user data's
llmfleet-metrics timer), the Auto Scaling policies that track them and the alarms and dashboard that read them.

Each node reads vLLM's Prometheus gauges (vllm/v1/metrics/loggers.py, v0.19.0) every PUBLISH_EVERY_S and puts one
datapoint per metric under the fleet's dimension: CloudWatch's Average over a minute is then the value per node."""

from __future__ import annotations

from sizing.names import METRICS_NAMESPACE

NAMESPACE = METRICS_NAMESPACE
"""CloudWatch namespace of the fleet metrics (sizing/names.py)."""
DIMENSION = "Fleet"
"""Dimension naming the fleet: <project>/<stack>/<component name>, shared by its Auto Scaling groups."""
IN_FLIGHT = "RequestsInFlight"
"""vllm:num_requests_running + vllm:num_requests_waiting on one node: what target tracking holds at the plan's
per-node capacity."""
WAITING = "RequestsWaiting"
"""vllm:num_requests_waiting on one node: a queue means the running batch is capped (KV or --max-num-seqs)."""
KV_USAGE = "KvCacheUsage"
"""The highest vllm:kv_cache_usage_perc of the node's engines (0-1)."""
LAUNCH_ABANDONED = "LaunchAbandoned"
"""1 when a node gives up its launch (vLLM never answered /health within the ready deadline)."""
GPU_UTILIZATION = "GpuUtilization"
"""The mean of the node's GPUs' utilization.gpu, percent: the share of time a kernel ran in the last sample period
(`nvidia-smi --query-gpu`, https://docs.nvidia.com/deploy/nvidia-smi/index.html; the driver ships nvidia-smi)."""
GPU_MEMORY_USAGE = "GpuMemoryUsage"
"""The highest memory.used / memory.total of the node's GPUs (0-1): vLLM reserves --gpu-memory-utilization of each
GPU at start, so a value far above it means another process holds GPU memory."""
PUBLISHED = (IN_FLIGHT, WAITING, KV_USAGE, LAUNCH_ABANDONED, GPU_UTILIZATION, GPU_MEMORY_USAGE)
"""Every metric the nodes publish, each under the one fleet dimension value: CloudWatch bills each as a custom
metric."""
PUT_CALLS_PER_PUBLISH = 1
"""PutMetricData calls a node makes every PUBLISH_EVERY_S (one call carries all its datapoints)."""
PUBLISH_EVERY_S = 60
"""How often a node publishes (CloudWatch's standard resolution is one minute)."""
