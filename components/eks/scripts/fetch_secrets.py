"""Init container: read the API key (and the Hugging Face token, when one is configured) with the pod's own AWS role
(EKS Pod Identity or IRSA) into a memory-backed volume that only this pod mounts. The secrets' names come from the
environment; their values reach no manifest, log, argument or Pulumi state."""

import os

import boto3


def write(folder: str, name: str, value: str) -> None:
    """value into folder/name, readable by its owner only."""
    descriptor = os.open(os.path.join(folder, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(value)


def main(env: "os._Environ[str] | dict[str, str]") -> None:
    folder = env["LLMFLEET_SECRETS_DIR"]
    secrets = boto3.client("secretsmanager")
    write(folder, "api-key", secrets.get_secret_value(SecretId=env["LLMFLEET_API_KEY_SECRET"])["SecretString"])
    if env.get("LLMFLEET_HF_TOKEN_SECRET"):
        token = secrets.get_secret_value(SecretId=env["LLMFLEET_HF_TOKEN_SECRET"])["SecretString"]
        write(folder, "hf-token", token)
    elif env.get("LLMFLEET_HF_TOKEN_PARAMETER"):
        parameter = boto3.client("ssm").get_parameter(Name=env["LLMFLEET_HF_TOKEN_PARAMETER"], WithDecryption=True)
        write(folder, "hf-token", parameter["Parameter"]["Value"])


if __name__ == "__main__":
    main(os.environ)
