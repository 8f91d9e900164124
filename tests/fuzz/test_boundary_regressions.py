"""Issue 22, hostile input round three: each reproducer of the issue, past the CLI (the plan lock, the fleet's values,
names, the PR report, files and signals, silently dropped inputs, the policy pack). Each exits 2 (1 where nothing
fits) with "To fix:", registers nothing, echoes nothing, or is a policy violation."""

from __future__ import annotations

import base64
import errno
import io
import json
import os
import runpy
import shutil
import sys
from pathlib import Path

import pulumi
import pytest

from components import fleet_tags as tag
from deploy.options import FleetOptions
from deploy.plan_lock import PlanLock, lock_path, plan_digest
from deploy.stack_file import read_stack_file
from policy import policies as p
from preview.__main__ import main as preview
from preview.mock_run import MockRun, run_stack
from sizing.cli import render
from sizing.errors import SizingError
from tests.fuzz.harness import check, run_cli
from tests.policy.test_policies import LT, SAFE_LT, _stack, violations

ROOT = Path(__file__).resolve().parents[2]
DEV = ROOT / "stacks/Pulumi.dev.yaml"
HF_TOKEN = "hf_" + "ZyXwVuTsRqPoNmLkJiHgFeDcBa98765432"
AWS_KEY = "AKIA" + "ABCDEFGHIJKLMNOP"


@pytest.fixture(autouse=True)
def no_aws(monkeypatch):
    monkeypatch.setenv("LLMFLEET_PREFLIGHT", "off")


def dev_copy(tmp_path: Path, name: str = "dev") -> Path:
    stack = tmp_path / f"Pulumi.{name}.yaml"
    shutil.copy(DEV, stack)
    shutil.copy(lock_path(DEV), lock_path(stack))
    return stack


def forge(stack: Path, edit) -> None:
    """Edit the lock's plan as an attacker who also rewrites its digest would."""
    path = lock_path(stack)
    data = json.loads(path.read_text())
    edit(data["plan"])
    lock = PlanLock.model_validate(data)
    data["plan_sha256"] = plan_digest(lock.plan)
    path.write_text(json.dumps(data))


def refused_before_any_resource(stack: Path, capsys, code: int = 2) -> str:
    run = MockRun(stack=stack.name.split(".")[1])
    with pytest.raises((pulumi.RunError, SizingError)):
        run_stack(stack, run)
    assert [r for r in run.resources if r.custom] == []
    capsys.readouterr()
    assert preview([str(stack)]) == code
    err = capsys.readouterr().err
    assert "To fix" in err and "Traceback" not in err
    return err


def _set(*path, value):
    def edit(plan):
        for key in path[:-1]:
            plan = plan[key]
        plan[path[-1]] = value
    return edit


LOCK_EDITS = {
    "backdoored checkpoint": _set("checkpoint", "repo", value="attacker/Llama-3.1-8B-Instruct-backdoored"),
    "TP 1024 on one GPU": _set("choice", "tensor_parallel", value=1024),
    "minSize -5": _set("choice", "instances", value=-5),
    "1e9 instances": _set("choice", "instances", value=10**9),
    "gpu-memory-utilization 5": _set("choice", "memory", "gpu_memory_utilization", value=5),
    "max-model-len -1": _set("max_model_len", value=-1),
    "max-num-seqs -5": _set("choice", "batch_per_replica", value=-5),
    "a flag smuggled as a value": _set("vllm_quantization", value="--trust-remote-code"),
    "another region": _set("region", value="eu-west-1"),
    "another model": _set("model", value="llama-3.1-70b"),
    "a p5.48xlarge alternative": lambda plan: plan["alternatives"][0]["candidate"].update(instance_type="p5.48xlarge"),
    "a negative price": _set("choice", "hourly_cost_usd", value=-1.0),
}


@pytest.mark.parametrize("edit", sorted(LOCK_EDITS))
def test_a_forged_lock_is_refused_before_any_resource(tmp_path, capsys, edit):
    stack = dev_copy(tmp_path)
    forge(stack, LOCK_EDITS[edit])
    err = refused_before_any_resource(stack, capsys)
    assert "--update-lock" in err and "attacker" not in err


