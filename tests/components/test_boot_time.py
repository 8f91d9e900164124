"""Boot measured and waited for: the weights disk, the cold start term by term, and a ready deadline with room for slow
pulls and downloads (issue 10's review against the AWS and vLLM documentation)."""

from __future__ import annotations

import re

import pytest

from sizing.catalog.assumptions import default_assumptions
from sizing.catalog.instances import get_instance_type
from sizing.cli.main import main
from sizing.planner.cold_start import plan_cold_start, weights_disk
from tests.stack_runs import STACKS, stack_run, user_data


# Boot measured and waited for.
def test_weights_on_instance_store_else_gp3_sized_from_the_download():
    a = default_assumptions()
    assert weights_disk(get_instance_type("p5.48xlarge"), 140e9, a).kind == "instance-store"
    disk = weights_disk(get_instance_type("g6.xlarge"), 300e9, a)  # 250 GB local disk: too small
    assert disk.kind == "gp3" and disk.gp3_throughput_mibps > 125  # not the 125 MiB/s default
    ebs = stack_run("dev").one("LaunchTemplate").inputs["blockDeviceMappings"][0]["ebs"]
    assert "throughput" not in ebs or ebs["throughput"] > 125


def test_cold_start_is_explained_term_by_term(capsys):
    plan = stack_run("prod").plan
    terms = plan_cold_start(plan).explain()
    assert [t.split()[0] for t in terms] == ["instance", "image", "download", "load", "engine", "total"]
    assert "limited by the" in terms[2]
    assert plan_cold_start(plan).total_s == pytest.approx(plan.choice.cold_start_s)  # the planner prices the same
    assert main(["plan", "--stack", str(STACKS["prod"])]) == 0
    assert "cold start, term by term: instance boot" in capsys.readouterr().out


SLOW_FACTOR = 4
"""How much slower than predicted the estimated terms may run (image pull: an assumption; download: a NIC efficiency
estimate and a hub rate) before a node misses its deadline."""


def test_ready_deadline_survives_slow_pulls_and_downloads(ec2_stack):
    """The launch hook ABANDONs a node that is not serving by its deadline, and every replacement is as slow: a
    deadline with no room for the estimated terms running slower replaces nodes forever. Each example stack's node
    deadline holds with the image pull and the download SLOW_FACTOR times slower than predicted."""
    cold = plan_cold_start(ec2_stack.plan)
    slow = cold.total_s + (SLOW_FACTOR - 1) * (cold.image_pull_s + cold.download_s)
    deadline = int(re.search(r"DEADLINE=\$\(\( \$\(date \+%s\) \+ (\d+) \)\)", user_data(ec2_stack)).group(1))
    assert deadline >= slow, f"deadline {deadline} s < {slow:.0f} s"
