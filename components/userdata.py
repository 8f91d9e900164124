"""Rendering the node bootstrap script (user data) from the templates in components/bootstrap/."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from components.fleet_spec import NodeSpec
from components.options import FleetOptions, plain

BOOTSTRAP = Path(__file__).parent / "bootstrap"
HF_CACHE_IN_CONTAINER = "/models"


def _template(name: str) -> str:
    return (BOOTSTRAP / name).read_text()


def _fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    left = re.findall(r"\{\{(\w+)\}\}", text)
    if left:
        raise KeyError(f"bootstrap template placeholders without a value: {left}")
    return text


def _fetch_token(options: FleetOptions) -> str:
    w = options.weights
    if w.hf_token_secret_arn:
        return ("printf 'HF_TOKEN=%s\\n' \"$(aws secretsmanager get-secret-value --region \"$REGION\" "
                f"--secret-id {shlex.quote(plain(w.hf_token_secret_arn))} --query SecretString --output text)\" >/run/llmfleet/env")
    if w.hf_token_ssm_parameter:
        return ("printf 'HF_TOKEN=%s\\n' \"$(aws ssm get-parameter --region \"$REGION\" --with-decryption "
                f"--name {shlex.quote(plain(w.hf_token_ssm_parameter))} --query Parameter.Value --output text)\" >/run/llmfleet/env")
    return "# no Hugging Face token configured (public model or S3 weights)"


def _weights(options: FleetOptions, hf_repo: str | None, served_name: str) -> tuple[str, str]:
    """(shell lines that fetch the weights, the model reference vLLM is given)."""
    w = options.weights
    if w.s3_uri:
        local = f"/opt/llmfleet/models/{served_name}"
        return (f"aws s3 sync --only-show-errors --region \"$REGION\" {shlex.quote(w.s3_uri)} {shlex.quote(local)}",
                f"{HF_CACHE_IN_CONTAINER}/{served_name}")
    repo = w.hf_model_id or hf_repo
    if not repo:
        raise ValueError("no weights source: set llmfleet:fleet.weights.hf_model_id or .s3_uri for a model without a preset")
    return "# weights download from the Hugging Face hub on first start (cached in /opt/llmfleet/hf)", repo


def render_user_data(spec: NodeSpec, options: FleetOptions, fleet_name: str, hf_repo: str | None) -> str:
    """The bootstrap script for every node of the fleet."""
    fetch, model_ref = _weights(options, hf_repo, spec.served_model_name)
    values = {"image": shlex.quote(options.vllm_image), "model_ref": shlex.quote(model_ref),
              "vllm_args": " ".join(shlex.quote(a) for a in spec.vllm_args), "nodes": str(spec.nodes_per_replica)}
    run = _fill(_template("run_multi.sh" if spec.nodes_per_replica > 1 else "run_single.sh"), values)
    return _fill(_template("node.sh"), {
        "fleet": fleet_name, "served_model_name": spec.served_model_name, "fetch_token": _fetch_token(options),
        "fetch_weights": fetch, "image": values["image"], "run": run.rstrip("\n"),
    })