def test_a_lock_edited_by_hand_is_refused_and_says_so(tmp_path, capsys):
    stack = dev_copy(tmp_path)
    path = lock_path(stack)
    path.write_text(path.read_text().replace('"meta-llama/Llama-3.1-8B-Instruct"', '"attacker/x"'))
    assert "edited by hand" in refused_before_any_resource(stack, capsys)


def test_a_lock_of_the_previous_format_is_refused(tmp_path, capsys):
    stack = dev_copy(tmp_path)
    data = json.loads(lock_path(stack).read_text())
    data["lock_version"] = 1
    del data["plan_sha256"]
    lock_path(stack).write_text(json.dumps(data))
    assert "format 1" in refused_before_any_resource(stack, capsys)


def test_the_lock_own_text_is_never_echoed_raw_and_preview_shows_warnings(tmp_path, capsys):
    stack = dev_copy(tmp_path)
    forge(stack, _set("warnings", value=[f"{HF_TOKEN} \x1b[31mred\x07"]))
    assert preview([str(stack)]) == 0
    out = capsys.readouterr()
    assert HF_TOKEN not in out.out + out.err and "\x1b" not in out.out + out.err and "\x07" not in out.out + out.err
    assert "warning:" in out.err  # the program's warnings, as `pulumi preview` prints them


@pytest.mark.parametrize("kind", ["fifo", "folder", "/dev/zero", "symlink to /dev/zero"])
def test_a_lock_that_is_not_a_regular_file_is_refused_in_time(tmp_path, kind):
    stack = dev_copy(tmp_path)
    lock = lock_path(stack)
    lock.unlink()
    if kind == "fifo":
        os.mkfifo(lock)
    elif kind == "folder":
        lock.mkdir()
    else:
        lock.symlink_to("/dev/zero")
    argv = ["plan", "--stack", str(stack)]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == 2 and "plan lock" in outcome.err


def test_update_lock_never_writes_through_a_symlink(tmp_path):
    stack = dev_copy(tmp_path)
    target = tmp_path / "elsewhere.json"
    target.write_text("keep")
    lock_path(stack).unlink()
    lock_path(stack).symlink_to(target)
    argv = ["plan", "--stack", str(stack), "--update-lock"]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == 2 and "symbolic link" in outcome.err and target.read_text() == "keep"


def test_a_full_disk_leaves_the_old_lock_whole_and_no_partial_file(tmp_path, monkeypatch):
    stack = dev_copy(tmp_path)
    before = lock_path(stack).read_bytes()

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    argv = ["plan", "--stack", str(stack), "--update-lock"]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == 2 and "the disk is full" in outcome.err
    assert lock_path(stack).read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [stack.name, lock_path(stack).name])


@pytest.mark.parametrize("fleet,needle", [
    ({"api_key_secret_arn": HF_TOKEN}, "api_key_secret_arn"),
    ({"api_key_secret_arn": AWS_KEY}, "api_key_secret_arn"),
    ({"api_key_secret_arn": "arn:aws:secretsmanager:*:*:secret:*"}, "wildcard"),
    ({"api_key_secret_arn": "arn:aws:s3:::bucket"}, "secretsmanager"),
    ({"certificate_arn": "garbage", "allow_public_ingress": True, "allowed_cidrs": ["0.0.0.0/0"]}, "certificate_arn"),
    ({"domain_name": "llm.example.com\x1b[2J", "certificate_arn":
      "arn:aws:acm:us-east-1:123456789012:certificate/"
      "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"}, "domain_name"),
    ({"domain_name": "llm.example.com\n# Approved", "certificate_arn":
      "arn:aws:acm:us-east-1:123456789012:certificate/"
      "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"}, "domain_name"),
    ({"tags": {"llmfleet:fleet": "other"}}, "reserved"),
])
def test_values_that_reach_iam_user_data_or_outputs_are_parsed_first(tmp_path, capsys, fleet, needle):
    stack = tmp_path / "Pulumi.dev.yaml"
    config = read_stack_file(DEV)
    config["llmfleet:fleet"] = {**config["llmfleet:fleet"], **fleet}
    stack.write_text(json.dumps({"config": config}))  # (YAML reads JSON)
    err = refused_before_any_resource(stack, capsys)
    assert needle in err and HF_TOKEN not in err and AWS_KEY not in err and "\x1b" not in err


