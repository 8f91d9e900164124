"""Init container: read the API key (and the Hugging Face token, when one is configured) with the pod's own AWS role
(EKS Pod Identity or IRSA) into a memory-backed volume that only this pod mounts. The secrets' names come from the
environment; their values reach no manifest, log, argument or Pulumi state. A failing call is retried a few times first:
on a LeaderWorkerSet, an init container that exits restarts the whole group."""

import os
import time

import boto3

ATTEMPTS = 5
"""Tries per secret: a new Pod Identity association takes seconds to reach the agent, and calls may be throttled."""
BACKOFF_S = 3.0
"""Seconds before the second try, doubling after each."""


def write(folder: str, name: str, value: str) -> None:
    """value into folder/name, readable by its owner only."""
    descriptor = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(value)


def retried(call, sleep=time.sleep):
    """call(), tried ATTEMPTS times with a doubling pause; the last failure is raised."""
    for attempt in range(ATTEMPTS):
        try:
            return call()
        except Exception:  # noqa: BLE001 - credentials not there yet, throttling, a network blip: all worth a retry
            if attempt == ATTEMPTS - 1:
                raise
            sleep(BACKOFF_S * 2**attempt)


def main(env: "os._Environ[str] | dict[str, str]", sleep=time.sleep) -> None:
    folder = env["LLMFLEET_SECRETS_DIR"]
    secrets = boto3.client("secretsmanager")

    def secret(arn: str) -> str:
        return retried(lambda: secrets.get_secret_value(SecretId=arn)["SecretString"], sleep)

    write(folder, "api-key", secret(env["LLMFLEET_API_KEY_SECRET"]))
    if env.get("LLMFLEET_HF_TOKEN_SECRET"):
        write(folder, "hf-token", secret(env["LLMFLEET_HF_TOKEN_SECRET"]))
    elif env.get("LLMFLEET_HF_TOKEN_PARAMETER"):
        ssm = boto3.client("ssm")
        parameter = retried(
            lambda: ssm.get_parameter(Name=env["LLMFLEET_HF_TOKEN_PARAMETER"], WithDecryption=True), sleep
        )
        write(folder, "hf-token", parameter["Parameter"]["Value"])


if __name__ == "__main__":
    main(os.environ)
