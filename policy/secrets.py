"""What a secret looks like in text the pack reads (user data, manifests): matches are reported by kind and line,
never echoed."""

from __future__ import annotations

import re

SECRET_PATTERNS = {
    "a Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"),
    "an AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "an AWS secret access key": re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+=]{40}"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a literal token or password": re.compile(
        r"(?m)^\s*(?:export\s+)?(?:HF_TOKEN|HUGGING_FACE_HUB_TOKEN|[A-Z_]*(?:PASSWORD|SECRET|API_KEY)[A-Z_]*)="
        r"['\"]?[^$'\"\s(][^\s'\"]{7,}"
    ),
}
"""What a secret in user data looks like. Matches are reported by kind and line, never echoed. Stricter than
sizing.redact.CREDENTIAL_PATTERNS on purpose: redaction may over-match at no cost, while a mandatory policy must not
fail a stack on a script word such as `hf_downloads` (full-length tokens and key ids only here)."""


def secrets_in(script: str) -> list[str]:
    """'<kind> (line N)' for each secret-looking value in a script."""
    found = []
    for kind, pattern in SECRET_PATTERNS.items():
        for match in pattern.finditer(script):
            found.append(f"{kind} (line {script.count(chr(10), 0, match.start()) + 1})")
    return found
