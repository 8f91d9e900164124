"""Issue 21 (item 3): one source per concept. A layout is written out by `layout_label()` (sizing/memory/layout.py)
only; the engine's errors live in sizing/errors.py and each upper layer's in its own errors module; the names the fleet
uses come from sizing/names.py."""

from __future__ import annotations

import ast
import builtins
import importlib
import re
from pathlib import Path

import pytest

from sizing.errors import SizingError

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
                if (
                    isinstance(side, ast.Constant)
                    and isinstance(side.value, str)
                    and re.search(r"\b[TPD]P=$", side.value)
                ):
                    found.append(node.lineno)
    return found


def test_no_module_builds_a_layout_label_by_hand():
    offenders = [
        f"{p.relative_to(ROOT)}:{line}"
        for p in modules()
        if p != LABEL_HOME
        for line in hand_built_labels(p.read_text())
    ]
    assert not offenders, f"layout labels built by hand (use layout_label() or .parallel_label/.label): {offenders}"


@pytest.mark.parametrize(
    "source",
    [
        'x = f"{c.instance_type} TP={c.tensor_parallel} PP={c.pipeline_parallel}"',
        'x = (f"spans 2 nodes (TP={c.tensor_parallel} "\n     f"PP={c.pipeline_parallel})")',
        'x = f"TP={tp} DP={dp}"',
        'x = "TP=" + str(tp)',
    ],
)
def test_a_hand_built_label_is_caught(source):
    assert hand_built_labels(source)


def test_one_degree_in_a_rule_message_is_not_a_label():
    assert not hand_built_labels('x = f"32 attention heads are not divisible by TP={layout.tp}"')


ERROR_MODULES = {
    ROOT / "sizing" / "errors.py",
    ROOT / "deploy" / "errors.py",
    ROOT / "components" / "errors.py",
    ROOT / "policy" / "errors.py",
}
"""The engine's errors, and each upper layer's own (each deriving from the engine's SizingError)."""
BUILTIN_ERRORS = {
    name for name, value in vars(builtins).items() if isinstance(value, type) and issubclass(value, BaseException)
} | {"RunError"}
"""Bases that make a class an exception: Python's, and pulumi.RunError."""


def _base_names(node: ast.ClassDef) -> set[str]:
    return {b.id if isinstance(b, ast.Name) else b.attr for b in node.bases if isinstance(b, (ast.Name, ast.Attribute))}


def _classes(source: str) -> list[ast.ClassDef]:
    return [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef)]


def error_classes_outside(sources: dict[Path, str]) -> list[str]:
    """Exception classes defined outside the errors modules (`path:line Name`), in modules given with their source."""
    errors = set(BUILTIN_ERRORS) | {c.name for p in ERROR_MODULES for c in _classes(p.read_text())}
    return [
        f"{p.relative_to(ROOT)}:{c.lineno} {c.name}"
        for p, text in sources.items()
        if p not in ERROR_MODULES
        for c in _classes(text)
        if _base_names(c) & errors
    ]


def test_error_classes_live_in_the_errors_modules():
    outside = error_classes_outside({p: p.read_text() for p in modules()})
    assert not outside, f"error classes outside sizing/errors.py and the layers' errors modules: {outside}"


def test_an_error_class_elsewhere_is_caught():
    stray = {
        ROOT / "sizing" / "stray.py": "class StrayError(InvalidInputError):\n    pass\n",
        ROOT / "deploy" / "stray.py": "class Stray(pulumi.RunError):\n    pass\n",
    }
    assert error_classes_outside(stray) == ["sizing/stray.py:1 StrayError", "deploy/stray.py:1 Stray"]


@pytest.mark.parametrize("path", sorted(ERROR_MODULES - {ROOT / "sizing" / "errors.py"}))
def test_the_layers_errors_derive_from_the_engines_base(path):
    module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    classes = [v for v in vars(module).values() if isinstance(v, type) and v.__module__ == module.__name__]
    assert classes and all(issubclass(c, SizingError) for c in classes)


