"""Pulumi components. LlmServingFleet (the llmfleet package's component) takes a model and a workload and sizes itself;
ServingFleet, the lower layer, turns a finished sizing Plan into Network (VPC and security groups), Iam, LoadBalancing
and Compute, and never sizes anything itself."""

from components.fleet import ServingFleet, ServingFleetArgs
from components.llm_fleet import LlmServingFleet, LlmServingFleetArgs

__all__ = ["LlmServingFleet", "LlmServingFleetArgs", "ServingFleet", "ServingFleetArgs"]
