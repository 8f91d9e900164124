"""The engine stays pure: importing all of sizing/ pulls in neither pulumi nor boto3 (checked in a fresh interpreter)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import importlib, pkgutil, sys
import sizing
for mod in pkgutil.walk_packages(sizing.__path__, 'sizing.'):
    if mod.name != 'sizing.__main__':
        importlib.import_module(mod.name)
bad = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_aws', 'boto3', 'botocore'))
print(','.join(bad))
"""


def test_sizing_imports_neither_pulumi_nor_boto3():
    result = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
