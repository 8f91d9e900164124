"""The pull-request report on inputs it did not write: escaped, numbers and text it cannot print refused, its output
never an input or a symlink (issue 22, hostile input round three)."""

from __future__ import annotations

import pytest

from tests.fuzz.harness import check, run_cli
from tests.fuzz.stack_copies import dev_copy, plan_json

pytestmark = pytest.mark.usefixtures("preflight_off")


def test_the_report_escapes_what_it_did_not_write(tmp_path):
    heading = "x\n## Approved by the security team\n[click](https://evil.example) <!-- llm-fleet-report -->"
    path = plan_json(
        tmp_path, lambda d: (d.update(model="llama\n# Approved"), d["alternatives"][0].update(why_lost=heading))
    )
    argv = ["report", str(path)]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == 0
    lines = outcome.out.splitlines()
    assert not [line for line in lines if line.startswith(("# Approved", "## Approved"))]
    assert outcome.out.count("<!-- llm-fleet-report -->") == 1 and "[click](https" not in outcome.out


@pytest.mark.parametrize("raw", ['"hourly_cost_usd": 1e999', '"model": "\\ud800"'])
def test_the_report_refuses_numbers_and_text_it_cannot_print(tmp_path, raw):
    path = plan_json(tmp_path, lambda d: None)
    text = path.read_text()
    key = raw.split(":")[0]
    start = text.index(key)
    end = text.index(",", start)
    path.write_text(text[:start] + raw + text[end:])
    argv = ["report", str(path)]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == 2 and "$inf" not in outcome.out


def test_report_output_is_never_an_input_or_a_symlink(tmp_path):
    stack = dev_copy(tmp_path)
    before = stack.read_text()
    for output, needle in ((str(stack), "is the input"), (str(tmp_path / "link.md"), "symbolic link")):
        if output.endswith("link.md"):
            (tmp_path / "link.md").symlink_to(tmp_path / "target.md")
        argv = ["report", str(stack), "--output", output]
        outcome = run_cli(argv)
        check(outcome, argv)
        assert outcome.code == 2 and needle in outcome.err
    assert stack.read_text() == before and not (tmp_path / "target.md").exists()
