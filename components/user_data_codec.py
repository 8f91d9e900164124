"""User data as a launch template carries it: gzip-compressed and base64-encoded, and read back within bounds."""

from __future__ import annotations

import base64
import gzip
import zlib

GZIP_MAGIC = b"\x1f\x8b"
USER_DATA_READ_MAX_BYTES = 1 << 20
"""Most bytes a compressed user data is expanded to when read back (tests, the policy pack): a gzip bomb stops there."""


def encode_user_data(script: str) -> str:
    """The launch template's user data: the script gzip-compressed (cloud-init expands it: "Gzip compressed content",
    https://cloudinit.readthedocs.io/en/latest/explanation/format.html), then base64. mtime 0: the same script gives
    the same bytes, so a preview shows no change where there is none."""
    return base64.b64encode(gzip.compress(script.encode(), mtime=0)).decode()


def decode_user_data(encoded: str) -> str:
    """The script in a launch template's base64 user data, gzip-compressed or not, expanded to at most
    USER_DATA_READ_MAX_BYTES."""
    raw = base64.b64decode(encoded, validate=True)
    if raw.startswith(GZIP_MAGIC):
        raw = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16).decompress(raw, USER_DATA_READ_MAX_BYTES)
    return raw.decode("utf-8", errors="replace")
