"""Hypothesis profiles: `ci` (the default: a few hundred generated cases in all, well under a minute) and `long`
(`make fuzz`, or HYPOTHESIS_PROFILE=long)."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)
settings.register_profile(
    "ci", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "0")) or 100, derandomize=True, **COMMON
)
settings.register_profile("long", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "0")) or 5000, **COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def preflight_off(monkeypatch):
    """No AWS account is read: the embedded catalog stands in for pre-flight."""
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "off")
