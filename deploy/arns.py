"""ARNs parsed into their parts before they reach an IAM policy, user data or an output: partition, service, region,
account and resource, each against the pattern AWS documents, and no wildcard anywhere (a policy that grants
GetSecretValue on `arn:aws:secretsmanager:*:*:secret:*` reads every secret of the account).

Format: arn:partition:service:region:account-id:resource
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference-arns.html)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from deploy.errors import ArnError

PARTITION = re.compile(r"aws(-cn|-us-gov|-iso|-iso-[a-z]|-eusc)?")
"""AWS partitions (https://docs.aws.amazon.com/whitepapers/latest/aws-fault-isolation-boundaries/partitions.html)."""
REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]")
"""A region code, e.g. us-east-1."""
ACCOUNT = re.compile(r"[0-9]{12}")
"""A 12-digit account id."""
SECRET_RESOURCE = re.compile(r"secret:[A-Za-z0-9/_+=.@-]{1,512}")
"""A Secrets Manager secret: 'secret:' then its name (ASCII letters, digits and /_+=.@-, at most 512;
https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html#API_CreateSecret_RequestParameters)
and, in a full ARN, the six-character suffix AWS adds."""
CERTIFICATE_RESOURCE = re.compile(r"certificate/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}")
"""An ACM certificate: 'certificate/' and its UUID (https://docs.aws.amazon.com/acm/latest/userguide/acm-concepts.html)."""
IAM_SERVER_CERTIFICATE = re.compile(r"server-certificate/[\w+=,.@/-]{1,128}")
"""An IAM server certificate, which an ALB listener also takes."""
SNS_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,256}")
"""An SNS topic name."""
RESOURCES = {
    "secretsmanager": SECRET_RESOURCE,
    "acm": CERTIFICATE_RESOURCE,
    "iam": IAM_SERVER_CERTIFICATE,
    "sns": SNS_TOPIC,
}
"""The resource part each service's ARN has here."""
MAX_ARN_CHARS = 2048
"""IAM's limit on a resource ARN in a policy (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""


@dataclass(frozen=True)
class Arn:
    """An ARN's parts."""

    partition: str
    """aws, aws-cn, aws-us-gov, ..."""
    service: str
    """secretsmanager, acm, iam, sns."""
    region: str
    """Region code ('' for a global service such as IAM)."""
    account: str
    """12-digit account id."""
    resource: str
    """The resource part (secret:name-AbCdEf, certificate/uuid, ...)."""

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parse_arn(value: str, field: str, services: tuple[str, ...], example: str) -> Arn:
    """`value` as an ARN of one of `services`, every part checked; raises ArnError naming the field, the part and an
    example (never the value itself: a token pasted into the field must not be echoed)."""

    def refuse(what: str) -> ArnError:
        return ArnError(f"{field} is not a {' or '.join(services)} ARN ({what}); give e.g. {example!r}")

    if not isinstance(value, str) or len(value) > MAX_ARN_CHARS:
        raise refuse(f"at most {MAX_ARN_CHARS} characters of text")
    if "*" in value or "?" in value:
        raise refuse("a wildcard would grant every matching resource")
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise refuse("arn:partition:service:region:account:resource")
    _, partition, service, region, account, resource = parts
    if not PARTITION.fullmatch(partition):
        raise refuse(f"partition must be aws, aws-cn or aws-us-gov, not {partition[:20]!r}")
    if service not in services:
        raise refuse(f"service must be {' or '.join(services)}")
    if (region or service != "iam") and not REGION.fullmatch(region):
        raise refuse("region must be a region code like us-east-1")
    if not ACCOUNT.fullmatch(account):
        raise refuse("account must be 12 digits")
    if not RESOURCES[service].fullmatch(resource):
        raise refuse(f"not a {service} resource")
    return Arn(partition, service, region, account, resource)
