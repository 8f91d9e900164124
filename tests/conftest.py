"""Shared helpers: the calibration rows in tests/data and the model configs they refer to; the example stacks' mocked
runs as fixtures (tests/stack_runs.py)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from sizing.models.hf_config import spec_from_file
from sizing.models.presets import load_preset
from tests.stack_runs import EC2_STACKS, STACKS, stack_run

if TYPE_CHECKING:
    from preview.mock_run import MockRun

DATA = Path(__file__).parent / "data"


def read_rows(name: str) -> list[dict[str, str]]:
    """Rows of a commented CSV in tests/data."""
    with open(DATA / name, newline="") as fh:
        return list(csv.DictReader(line for line in fh if not line.startswith("#")))


def test_config(name: str):
    """A ModelSpec from tests/data/configs."""
    return spec_from_file(DATA / "configs" / f"{name}.json")


test_config.__test__ = False  # a helper, not a test

CALIBRATION_MODELS = {
    "meta-llama/Llama-3.1-8B-Instruct": lambda: load_preset("llama-3.1-8b"),
    "RedHatAI/Meta-Llama-3.1-8B-Instruct-quantized.w4a16 (GPTQ group 128)": lambda: load_preset("llama-3.1-8b"),
    "Qwen/Qwen2.5-7B-Instruct": lambda: load_preset("qwen2.5-7b"),
    "google/gemma-2-9b-it": lambda: load_preset("gemma-2-9b"),
    "deepseek-ai/DeepSeek-V2-Lite-Chat (MLA)": lambda: test_config("deepseek-v2-lite"),
    "codellama/CodeLlama-7b-hf (MHA: 32 KV heads)": lambda: test_config("codellama-7b"),
    "meta-llama/Meta-Llama-3-8B": lambda: test_config("meta-llama-3-8b"),
}
"""Model column of vllm_memory.csv -> the ModelSpec it was measured with."""


@pytest.fixture
def llama8b():
    return load_preset("llama-3.1-8b")


@pytest.fixture
def no_aws_credentials(monkeypatch, tmp_path):
    """An environment with no AWS credentials anywhere (variables, profile files, instance metadata), pre-flight on."""
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # never probe an instance metadata service from a test
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "on")


TEST_COLUMNS = "120"
"""The terminal width tests read text output at: the CLI wraps to the terminal (80-120 columns), and a developer's
terminal, CI's pipe and pytest-xdist's workers differ."""


@pytest.fixture(autouse=True)
def _fixed_terminal_width(monkeypatch):
    monkeypatch.setenv("COLUMNS", TEST_COLUMNS)


@pytest.fixture(params=sorted(STACKS))
def any_stack(request) -> MockRun:
    """Each example stack's mocked run (tests/stack_runs.py)."""
    return stack_run(request.param)


@pytest.fixture(params=sorted(EC2_STACKS))
def ec2_stack(request) -> MockRun:
    """An example stack on platform ec2: its launch template, Auto Scaling group and load balancer."""
    return stack_run(request.param)
