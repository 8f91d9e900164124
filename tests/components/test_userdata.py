"""Golden file of the rendered bootstrap script (the dev stack's). Regenerate after an intended change with
UPDATE_GOLDEN=1."""

import os
from pathlib import Path

from tests.stack_runs import EC2_STACKS, stack_run, user_data

GOLDEN = Path(__file__).parent / "golden"


def test_user_data_matches_golden():
    rendered = user_data(stack_run("dev"))
    golden = GOLDEN / "userdata-dev.sh"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(rendered)
    assert rendered == golden.read_text()


def test_user_data_is_valid_bash(tmp_path):
    import subprocess

    for stack in EC2_STACKS:
        script = tmp_path / f"{stack}.sh"
        script.write_text(user_data(stack_run(stack)))
        assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0