def test_an_eks_pod_cannot_listen_below_1024():
    with pytest.raises(ValueError, match="NET_BIND_SERVICE"):
        FleetOptions(platform="eks", cluster={"name": "c"}, api_port=80)


@pytest.mark.parametrize("name", ["dév", "a b", "-x", "a" * 200, "ab\u202ecd"])
def test_stack_names_are_checked_before_any_resource(tmp_path, capsys, name):
    assert "stack name" in refused_before_any_resource(dev_copy(tmp_path, name), capsys)


@pytest.mark.parametrize("folder", ["my model", "$(reboot)"])
def test_served_names_are_checked_before_any_resource(tmp_path, capsys, folder):
    config = json.loads((ROOT / "sizing/data/models/llama-3.1-8b.json").read_text())["config"]
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "config.json").write_text(json.dumps(config))
    stack = tmp_path / "Pulumi.x.yaml"
    stack.write_text(json.dumps({"config": {"aws:region": "us-east-1", "llmfleet:model": str(tmp_path / folder / "config.json"),
                                            "llmfleet:fleet": {"weights": {"hf_model_id": "org/model"}}}}))
    assert "served model name" in refused_before_any_resource(stack, capsys)


@pytest.mark.parametrize("argv,code,needle", [
    (["plan", "--model", "llama-3.1-8b", "--kv-dtype", "bf16"], 2, "KV cache dtype"),
    (["plan", "--model", "llama-3.1-8b", "--kv-dtype", "fp32"], 2, "KV cache dtype"),
    (["plan", "--model", "llama-3.1-8b", "--gpu-memory-utilization", "1", "--instance-types", "g6e.xlarge"], 1,
     "CUDA graph pool"),
    (["memory", "--model", "llama-3.1-8b", "--gpu", "g6e.xlarge", "--gpu-memory-utilization", "1"], 1, "CUDA graph"),
    (["plan", "--model", "llama-3.1-8b", "--requests-per-second", "1e9"], 1, "more than the 20,000"),
    (["plan", "--stack", str(DEV), "--concurrency", "5", "--model", "x"], 2, "--concurrency, --model"),
])
def test_values_vllm_or_aws_refuse_are_refused_first(argv, code, needle):
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == code and needle in outcome.err


def test_kv_dtype_is_spelt_as_vllm_spells_it(capsys):
    outcome = run_cli(["plan", "--model", "llama-3.1-8b", "--kv-dtype", "FP8", "--instance-types", "g6e.xlarge", "--json"])
    assert outcome.code == 0 and json.loads(outcome.out)["kv_dtype"] == "fp8"


@pytest.mark.parametrize("method,bits,expected", [("gptq", 8, "int8-gptq"), ("gptq", 3, None), ("awq", 8, None),
                                                  ("gptq", 4, "int4-gptq")])
def test_quantization_bits_are_read_from_the_config(tmp_path, method, bits, expected):
    config = json.loads((ROOT / "sizing/data/models/llama-3.1-8b.json").read_text())["config"]
    config["quantization_config"] = {"quant_method": method, "bits": bits, "group_size": 128}
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    argv = ["memory", "--model", str(path), "--json"]
    outcome = run_cli(argv)
    check(outcome, argv)
    if expected:
        assert outcome.code == 0 and json.loads(outcome.out)["weights"] == expected
    else:
        assert outcome.code == 2 and f"bits={bits}" in outcome.err


def plan_json(tmp_path: Path, edit) -> Path:
    data = json.loads(lock_path(DEV).read_text())["plan"]
    edit(data)
    path = tmp_path / "evil.plan.json"
    path.write_text(json.dumps(data))
    return path


