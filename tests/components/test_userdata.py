"""Golden files of the rendered bootstrap script: a single-node stack and a multi-node stack.
Regenerate after an intended change with UPDATE_GOLDEN=1."""

import os
from pathlib import Path

import pytest

from tests.components.conftest import stack_run, user_data

GOLDEN = Path(__file__).parent / "golden"


@pytest.mark.parametrize("stack", ["dev", "batch"])
def test_user_data_matches_golden(stack):
    rendered = user_data(stack_run(stack))
    golden = GOLDEN / f"userdata-{stack}.sh"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(rendered)
    assert rendered == golden.read_text()


def test_user_data_is_valid_bash(tmp_path):
    import subprocess

    for stack in ("dev", "prod", "batch"):
        script = tmp_path / f"{stack}.sh"
        script.write_text(user_data(stack_run(stack)))
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
