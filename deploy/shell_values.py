"""Every value that reaches a node's shell script is checked against a strict pattern, then quoted.

A value that does not match is refused with its name, the bad value (repr: a newline shows as \\n) and the pattern,
before any resource exists; quoting alone would be one mistake away from command injection."""

from __future__ import annotations

import re
import shlex

from deploy.errors import UnsafeShellValueError

PATTERNS: dict[str, str] = {
    "fleet name": r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}",
    "fleet id": r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}(/[A-Za-z0-9][A-Za-z0-9._-]{0,127}){2}",
    "served model name": r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}",
    "Hugging Face repo": r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}(/[A-Za-z0-9][A-Za-z0-9._-]{0,95})?",
    "S3 URI": r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*'()/=+-]*)?",
    "S3 bucket": r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]",
    "S3 key": r"[A-Za-z0-9!_.*'()/=+-]{1,1024}",
    "secret ARN": r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+",
    "secret name": r"[A-Za-z0-9/_+=.@-]{1,512}",
    "SSM parameter": r"/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*",
    "image": r"[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9._-]{1,128})?(@sha256:[0-9a-f]{64})?",
    "ECR repository": r"[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com/[a-z0-9][a-z0-9._/-]*",
    "ECR registry": r"[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com",
    "vLLM argument": r"[A-Za-z0-9._:/=+-]{1,256}",
    "path": r"/[A-Za-z0-9._/-]*",
    "number": r"[0-9]{1,9}",
    "lifecycle hook": r"[A-Za-z0-9_.-]{1,255}",
    "target group ARN": r"arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:targetgroup/[A-Za-z0-9-]{1,32}/"
    r"[0-9a-f]{16}",
    "log group": r"[A-Za-z0-9_./#-]{1,512}",
}
"""What each kind of value may look like (the whole value must match)."""


def checked(kind: str, value: str) -> str:
    """The value, if the whole of it matches the pattern for its kind."""
    pattern = PATTERNS[kind]
    if not isinstance(value, str) or not re.fullmatch(pattern, value):
        raise UnsafeShellValueError(
            f"{kind} {value!r} cannot be passed to the node's bootstrap script: it must match {pattern!r}. "
            f"To fix: use only the characters that pattern allows (no spaces, quotes, newlines or shell syntax)."
        )
    return value


def shell(kind: str, value: str) -> str:
    """The value checked against its pattern and quoted for bash."""
    return shlex.quote(checked(kind, value))
