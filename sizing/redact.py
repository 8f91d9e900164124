"""Redacting credential-shaped text: one function used at every boundary where text leaves the tool (CLI errors and
output, preview errors and log lines, stack exports, the pull-request report, pre-flight notices).

What counts as a credential: Hugging Face tokens (hf_...), AWS access key ids (AKIA.../ASIA...), private keys in PEM
form, GitHub tokens (ghp_/gho_/ghs_/ghu_/ghr_/github_pat_), and any value under a `secure:` key of a Pulumi config."""

from __future__ import annotations

import re
from typing import Any

REDACTED = "[REDACTED]"
"""What a credential is replaced with."""

CREDENTIAL_PATTERNS = (
    re.compile(r"hf_[A-Za-z0-9]{8,}"),  # Hugging Face user access token (hf_ + 34 letters/digits)
    re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}"),  # AWS access key id (AKIA long-term, ASIA temporary)
    re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL),
    re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"),  # GitHub tokens
    re.compile(r"""(['"]?secure['"]?\s*[:=]\s*)(?:'[^']*'|"[^"]*"|[^\s,}\]]+)"""),  # Pulumi `secure:` values, as text
)


def looks_like_credential(text: str) -> bool:
    """Whether the text holds a credential shape (a token, key id or private key; `secure:` text aside)."""
    return any(pattern.search(text) for pattern in CREDENTIAL_PATTERNS[:-1])


def _replace(match: re.Match[str]) -> str:
    if match.lastindex:  # the `secure:` pattern keeps its key
        return match.group(1) + REDACTED
    return REDACTED


def redact(text: str) -> str:
    """The text with every credential-shaped part replaced by [REDACTED]."""
    for pattern in CREDENTIAL_PATTERNS:
        text = pattern.sub(_replace, text)
    return text


def redact_value(value: Any) -> Any:
    """The same for data: strings redacted, mappings and lists walked, anything under a `secure` key replaced."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: (REDACTED if k == "secure" else redact_value(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_value(v) for v in value)
    return value


UNSAFE_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
"""What never reaches a terminal or a log as itself: C0 and C1 control characters (ESC starts a terminal escape, BEL
rings, CR rewrites a line; newline and tab aside), the bidirectional marks and overrides that reorder what a reader
sees (U+200E/F, U+202A-E, U+2066-9; CVE-2021-42574), and lone surrogates, which no encoder can write."""


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_text(text: str) -> str:
    """The text redacted, with every unsafe character written as its escape (\\x1b, \\u202e): what the tool prints
    or logs of a value it did not write itself."""
    return UNSAFE_CHARACTER.sub(_escaped, redact(text))