def test_the_report_escapes_what_it_did_not_write(tmp_path):
    heading = "x\n## Approved by the security team\n[click](https://evil.example) <!-- llm-fleet-report -->"
    path = plan_json(tmp_path, lambda d: (d.update(model="llama\n# Approved"),
                                          d["alternatives"][0].update(why_lost=heading)))
    argv = ["report", str(path)]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == 0
    lines = outcome.out.splitlines()
    assert not [line for line in lines if line.startswith(("# Approved", "## Approved"))]
    assert outcome.out.count("<!-- llm-fleet-report -->") == 1 and "[click](https" not in outcome.out


@pytest.mark.parametrize("raw", ['"hourly_cost_usd": 1e999', '"model": "\\ud800"'])
def test_the_report_refuses_numbers_and_text_it_cannot_print(tmp_path, raw):
    path = plan_json(tmp_path, lambda d: None)
    text = path.read_text()
    key = raw.split(":")[0]
    start = text.index(key)
    end = text.index(",", start)
    path.write_text(text[:start] + raw + text[end:])
    argv = ["report", str(path)]
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == 2 and "$inf" not in outcome.out


def test_report_output_is_never_an_input_or_a_symlink(tmp_path):
    stack = dev_copy(tmp_path)
    before = stack.read_text()
    for output, needle in ((str(stack), "is the input"), (str(tmp_path / "link.md"), "symbolic link")):
        if output.endswith("link.md"):
            (tmp_path / "link.md").symlink_to(tmp_path / "target.md")
        argv = ["report", str(stack), "--output", output]
        outcome = run_cli(argv)
        check(outcome, argv)
        assert outcome.code == 2 and needle in outcome.err
    assert stack.read_text() == before and not (tmp_path / "target.md").exists()


def test_a_terminal_that_cannot_show_an_arrow_gets_an_escape(monkeypatch):
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    monkeypatch.setattr(sys, "stdout", stream)
    render.emit("a → b")
    stream.flush()
    assert stream.buffer.getvalue() == b"a \\u2192 b\n"


@pytest.mark.parametrize("module", ["sizing", "preview"])
def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys, module):
    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    target = "sizing.cli.main" if module == "sizing" else "preview.mock_run"
    monkeypatch.setattr(sys.modules[target], "main" if module == "sizing" else "run_stack", interrupted)
    if module == "preview":
        monkeypatch.setattr("preview.__main__.run_stack", interrupted)
    monkeypatch.setattr(sys, "argv", [module, "plan"] if module == "sizing" else [module, str(DEV)])
    sys.modules.pop(f"{module}.__main__", None) if module == "sizing" else None
    with pytest.raises(SystemExit) as done:
        runpy.run_module(f"{module}.__main__", run_name="__main__")
    assert done.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"


@pytest.mark.parametrize("inputs,needle", [
    ({"model": "llama-3.1-8b", "workLoad": {"concurrency": 4}}, "did you mean 'workload'"),
    ({"model": "llama-3.1-8b", "fleet": {"allowed_cidrs": ["10.0.0.0/8"]}}, "did you mean 'allowedCidrs'"),
])
def test_the_provider_refuses_unknown_inputs(inputs, needle):
    from pulumi.provider.experimental.component import InputPropertyError

    from provider.package import strict_provider

    provider = strict_provider()
    with pytest.raises(InputPropertyError) as refused:
        provider.map_inputs(inputs, provider._component_defs["LlmServingFleet"])
    assert needle in str(refused.value) and "To fix" in str(refused.value)


# --- the policy pack ------------------------------------------------------------------------------------------------

NODE = (LT, "node", {**SAFE_LT, "vpcSecurityGroupIds": ["nodes-id"]})


def _ingress(name: str, **props) -> tuple[str, str, dict]:
    return p.SECURITY_GROUP_RULE, name, {"type": "ingress", "securityGroupId": "nodes-id", **props}


def test_world_ingress_split_into_512_rules_is_refused():
    rules = [_ingress(f"r{i}", cidrBlocks=[f"{i // 2}.{128 * (i % 2)}.0.0/9"]) for i in range(512)]
    assert _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), *rules)
    v6 = [_ingress(f"v{i}", ipv6CidrBlocks=[f"2{i:x}00::/12"]) for i in range(4)]  # each 1/512 of 2000::/3
    assert _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), *v6)


