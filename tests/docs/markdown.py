"""Reading the project's Markdown as GitHub renders it: what is prose and what is a fenced block, the relative links,
and the anchors GitHub gives headings."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
"""The README and every page under docs/."""
FENCE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`]*`")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")


@dataclass(frozen=True)
class Line:
    """One line of a page and whether it sits inside a fenced block (code, output), where nothing is Markdown."""

    number: int
    """1-based line number."""
    text: str
    """The line without its newline."""
    fenced: bool
    """Inside ``` or ~~~ fences (the fence lines themselves included)."""


def lines(path: Path) -> list[Line]:
    out, fenced = [], False
    for number, text in enumerate(path.read_text().splitlines(), 1):
        is_fence = bool(FENCE.match(text))
        out.append(Line(number, text, fenced or is_fence))
        if is_fence:
            fenced = not fenced
    return out


def links(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, target) of every link outside fenced blocks and inline code."""
    for line in lines(path):
        if not line.fenced:
            for match in LINK.finditer(INLINE_CODE.sub("", line.text)):
                yield line.number, match.group(1)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading's text: link targets and formatting dropped, lower case, punctuation other than
    '-' and '_' removed, spaces as '-'."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every anchor a page's headings give (a repeated heading gets -1, -2, ... as on GitHub)."""
    seen: dict[str, int] = {}
    found = set()
    for line in lines(path):
        match = None if line.fenced else HEADING.match(line.text)
        if match:
            base = slug(match.group(2))
            found.add(base if base not in seen else f"{base}-{seen[base]}")
            seen[base] = seen.get(base, 0) + 1
    return found


def fenced_blocks(path: Path) -> Iterator[tuple[str, list[str]]]:
    """(info string, body lines) of each fenced block, the body dedented as far as its fence."""
    info, indent, body = None, 0, []
    for text in path.read_text().splitlines():
        match = FENCE.match(text)
        if match and info is None:
            indent = len(text) - len(text.lstrip())
            info, body = text.strip()[3:].strip(), []
        elif match:
            yield info, body
            info = None
        elif info is not None:
            body.append(text[indent:])
