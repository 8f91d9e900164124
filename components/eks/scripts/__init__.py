"""Small Python programs the fleet's pods run with the serving image's own interpreter (`python3 -c <source>`), kept
as modules here so that the tests run the very text the manifests carry."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def source(name: str) -> str:
    """The text of scripts/<name>.py, as a pod runs it."""
    return (HERE / f"{name}.py").read_text()
