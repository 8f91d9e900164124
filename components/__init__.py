"""Pulumi components that turn a finished sizing Plan into AWS resources: Network (VPC and security groups), Iam,
LoadBalancing and Compute, composed by ServingFleet. They never size anything themselves."""

from components.fleet import ServingFleet, ServingFleetArgs

__all__ = ["ServingFleet", "ServingFleetArgs"]
