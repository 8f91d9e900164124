"""A terminal that cannot show a character gets an escape; Ctrl-C exits 130 with one line (issue 22)."""

from __future__ import annotations

import io
import runpy
import sys

import pytest

from sizing.cli import render
from tests.fuzz.stack_copies import DEV

pytestmark = pytest.mark.usefixtures("preflight_off")


def test_a_terminal_that_cannot_show_an_arrow_gets_an_escape(monkeypatch):
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    render.emit("a → b")
    stream.flush()
    assert stream.buffer.getvalue() == b"a \\u2192 b\n"


@pytest.mark.parametrize("module", ["sizing", "preview"])
def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys, module):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    target = "sizing.cli.main" if module == "sizing" else "preview.mock_run"
    monkeypatch.setattr(sys.modules[target], "main" if module == "sizing" else "run_stack", interrupted)
    if module == "preview":
        monkeypatch.setattr("preview.__main__.run_stack", interrupted)
    monkeypatch.setattr(sys, "argv", [module, "plan"] if module == "sizing" else [module, str(DEV)])
    sys.modules.pop(f"{module}.__main__", None) if module == "sizing" else None
    with pytest.raises(SystemExit) as done:
        runpy.run_module(f"{module}.__main__", run_name="__main__")
    assert done.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"
