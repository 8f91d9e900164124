"""`python -m policy` by hand (issue 21, item 6): the usage, not a port and a wait."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("argv", [["--help"], ["-h"]])
def test_help_prints_the_usage(argv):
    """Reproducer: `python -m policy` printed a port and waited."""
    done = subprocess.run(
        [sys.executable, "-m", "policy", *argv],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m policy")
    assert "pulumi preview --policy-pack policy" in done.stdout


def test_a_terminal_gets_the_usage_and_pulumi_a_port():
    import pty

    controller, terminal = pty.openpty()
    done = subprocess.run(
        [sys.executable, "-m", "policy"],
        check=False,
        cwd=ROOT,
        stdout=terminal,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    os.close(terminal)
    assert done.returncode == 0
    assert os.read(controller, 200).decode().startswith("usage: python -m policy")
    os.close(controller)
    from policy.__main__ import wants_usage

    assert not wants_usage([], stdout_is_terminal=False)  # Pulumi reads the port from a pipe
