"""The README and docs/ hold together: every relative link resolves to a file, and to a heading where it names an
anchor; the README stays a short guide (at most 250 lines of at most 120 columns)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.markdown import PAGES, ROOT, anchors, lines, links

README_MAX_LINES = 250
"""The README a newcomer reads in ten minutes (issue 21, item 5); everything else goes to docs/."""
WIDTH = 120
"""The project's line length."""
PENDING: dict[Path, str] = {}
"""Pages the README already lists that another branch writes: a link to one is skipped (not failed) until it lands."""


def _targets() -> list[tuple[Path, int, str]]:
    return [
        (page, number, target)
        for page in PAGES
        for number, target in links(page)
        if not target.startswith(("http://", "https://", "mailto:"))
    ]


@pytest.mark.parametrize(
    ("page", "number", "target"),
    _targets(),
    ids=lambda v: v.relative_to(ROOT).as_posix() if isinstance(v, Path) else str(v),
)
def test_relative_link_resolves(page: Path, number: int, target: str):
    path, _, anchor = target.partition("#")
    file = (page.parent / path).resolve() if path else page
    if file in PENDING and not file.exists():
        pytest.skip(f"{file.name} comes with {PENDING[file]}")
    where = f"{page.relative_to(ROOT)}:{number}: [{target}]"
    assert file.exists(), f"{where} names a missing file. To fix: correct the path or add the page."
    if anchor:
        assert file.suffix == ".md", f"{where}: anchors are checked in Markdown pages only"
        assert anchor in anchors(file), (
            f"{where}: {file.name} has no heading with anchor #{anchor}. To fix: one of {sorted(anchors(file))}."
        )


def test_every_page_under_docs_is_reachable_from_the_readme():
    """A page no link reaches is lost: each one is linked from the README or from a page the README links."""
    reached, todo = set(), [ROOT / "README.md"]
    while todo:
        page = todo.pop()
        if page in reached or not page.exists() or page.suffix != ".md":
            continue
        reached.add(page)
        todo += [
            (page.parent / t.partition("#")[0]).resolve() for _, t in links(page) if not t.startswith(("http", "#"))
        ]
    assert not set(PAGES) - reached, "To fix: link these from the README or a page it links"


def test_readme_is_short_and_fits_the_width():
    """At most 250 lines, every one (tables and examples included) within 120 columns."""
    text = (ROOT / "README.md").read_text().splitlines()
    assert len(text) <= README_MAX_LINES, f"README.md has {len(text)} lines. To fix: move detail to a page under docs/."
    long = [number for number, line in enumerate(text, 1) if len(line) > WIDTH]
    assert not long, f"README.md: lines {long} are over {WIDTH} columns. To fix: wrap or shorten them."


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_prose_is_wrapped(page: Path):
    """Prose lines fit the project's width; tables, fenced blocks (program output) and generated pages are exempt."""
    if "<!-- GENERATED" in page.read_text():
        pytest.skip("generated page")
    long = [
        line.number
        for line in lines(page)
        if len(line.text) > WIDTH and not line.fenced and not line.text.lstrip().startswith("|")
    ]
    assert not long, f"{page.relative_to(ROOT)}: lines {long} are over {WIDTH} columns. To fix: wrap them."


def test_anchor_rule_matches_github():
    """GitHub's rule on the headings these pages use: formatting and punctuation dropped, '-' and '_' kept."""
    from tests.docs.markdown import slug

    assert slug("Benchmarks (`make bench`, 2-core machine)") == "benchmarks-make-bench-2-core-machine"
    assert slug("`llmfleet:fleet.weights`") == "llmfleetfleetweights"
    assert slug("The PR workflow's cloud preview") == "the-pr-workflows-cloud-preview"
    assert slug("Verified here (`make test`)") == "verified-here-make-test"
