"""Catalog snapshots read from sizing/data: GPUs, AWS instance types and prices, weight formats, engines,
assumptions."""
