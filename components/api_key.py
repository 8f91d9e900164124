"""The API key clients send: a Secrets Manager secret, the stack's own or one the fleet creates. Both platforms read
it at start-up with their own role (the EC2 node's instance profile, the EKS pods' Pod Identity or IRSA role)."""

from __future__ import annotations

import secrets

import pulumi
import pulumi_aws as aws

from deploy.fleet_spec import creates_api_key_secret
from deploy.options import FleetOptions

API_KEY_BYTES = 32
"""Entropy of a generated API key (secrets.token_urlsafe)."""


def api_key_secret(
    name: str, options: FleetOptions, tags: dict[str, str], child: pulumi.ResourceOptions
) -> pulumi.Input[str]:
    """The ARN of the API-key secret: the given one, or one created with a random key. The fleet fetches it by this
    ARN and its role grants exactly it. Its value stays out of user data and outputs; clients read it from
    Secrets Manager. A created secret takes a generated name suffix (name_prefix): a deleted secret's name stays
    taken for its 7-30 day recovery window
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html), so a fixed name would
    make `pulumi up` fail after a `pulumi destroy` of the stack, and on any replacement of the secret."""
    if not creates_api_key_secret(options) and options.api_key_secret_arn:
        return options.api_key_secret_arn
    secret = aws.secretsmanager.Secret(
        f"{name}-api-key",
        name_prefix=f"llmfleet/{pulumi.get_project()}/{name}/api-key-",
        tags=tags,
        opts=child,
        description=f"API key clients send to the llm-fleet endpoint of {name}",
    )
    aws.secretsmanager.SecretVersion(
        f"{name}-api-key",
        secret_id=secret.id,
        secret_string=pulumi.Output.secret(secrets.token_urlsafe(API_KEY_BYTES)),
        opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=["secretString"])),
    )
    return secret.arn