@pytest.mark.parametrize(
    "name, old_home",
    [
        ("InputFileError", "sizing.bounded"),
        ("OutputFileError", "sizing.files"),
        ("RecheckError", "sizing.planner.recheck"),
        ("CalibrationRefused", "sizing.calibration.fit"),
        ("CalibrationFileError", "sizing.calibration.store"),
        ("ResultFileError", "sizing.calibration.results"),
        ("CorruptEntry", "sizing.live.cache"),
        ("PlanLockError", "deploy.plan_lock"),
        ("ConfigError", "deploy.stack_config"),
        ("StackFileError", "deploy.stack_file"),
        ("PlatformError", "deploy.fleet_spec"),
        ("QuotaShortfallError", "deploy.preflight"),
        ("UnsafeShellValueError", "deploy.shell_values"),
        ("MissingPrerequisiteError", "deploy.eks_prerequisites"),
    ],
)
def test_the_moved_names_are_still_importable_where_they_were(name, old_home):
    assert getattr(importlib.import_module(old_home), name).__module__.endswith(".errors")


NAMES_HOME = ROOT / "sizing" / "names.py"
"""Where the names the fleet uses are defined."""
FLEET_NAMES = {"llmfleet", "llm-fleet", "LLMFleet", "llmfleet:", "llm-fleet.io/", "llmfleet:fleet", "llmfleet:model"}
"""The project's names as values (in prose, a message naming `llmfleet:fleet.vpc_id` is text, not a name)."""


def spelled_out_names(source: str) -> list[int]:
    """Lines where a fleet name is written as a string of its own instead of imported from sizing/names.py."""
    return [
        n.lineno
        for n in ast.walk(ast.parse(source))
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in FLEET_NAMES
    ]


def test_the_fleets_names_have_one_source():
    offenders = [
        f"{p.relative_to(ROOT)}:{line}"
        for p in modules()
        if p != NAMES_HOME
        for line in spelled_out_names(p.read_text())
    ]
    assert not offenders, f"fleet names spelled out (import them from sizing/names.py): {offenders}"


def test_a_spelled_out_name_is_caught():
    assert spelled_out_names('NAMESPACE = "llm-fleet"\nTAGS = {"managed-by": "llm-fleet"}') == [1, 2]


def test_the_project_name_is_pulumi_yamls():
    from sizing import names

    assert re.search(r"^name: (\S+)$", (ROOT / "Pulumi.yaml").read_text(), re.MULTILINE).group(1) == names.PACKAGE


def test_the_plan_lock_is_the_lock_file_only():
    """deploy/plan_lock.py reads, writes and verifies the lock and decides between it and a fresh plan; planning a stack
    (pre-flight, the fresh plan, quotas) is deploy/stack_plan.py's, whose names stay importable from the lock module."""
    from deploy import plan_lock, stack_plan

    imported = {
        n.module
        for n in ast.walk(ast.parse((ROOT / "deploy" / "plan_lock.py").read_text()))
        if isinstance(n, ast.ImportFrom)
    }
    assert not imported & {"deploy.preflight", "deploy.fleet_spec", "sizing.planner.plan", "sizing.live.preflight"}
    for name in plan_lock.MOVED_TO_STACK_PLAN:
        assert getattr(plan_lock, name) is getattr(stack_plan, name)


class _Documented:
    """A class written the way the models are: a field, then its docstring."""

    plain: int = 1
    """One line."""
    spread: dict[
        str,
        int,
    ] = {}
    """A declaration over several lines, its string
    over two."""


class _Refined(_Documented):
    """A subclass: its own fields, its base's documented ones."""

    extra: str = ""
    """Added here."""


def test_one_field_docstring_reader_serves_the_cli_and_the_package():
    """Issue 21 (item 3): the command line's help and the generated package types read field docstrings one way."""
    import provider.codegen
    import provider.stack_keys
    import sizing.cli.fields
    from sizing.field_docs import field_docs

    readers = {m.__name__: m.field_docs for m in (provider.codegen, provider.stack_keys, sizing.cli.fields)}
    assert all(reader is field_docs for reader in readers.values()), readers
    definitions = [
        p.relative_to(ROOT) for p in modules() if re.search(r"^def field_docs\(", p.read_text(), re.MULTILINE)
    ]
    assert definitions == [Path("sizing/field_docs.py")]


def test_the_reader_takes_multi_line_declarations_and_inherited_fields():
    from sizing.field_docs import field_docs

    assert field_docs(_Refined) == {
        "plain": "One line.",
        "spread": "A declaration over several lines, its string over two.",
        "extra": "Added here.",
    }
