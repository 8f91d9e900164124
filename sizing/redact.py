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
