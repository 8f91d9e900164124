"""`python -m preview --help` (issue 21, item 6): the usage, and an option is never read as a stack file."""

import pytest

from preview.__main__ import main


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["stacks/Pulumi.dev.yaml", "--help"]])
def test_help_prints_the_usage(capsys, argv):
    """Reproducer: `python -m preview --help` took --help for a file name."""
    assert main(argv) == 0
    assert capsys.readouterr().out.startswith("usage: python -m preview")


def test_an_unknown_option_is_bad_input(capsys):
    assert main(["--json"]) == 2
    err = capsys.readouterr().err
    assert "unknown option '--json'" in err and "To fix" in err


def test_the_preview_text_fits_a_120_column_terminal(capsys, monkeypatch):
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "off")
    assert main(["stacks/Pulumi.dev.yaml"]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) <= 120