def test_ingress_through_a_prefix_list_is_judged_by_its_entries():
    world = (p.MANAGED_PREFIX_LIST, "pl", {"entries": [{"cidr": "0.0.0.0/1"}, {"cidr": "128.0.0.0/1"}]})
    assert _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), world, _ingress("r", prefixListIds=["pl-id"]))
    private = (p.MANAGED_PREFIX_LIST, "pl", {"entries": [{"cidr": "10.0.0.0/8"}]})
    assert _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), private, _ingress("r", prefixListIds=["pl-id"])) == []
    assert "cannot be judged" in _stack(NODE, (p.SECURITY_GROUP, "nodes", {}), _ingress("r", prefixListIds=["pl-0abc"]))[0]


def _big(**tags: str) -> dict:
    return {**SAFE_LT, "tags": {tag.MODEL: "llama-3.1-70b", tag.MAX_MODEL_LEN: "8192", **tags}}


@pytest.mark.parametrize("props", [
    _big(**{tag.TENSOR_PARALLEL: "64"}),
    _big(**{tag.GPU_MEMORY_UTILIZATION: "nan"}), _big(**{tag.GPU_MEMORY_UTILIZATION: "inf"}),
    _big(**{tag.GPU_MEMORY_UTILIZATION: "50"}), _big(**{tag.MAX_MODEL_LEN: "0"}),
    {**SAFE_LT, "instanceType": "p3.2xlarge"}, {**SAFE_LT, "instanceType": "g5g.xlarge"},
])
def test_the_memory_check_cannot_be_turned_advisory(props):
    assert violations(p.gpus_hold_declared_model, props)


def test_the_memory_check_reads_the_vllm_flags_in_user_data():
    script = "#!/bin/bash\ndocker run x vllm serve meta-llama/Llama-3.1-70B --tensor-parallel-size 1 --max-model-len 8192\n"
    lying = {**_big(**{tag.TENSOR_PARALLEL: "1", tag.WEIGHTS: "int4-awq", tag.MAX_MODEL_LEN: "16"}),
             "userData": base64.b64encode(script.encode()).decode()}
    assert violations(p.gpus_hold_declared_model, {**lying, "tags": {**lying["tags"], tag.WEIGHTS: "bf16"}})


@pytest.mark.parametrize("resource_type,props", [
    (p.SPOT_INSTANCE_REQUEST, {"instanceType": "g6.xlarge", "metadataOptions": {"httpTokens": "optional"},
                               "userData": f"#!/bin/bash\nexport HF_TOKEN={HF_TOKEN}\n"}),
])
def test_a_spot_instance_request_is_judged_like_an_instance(resource_type, props):
    assert violations(p.imdsv2_required, props, resource_type)
    assert violations(p.no_secrets_in_user_data, props, resource_type)


@pytest.mark.parametrize("resource_type,props", [
    (p.AUTOSCALING_GROUP, {"mixedInstancesPolicy": {"launchTemplate": {"overrides": [
        {"instanceRequirements": {"vcpuCount": {"min": 4}, "memoryMib": {"min": 16384}}}]}}}),
    (p.EC2_FLEET, {"launchTemplateConfigs": [{"overrides": [{"instanceType": "p3.8xlarge"}]}]}),
    (p.SPOT_FLEET_REQUEST, {"launchSpecifications": [{"instanceType": "g5g.2xlarge"}]}),
])
def test_every_launcher_is_covered_and_unknowns_never_pass(resource_type, props):
    assert violations(p.gpus_hold_declared_model, props, resource_type)


@pytest.mark.parametrize("script", [
    base64.b64encode(f"#!/bin/bash\nexport HF_TOKEN={HF_TOKEN}\n".encode()).decode(),  # base64 twice (with the LT's)
    f'#!/bin/bash\nexport HF_TOKEN="{HF_TOKEN[:10]}""{HF_TOKEN[10:]}"\n',  # split across shell words
])
def test_secrets_are_found_whatever_the_encoding(script):
    props = {**SAFE_LT, "userData": base64.b64encode(script.encode()).decode()}
    found = violations(p.no_secrets_in_user_data, props)
    assert found and HF_TOKEN not in found[0]
