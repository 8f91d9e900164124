"""Units: bytes, time and token counts. The engine computes in bytes and reports GiB (2^30) or GB (10^9), always
labelled."""

BYTES_PER_GIB = 2**30
BYTES_PER_GB = 10**9
BYTES_PER_MB = 10**6
MS_PER_S = 1000
S_PER_MS = 1e-3
S_PER_US = 1e-6
SECONDS_PER_HOUR = 3600
TOKENS_PER_MILLION = 10**6
"""Per-million-token prices (USD per million output tokens)."""


def to_gib(num_bytes: float) -> float:
    """Bytes to GiB (2^30 bytes)."""
    return num_bytes / BYTES_PER_GIB


def to_gb(num_bytes: float) -> float:
    """Bytes to decimal GB (10^9 bytes)."""
    return num_bytes / BYTES_PER_GB
