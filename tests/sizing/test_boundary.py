"""Layers import only downward: sizing (the engine) < deploy (stack config, fleet spec, plan lock, pre-flight wiring:
no resources) < components (the Pulumi resources) < provider and policy < preview. Every import of every module is read,
those inside functions included; the engine is also imported in a fresh interpreter to show it pulls in neither pulumi
nor boto3."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = {"sizing": 0, "deploy": 1, "components": 2, "policy": 3, "provider": 3, "preview": 4}
"""Each package's layer: a module may import its own layer and those below, never one above or beside it."""
RESOURCE_PACKAGES = ("pulumi_aws", "pulumi_kubernetes", "pulumi_eks")
"""What creates resources: deploy/ and sizing/ never import them."""
ENGINE_FORBIDDEN = ("pulumi", "pulumi_aws", "pulumi_kubernetes", "boto3", "botocore", "yaml")
"""What the engine never loads: Pulumi and boto3 are extras it installs without; PyYAML (a dependency, for stack
files) is read by deploy/ only, and loading it would slow every command."""
KNOWN_UPWARD: frozenset[tuple[str, str]] = frozenset()
"""Exceptions to the rule: none. `plan --stack` and `report` are registered by deploy/ and preview/ through entry
points (sizing/cli/plugins.py), not imported by the CLI."""

PROBE = """
import importlib, pkgutil, sys
import sizing
for mod in pkgutil.walk_packages(sizing.__path__, 'sizing.'):
    if mod.name != 'sizing.__main__':
        importlib.import_module(mod.name)
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'boto3', 'botocore'))
print(','.join(bad))
"""


def imports_of(path: Path) -> list[str]:
    """Every absolute module a file imports, at any depth (function bodies and TYPE_CHECKING blocks included)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append(node.module)
    return found


def upward_imports(root: Path) -> list[str]:
    """'file: imports module' for every import that goes up or sideways between layers."""
    bad = []
    for package, rank in LAYERS.items():
        for path in sorted((root / package).rglob("*.py")):
            relative = path.relative_to(root).as_posix()
            for module in imports_of(path):
                top = module.split(".")[0]
                upward = LAYERS.get(top, -1) >= rank and top != package
                resources = rank <= LAYERS["deploy"] and top in RESOURCE_PACKAGES
                if (upward or resources) and (relative, module) not in KNOWN_UPWARD:
                    bad.append(f"{relative}: imports {module}")
    return bad


def test_sizing_imports_neither_pulumi_nor_boto3():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_layers_import_only_downward():
    assert upward_imports(ROOT) == []


def test_the_engine_names_no_pulumi_boto3_or_yaml_at_module_level():
    """boto3 is imported inside the functions that need it (the engine installs without it), PyYAML nowhere."""
    bad = []
    for path in sorted((ROOT / "sizing").rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module]
                if isinstance(node, ast.ImportFrom) and node.module
                else []
            )
            bad += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in ENGINE_FORBIDDEN]
    assert bad == []


@pytest.mark.parametrize(
    ("package", "line"),
    [
        ("deploy", "from components.fleet import ServingFleet\n"),  # deploy sits below the resources
        ("deploy", "def f():\n    import pulumi_aws\n"),  # and creates none, also inside a function
        ("sizing", "def f():\n    from deploy.plan_lock import read_lock\n"),  # the engine sits below deploy
        ("sizing", "def report():\n    from preview.cli import report_command\n"),  # as sizing/cli once reached up
        ("sizing", "if TYPE_CHECKING:\n    import components.fleet\n"),  # type-only imports count too
        ("components", "from preview.report import render\n"),
    ],
)
def test_the_layer_check_fails_on_an_upward_import(tmp_path, package, line):
    for name in LAYERS:
        (tmp_path / name).mkdir()
    (tmp_path / package / "probe.py").write_text(line)
    assert upward_imports(tmp_path) == [f"{package}/probe.py: imports {imports_of(tmp_path / package / 'probe.py')[0]}"]
