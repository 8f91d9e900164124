"""Pre-flight under faults: corrupt or hostile cache files, and AWS that is unreachable, stalls, answers garbage or is
misconfigured. Every case falls back to the embedded catalog within the deadline, says so, and never prices a bad
fact."""

from __future__ import annotations

import json
import threading
import time

import pytest

from sizing.live import cache
from sizing.live.preflight import FAILURE_KIND, PreflightOptions, gather
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload

REGION, TYPES, ZONES = "us-east-1", ["g5.xlarge"], ["us-east-1a", "us-east-1b"]
SPOT_KEY = ("spot_prices", REGION, (tuple(TYPES), tuple(ZONES)))
ZONES_KEY = ("zones", REGION, ())


class Broken:
    """A client factory whose every call fails (or stalls) the way `fault` says."""

    def __init__(self, fault: str) -> None:
        self.fault, self.calls = fault, 0

    def __call__(self, service: str):
        if self.fault == "bad client":
            raise ValueError("Invalid endpoint: http://[::1")
        return self

    def _fail(self, *_, **__):
        self.calls += 1
        if self.fault == "stall":
            time.sleep(60)
        if self.fault == "garbage":
            return {"Unexpected": "<html>proxy error</html>"}
        raise ConnectionError("could not connect to the endpoint URL")

    def __getattr__(self, name):
        if name == "get_paginator":
            return lambda *_: type("P", (), {"paginate": lambda *a, **k: iter([self._fail()])})()
        return self._fail


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "on")
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path))
    return tmp_path


def _raw(cache_dir, key, text: str) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    cache._path(cache_dir, key).write_text(text)


def _entry(value, epoch: float | str = "now") -> str:
    epoch = time.time() if epoch == "now" else epoch
    return json.dumps({"fetched_at": "2026-11-27T00:00:00+00:00", "fetched_epoch": epoch, "value": value})


CORRUPT = {
    "a list": "[]",
    "empty object": "{}",
    "truncated": _entry({"g5.xlarge": 0.4})[:30],
    "binary": "\udcff".encode("utf-8", "surrogateescape").decode("latin-1") + "\x00",
    "negative price": _entry({"g5.xlarge": -1}),
    "zero price": _entry({"g5.xlarge": 0}),
    "NaN price": _entry({"g5.xlarge": "NaN"}).replace('"NaN"', "NaN"),
    "inf price": _entry({"g5.xlarge": 1e400}),
    "string price": _entry({"g5.xlarge": "cheap"}),
    "value a list": _entry([1, 2]),
    "epoch a string": json.dumps({"fetched_at": "x", "fetched_epoch": "yesterday", "value": {}}),
    "deep": "[" * 5000 + "]" * 5000,
}


@pytest.mark.parametrize("case", sorted(CORRUPT))
def test_corrupt_cache_is_discarded_with_a_notice_never_used(cache_dir, case):
    _raw(cache_dir, ZONES_KEY, _entry(ZONES))
    _raw(cache_dir, SPOT_KEY, CORRUPT[case])
    facts = gather(REGION, (), TYPES, PreflightOptions(), Broken("unreachable"))
    assert facts.spot_usd_per_hour == {}
    assert any("discarded" in n for n in facts.notices), facts.notices
    assert not cache._path(cache_dir, SPOT_KEY).exists()
    p = plan(
        PlanRequest(
            model=load_preset("llama-3.1-8b"),
            workload=Workload(kind="batch"),
            deployment=Deployment(instance_types=("g5.xlarge",), facts=facts),
        )
    )
    assert p.hourly_cost_usd > 0


@pytest.mark.parametrize("epoch", [float("nan"), time.time() + 86_400], ids=["nan", "a-day-ahead"])
def test_nan_or_future_timestamp_counts_as_expired(cache_dir, epoch):
    _raw(cache_dir, ZONES_KEY, _entry(ZONES, epoch).replace("NaN", "NaN"))
    broken = Broken("unreachable")
    facts = gather(REGION, (), TYPES, PreflightOptions(), broken)
    assert broken.calls == 1  # the entry was not trusted: AWS was asked
    assert {p.origin for p in facts.provenance.values()} == {"embedded"}


