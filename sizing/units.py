"""Byte units. The engine computes in bytes and reports GiB (2^30) or GB (10^9), always labelled."""

BYTES_PER_GIB = 2**30
BYTES_PER_GB = 10**9


def to_gib(num_bytes: float) -> float:
    """Bytes to GiB (2^30 bytes)."""
    return num_bytes / BYTES_PER_GIB


def to_gb(num_bytes: float) -> float:
    """Bytes to decimal GB (10^9 bytes)."""
    return num_bytes / BYTES_PER_GB
