"""Issue 21 (item 3): one source per concept. A layout is written out by `layout_label()` (sizing/memory/layout.py)
only; the engine's errors live in sizing/errors.py and each upper layer's in its own errors module; the names the fleet
uses come from deploy/names.py."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("sizing", "deploy", "components", "preview", "policy", "provider")
"""The project's code: every module of these packages, and the Pulumi program."""
LABEL_HOME = ROOT / "sizing" / "memory" / "layout.py"
"""Where the one layout renderer lives."""
DEGREE = re.compile(r"\b(TP|PP|DP)=\{\}")
"""A parallel degree formatted into a string: 'TP={}' once the f-string's values are blanked."""


def modules() -> list[Path]:
    return sorted([p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")] + [ROOT / "__main__.py"])


def _literal(node: ast.JoinedStr) -> str:
    """An f-string's text with every formatted value as '{}' (adjacent literals are one node already)."""
    return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


def hand_built_labels(source: str) -> list[int]:
    """Lines where a layout label is built by hand: an f-string formatting two parallel degrees ('TP={tp} PP={pp}'),
    or a DP degree, or 'TP=' / 'PP=' glued to a value with '+'. One degree named alone (vLLM's 'heads are not divisible
    by TP=4') is a rule's message, not a layout."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.JoinedStr):
            degrees = {m.group(1) for m in DEGREE.finditer(_literal(node))}
            if len(degrees) > 1 or "DP" in degrees:
                found.append(node.lineno)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            for side in (node.left, node.right):
                if isinstance(side, ast.Constant) and isinstance(side.value, str) and re.search(r"\b[TPD]P=$",
                                                                                               side.value):
                    found.append(node.lineno)
    return found


def test_no_module_builds_a_layout_label_by_hand():
    offenders = [f"{p.relative_to(ROOT)}:{line}" for p in modules() if p != LABEL_HOME
                 for line in hand_built_labels(p.read_text())]
    assert not offenders, f"layout labels built by hand (use layout_label() or .parallel_label/.label): {offenders}"


@pytest.mark.parametrize("source", [
    'x = f"{c.instance_type} TP={c.tensor_parallel} PP={c.pipeline_parallel}"',
    'x = (f"spans 2 nodes (TP={c.tensor_parallel} "\n     f"PP={c.pipeline_parallel})")',
    'x = f"TP={tp} DP={dp}"',
    'x = "TP=" + str(tp)',
])
def test_a_hand_built_label_is_caught(source):
    assert hand_built_labels(source)


def test_one_degree_in_a_rule_message_is_not_a_label():
    assert not hand_built_labels('x = f"32 attention heads are not divisible by TP={layout.tp}"')