@pytest.mark.parametrize("fault", ["unreachable", "garbage", "bad client"])
def test_aws_fault_falls_back_saying_so_once(cache_dir, fault):
    facts = gather(REGION, (), TYPES, PreflightOptions(), Broken(fault))
    assert {p.origin for p in facts.provenance.values()} == {"embedded"}
    assert len([n for n in facts.notices if "failed" in n]) == 1, facts.notices


def test_stalling_endpoint_is_cut_at_the_deadline_and_the_failure_cached(cache_dir):
    start = time.monotonic()
    facts = gather(REGION, (), TYPES, PreflightOptions(), Broken("stall"), deadline_s=0.5)
    assert time.monotonic() - start < 2
    assert "deadline" in facts.notices[0]
    again = Broken("unreachable")
    facts = gather(REGION, (), TYPES, PreflightOptions(), again)
    assert again.calls == 0 and "failed recently" in facts.notices[0]
    assert cache._path(cache_dir, (FAILURE_KIND, REGION)).exists()


@pytest.mark.parametrize(
    "env",
    [
        {"AWS_PROFILE": "does-not-exist"},
        {"AWS_ENDPOINT_URL": "http://[::1", "AWS_ACCESS_KEY_ID": "AKIA" + "X" * 16, "AWS_SECRET_ACCESS_KEY": "x"},
    ],
)
def test_bad_profile_or_endpoint_falls_back(cache_dir, monkeypatch, tmp_path, env):
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    facts = gather(REGION, (), TYPES, PreflightOptions())
    assert {p.origin for p in facts.provenance.values()} == {"embedded"}
    assert "AWS setup failed" in facts.notices[0] and "AKIA" not in facts.notices[0]


def test_concurrent_writers_never_leave_a_half_written_entry(tmp_path):
    errors = []

    def write() -> None:
        for i in range(40):
            cache.write(tmp_path, SPOT_KEY, {"g5.xlarge": 0.1 + i, "pad": "x" * 20000}, "2026-11-27T00:00:00+00:00")

    def read() -> None:
        for _ in range(200):
            try:
                cache.read(tmp_path, SPOT_KEY, 60)
            except cache.CorruptEntry as exc:
                errors.append(exc)

    threads = [threading.Thread(target=f) for f in (write, write, write, read, read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.parametrize(
    "zone",
    [
        "us-east-1a\x1b[2J",
        "# Approved by the security team",
        "us-east-1a\nus-east-1b",
        "us east 1a",
        "US-EAST-1A",
        "x" * 65,
    ],
)
def test_a_poisoned_cached_zone_name_is_discarded_never_shown(cache_dir, zone):
    """Issue 22: a cached zone name with an escape, a Markdown heading or a line break reached the terminal and the PR
    report. Zone names must look like AWS's (us-east-1a, us-west-2-lax-1a); anything else discards the entry."""
    _raw(cache_dir, ZONES_KEY, _entry([zone]))
    facts = gather(REGION, (), TYPES, PreflightOptions(), Broken("unreachable"))
    assert zone not in facts.zones and not any(zone in n for n in facts.notices)
    assert any("discarded" in n for n in facts.notices) and not cache._path(cache_dir, ZONES_KEY).exists()


@pytest.mark.parametrize("zones", [["us-east-1a", "us-east-1b"], ["us-west-2-lax-1a"], ["us-east-1-wl1-bos-wlz-1"]])
def test_availability_local_and_wavelength_zone_names_are_read_from_the_cache(cache_dir, zones):
    _raw(cache_dir, ZONES_KEY, _entry(zones))
    facts = gather(REGION, (), TYPES, PreflightOptions(), Broken("unreachable"))
    assert list(facts.zones) == zones


def test_an_offering_keyed_by_a_poisoned_type_name_is_discarded(cache_dir):
    key = ("offerings", REGION, (tuple(TYPES), tuple(ZONES)))
    _raw(cache_dir, ZONES_KEY, _entry(ZONES))
    _raw(cache_dir, key, _entry({"g5.xlarge\x1b]0;owned\x07": ZONES}))
    facts = gather(REGION, (), TYPES, PreflightOptions(), Broken("unreachable"))
    assert facts.offered_zones is None and any("discarded" in n for n in facts.notices)
    assert not any("owned" in n or "\x1b" in n for n in facts.notices)
