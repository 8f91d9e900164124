"""The README's `python -m sizing plan` commands run as written, and the answer shown under each (the `Choice:` line,
or the JSON keys shown) is what the command prints today. Only the first line of an answer is pinned: the rest of the
shortened outputs is illustration."""

from __future__ import annotations

import json
import shlex

import pytest

from sizing.cli.main import main
from tests.docs.markdown import ROOT, fenced_blocks

PLAN = "python -m sizing plan"
WRITES_FILES = ("--update-lock",)
"""Options that would rewrite files in the checkout: such a command is not run here (tests/components covers it)."""


def _logical_lines(body: list[str]) -> list[str]:
    """A block's lines with shell continuations (a trailing backslash) joined."""
    joined: list[str] = []
    for text in body:
        if joined and joined[-1].endswith("\\"):
            joined[-1] = joined[-1][:-1].rstrip() + " " + text.strip()
        else:
            joined.append(text)
    return joined


def readme_examples() -> list[tuple[str, str | None]]:
    """(command, the answer shown after it or None) for each `python -m sizing plan` in the README's fenced blocks; an
    answer is the next `Choice:` line (in the output block or a comment) or, after --json, a `"key": value, ...`
    comment, before the next command."""
    found: list[tuple[str, str | None]] = []
    for info, body in fenced_blocks(ROOT / "README.md"):
        if info not in ("bash", ""):
            continue
        for text in _logical_lines(body):
            shown = text.lstrip("# ").strip()
            if text.startswith(PLAN):
                found.append((" ".join(text.split("  #")[0].split()), None))
            elif found and found[-1][1] is None and shown.startswith(("Choice:", '"')):
                found[-1] = (found[-1][0], shown)
    return found


EXAMPLES = readme_examples()


def test_the_readme_has_five_plan_examples_and_a_stack():
    commands = [c for c, _ in EXAMPLES]
    assert len([c for c in commands if "--stack" not in c and "--help" not in c]) >= 5
    assert any("--stack" in c for c in commands)


@pytest.mark.parametrize(("command", "shown"), EXAMPLES, ids=[c[len(PLAN) :].strip()[:60] for c, _ in EXAMPLES])
def test_readme_plan_example(command: str, shown: str | None, capsys, monkeypatch):
    if any(flag in command for flag in WRITES_FILES):
        pytest.skip("rewrites a file in the checkout")
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "off")  # the embedded catalog: no AWS call from a test
    argv = shlex.split(command)[3:]
    try:
        code = main(argv)
    except SystemExit as exc:  # --help
        code = exc.code
    out = capsys.readouterr().out
    assert code == 0, f"README: `{command}` exits {code}. To fix: update the example."
    if shown is None:
        return
    if shown.startswith('"'):
        expected = json.loads("{" + shown.removesuffix("...").strip().rstrip(",") + "}")
        plan = json.loads(out)
        assert {k: plan[k] for k in expected} == expected, f"README: `{command}`. To fix: update the keys shown."
    else:
        printed = next(line.strip() for line in out.splitlines() if line.startswith("Choice:"))
        assert printed == shown, f"README: `{command}` now answers {printed!r}. To fix: update the README line."
