"""The command line as a person expects it (issue 21, item 6): each reproducer of the issue, then its fix."""

import json

import pytest

from sizing.catalog.instances import all_instance_types
from sizing.cli.main import main

L8 = ("--model", "llama-3.1-8b")


def run(capsys, *argv):
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_gpu_is_not_a_prefix_of_gpu_memory_utilization(capsys):
    """Reproducer: `plan --gpu H100` was read as --gpu-memory-utilization ('invalid float value: H100')."""
    code, out, err = run(capsys, "plan", *L8, "--gpu", "H100", "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["choice"]["gpu"].startswith("H100")
    assert all(a["candidate"]["gpu"].startswith("H100") for a in plan["alternatives"])


def test_no_option_is_abbreviated(capsys):
    code, _, err = run(capsys, "plan", *L8, "--gpu-mem", "0.8")
    assert code == 2 and "unrecognized arguments: --gpu-mem" in err and "To fix" in err


@pytest.mark.parametrize(
    "given, family",
    [("H100", ("p5.",)), ("p5.*", ("p5.",)), ("g6e.*", ("g6e.",)), ("L40S,p5.4xlarge", ("g6e.", "p5."))],
)
def test_instance_types_take_gpu_names_and_globs(capsys, given, family):
    """Reproducer: `--instance-types H100` and `p5.*` were refused as unknown instance types."""
    code, out, err = run(capsys, "plan", *L8, "--instance-types", given, "--json")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["choice"]["instance_type"].startswith(family)
    assert all(a["candidate"]["instance_type"].startswith(family) for a in plan["alternatives"])


@pytest.mark.parametrize("given, close", [("H1000", "'H100'"), ("g6e.xlarg", "'g6e.xlarge'"), ("p9.*", None)])
def test_unknown_selection_names_close_matches(capsys, given, close):
    code, _, err = run(capsys, "plan", *L8, "--instance-types", given)
    assert code == 2 and "To fix" in err and "Traceback" not in err
    assert close is None or f"Did you mean {close}" in err


def test_gpu_narrows_the_allow_list(capsys):
    code, out, err = run(capsys, "plan", *L8, "--instance-types", "g6e.*,p5.*", "--gpu", "L40S", "--json")
    assert code == 0, err
    assert json.loads(out)["choice"]["instance_type"].startswith("g6e.")
    code, _, err = run(capsys, "plan", *L8, "--instance-types", "g6e.*", "--gpu", "H100")
    assert code == 2 and "carries the GPU" in err and "To fix" in err


def test_gpu_on_no_instance_type_is_bad_input(capsys):
    code, _, err = run(capsys, "plan", *L8, "--gpu", "4090")
    assert code == 2 and "on no AWS instance type" in err


def test_stack_deployment_takes_globs_too():
    from sizing.planner.request import Deployment

    types = Deployment(instance_types=("p5.*",)).instance_types
    assert types and set(types) == {n for n in all_instance_types() if n.startswith("p5.")}


def test_rejections_nearest_miss_first_and_not_planned_in_one_line(capsys):
    """Reproducer: the rejected list opened with Inferentia lines and cut the useful misses."""
    code, out, _ = run(capsys, "plan", "--model", "llama-3.1-70b", "--tpot-ms", "40")
    assert code == 0
    rejected = out.split("\nRejected (", 1)[1].splitlines()[1:]
    assert rejected[0].startswith("  [memory] ") or rejected[0].startswith("  [tpot] ")
    not_planned = [line for line in rejected if line.startswith("  [accelerator]")]
    assert len(not_planned) == 1 and "AWS Inferentia" in not_planned[0] and "types not planned" in not_planned[0]


@pytest.mark.parametrize(
    "argv",
    [
        ("plan", "--model", "llama-3.1-70b", "--tpot-ms", "40"),
        ("plan", "--model", "deepseek-v3", "--purchase", "spot", "--workload", "batch"),
        ("memory", "--model", "llama-3.1-70b", "--gpu", "H100", "--tp", "4"),
        ("speed", "--model", "llama-3.1-8b", "--gpu", "H100", "--concurrency", "8"),
    ],
)
def test_text_output_fits_a_120_column_terminal(capsys, argv):
    """Reproducer: plan lines reached 319 characters."""
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert max(len(line) for line in out.splitlines()) <= 120


def test_wrapped_continuations_are_indented():
    from sizing.cli.render import wrapped

    lines = wrapped(["  " + "word " * 40], columns=80)
    assert len(lines) > 1 and all(len(x) <= 80 for x in lines) and lines[1].startswith("      word")


def test_catalog_lists_types_gpus_memory_prices_and_regions(capsys):
    """Reproducer: there was no way to list the catalog (SkyPilot's `show-gpus`)."""
    code, out, err = run(capsys, "catalog", "--json")
    assert code == 0, err
    rows = json.loads(out)["instance_types"]
    assert {r["instance_type"] for r in rows} == set(all_instance_types())
    p5 = next(r for r in rows if r["instance_type"] == "p5.48xlarge")
    assert p5["gpu"].startswith("H100") and p5["gpus"] == 8 and p5["gpu_memory_gib"] > 79
    assert p5["od_usd_per_hour"] == min(p5["od_usd_per_hour_by_region"].values()) and "us-east-1" in p5["regions"]
    prices = [r["od_usd_per_hour"] for r in rows if r["od_usd_per_hour"] is not None]
    assert prices == sorted(prices)  # cheapest first


def test_catalog_filters_combine(capsys):
    code, out, _ = run(capsys, "catalog", "--gpu", "H100", "--region", "us-east-1", "--json")
    rows = json.loads(out)["instance_types"]
    assert code == 0 and rows and all(r["gpu"].startswith("H100") and r["price_region"] == "us-east-1" for r in rows)
    code, out, _ = run(capsys, "catalog", "--min-gpu-memory-gib", "100", "--min-gpus", "8", "--efa", "--json")
    rows = json.loads(out)["instance_types"]
    assert code == 0 and rows
    assert all(r["gpu_memory_gib"] >= 100 and r["gpus"] >= 8 and r["efa"] for r in rows)
    code, out, _ = run(capsys, "catalog", "--instance-types", "g6e.*", "--json")
    assert {r["instance_type"][:4] for r in json.loads(out)["instance_types"]} == {"g6e."}


def test_catalog_text_fits_the_terminal_and_bad_filters_are_bad_input(capsys):
    code, out, _ = run(capsys, "catalog", "--gpu", "L40S")
    assert code == 0 and "g6e.xlarge" in out and "L40S" in out and max(map(len, out.splitlines())) <= 120
    for argv in (("--gpu", "H1000"), ("--region", "mars-1"), ("--min-gpus", "0"), ("--min-gpu-memory-gib", "nan")):
        code, _, err = run(capsys, "catalog", *argv)
        assert code == 2 and "To fix" in err, argv
    code, _, err = run(capsys, "catalog", "--gpu", "L4", "--min-gpu-memory-gib", "40")
    assert code == 1 and "No instance type matches" in err


DEV_WORKLOAD = (
    "--model",
    "llama-3.1-8b",
    "--concurrency",
    "16",
    "--input-tokens",
    "1024",
    "--output-tokens",
    "256",
    "--tpot-ms",
    "60",
    "--instance-types",
    "g6.xlarge,g6e.xlarge,g5.xlarge,g5.2xlarge",
)
"""stacks/Pulumi.dev.yaml's workload, as flags."""


def test_command_line_says_why_its_weights_differ_from_a_stack(capsys):
    """Reproducer: the CLI planned fp8 on 2 x g6.xlarge where the same workload as a stack planned bf16 on g6e.xlarge,
    without saying why."""
    code, out, _ = run(capsys, "plan", *DEV_WORKLOAD, "--json")
    data = json.loads(out)
    assert code == 0 and data["weights"] == "fp8"
    assert "from --weights auto, the command line's default" in data["weights_note"]
    assert "--weights native" in data["weights_note"]
    code, out, _ = run(capsys, "plan", *DEV_WORKLOAD, "--weights", "native", "--json")
    native = json.loads(out)
    assert code == 0 and native["weights"] == "bf16" and "weights_note" not in native


def _plan_parser():
    from sizing.cli.main import _parser

    parser = _parser(docs=True)
    return parser._subparsers._group_actions[0].choices["plan"]  # type: ignore[union-attr]


def test_each_model_field_gives_one_flag_with_its_docstring_and_bounds():
    """Item 3: a plan flag was written 3-5 times; now each Workload/Deployment field is one generated flag."""
    from sizing.cli.fields import NOT_FLAGS, field_docs, flag
    from sizing.planner.request import Deployment, Workload

    options = _plan_parser()._option_string_actions
    for model in (Workload, Deployment):
        docs = field_docs(model)
        for name in set(model.model_fields) - NOT_FLAGS:
            action = options[flag(name)]
            assert action.dest == name and action.default is None  # the model's default applies
            assert docs[name] and docs[name][:40] in " ".join(action.help.split()), name
    assert "(> 0, <= 1048576)" in options["--concurrency"].help
    assert options["--workload"].choices == ["interactive", "batch"]
    assert options["--headroom"].dest == "headroom_replicas"


def test_every_plan_flag_is_in_the_command_line_page():
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "command-line.md").read_text()
    missing = [f for f in _plan_parser()._option_string_actions if f.startswith("--") and f"`{f}" not in page]
    assert not missing


@pytest.mark.parametrize("command", ["memory", "speed", "plan", "catalog", "calibrate", "report"])
def test_every_command_prints_its_help(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0 and out.startswith("usage: python -m sizing " + command)


def test_catalog_by_gpu_summarizes_each_gpu(capsys):
    code, out, _ = run(capsys, "catalog", "--by-gpu", "--json")
    gpus = {g["gpu"]: g for g in json.loads(out)["gpus"]}
    assert code == 0 and {t.gpu.name for t in all_instance_types().values()} == set(gpus)
    h100 = next(g for name, g in gpus.items() if name.startswith("H100"))
    assert h100["instance_types"] and 8 in h100["gpu_counts"]
    p5 = all_instance_types()["p5.48xlarge"]
    assert h100["od_usd_per_gpu_hour"] <= min(p5.od_usd_per_hour.values()) / 8
    code, out, _ = run(capsys, "catalog", "--by-gpu")
    assert code == 0 and "$/GPU-h" in out and max(map(len, out.splitlines())) <= 120
