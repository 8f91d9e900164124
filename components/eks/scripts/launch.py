"""The serving container's command: put the secrets the init container fetched into the environment (VLLM_API_KEY,
which vLLM checks on every /v1 route; HF_TOKEN), then become the server given as arguments. The key is never a
command-line argument (visible in the process list) nor a manifest value; without it the pod does not serve."""

import os
import sys

SECRETS = (("api-key", "VLLM_API_KEY", True), ("hf-token", "HF_TOKEN", False))
"""(file, environment variable, required)."""


def environment(folder: str, env: "os._Environ[str] | dict[str, str]") -> None:
    """Each secret file's content into its variable; a missing or empty required one stops the start."""
    for name, variable, required in SECRETS:
        path = os.path.join(folder, name)
        value = open(path).read().strip() if os.path.exists(path) else ""
        if value:
            env[variable] = value
        elif required:
            sys.exit(f"no {name} in {folder}: refusing to serve without it (the init container fetches it)")


if __name__ == "__main__":
    environment(os.environ["LLMFLEET_SECRETS_DIR"], os.environ)
    os.execvp(sys.argv[1], sys.argv[1:])
