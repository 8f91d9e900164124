"""Pulumi components that turn a finished sizing Plan into AWS resources (network/security, IAM, compute, load
balancing), composed by ServingFleet. They never size anything themselves. To be built under issue 3."""
