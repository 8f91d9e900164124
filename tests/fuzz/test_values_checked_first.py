"""Values that would reach IAM, the boot script, the outputs, vLLM or AWS are parsed first: stack and served names,
ARNs, domains, tags, KV dtypes, quantization bits, provider inputs; each refused with "To fix:" before any resource
(issue 22, hostile input round three)."""

from __future__ import annotations

import json

import pytest

from deploy.options import FleetOptions
from deploy.stack_file import read_stack_file
from tests.fuzz.harness import check, run_cli
from tests.fuzz.stack_copies import AWS_KEY, DEV, HF_TOKEN, ROOT, dev_copy, refused_before_any_resource

pytestmark = pytest.mark.usefixtures("preflight_off")


@pytest.mark.parametrize(
    "fleet,needle",
    [
        ({"api_key_secret_arn": HF_TOKEN}, "api_key_secret_arn"),
        ({"api_key_secret_arn": AWS_KEY}, "api_key_secret_arn"),
        ({"api_key_secret_arn": "arn:aws:secretsmanager:*:*:secret:*"}, "wildcard"),
        ({"api_key_secret_arn": "arn:aws:s3:::bucket"}, "secretsmanager"),
        (
            {"certificate_arn": "garbage", "allow_public_ingress": True, "allowed_cidrs": ["0.0.0.0/0"]},
            "certificate_arn",
        ),
        (
            {
                "domain_name": "llm.example.com\x1b[2J",
                "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
            },
            "domain_name",
        ),
        (
            {
                "domain_name": "llm.example.com\n# Approved",
                "certificate_arn": "arn:aws:acm:us-east-1:123456789012:certificate/"
                "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b",
            },
            "domain_name",
        ),
        ({"tags": {"llmfleet:fleet": "other"}}, "reserved"),
    ],
)
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
    stack.write_text(
        json.dumps(
            {
                "config": {
                    "aws:region": "us-east-1",
                    "llmfleet:model": str(tmp_path / folder / "config.json"),
                    "llmfleet:fleet": {"weights": {"hf_model_id": "org/model"}},
                }
            }
        )
    )
    assert "served model name" in refused_before_any_resource(stack, capsys)


@pytest.mark.parametrize(
    "argv,code,needle",
    [
        (["plan", "--model", "llama-3.1-8b", "--kv-dtype", "bf16"], 2, "KV cache dtype"),
        (["plan", "--model", "llama-3.1-8b", "--kv-dtype", "fp32"], 2, "KV cache dtype"),
        (
            ["plan", "--model", "llama-3.1-8b", "--gpu-memory-utilization", "1", "--instance-types", "g6e.xlarge"],
            1,
            "CUDA graph pool",
        ),
        (
            ["memory", "--model", "llama-3.1-8b", "--gpu", "g6e.xlarge", "--gpu-memory-utilization", "1"],
            1,
            "CUDA graph",
        ),
        (["plan", "--model", "llama-3.1-8b", "--requests-per-second", "1e9"], 1, "more than the 20,000"),
        (["plan", "--stack", str(DEV), "--concurrency", "5", "--model", "x"], 2, "--concurrency, --model"),
    ],
)
def test_values_vllm_or_aws_refuse_are_refused_first(argv, code, needle):
    outcome = run_cli(argv)
    check(outcome, argv)
    assert outcome.code == code and needle in outcome.err


def test_kv_dtype_is_spelt_as_vllm_spells_it(capsys):
    outcome = run_cli(
        ["plan", "--model", "llama-3.1-8b", "--kv-dtype", "FP8", "--instance-types", "g6e.xlarge", "--json"]
    )
    assert outcome.code == 0 and json.loads(outcome.out)["kv_dtype"] == "fp8"


@pytest.mark.parametrize(
    "method,bits,expected", [("gptq", 8, "int8-gptq"), ("gptq", 3, None), ("awq", 8, None), ("gptq", 4, "int4-gptq")]
)
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


@pytest.mark.parametrize(
    "inputs,needle",
    [
        ({"model": "llama-3.1-8b", "workLoad": {"concurrency": 4}}, "did you mean 'workload'"),
        ({"model": "llama-3.1-8b", "fleet": {"allowed_cidrs": ["10.0.0.0/8"]}}, "did you mean 'allowedCidrs'"),
    ],
)
def test_the_provider_refuses_unknown_inputs(inputs, needle):
    from pulumi.provider.experimental.component import InputPropertyError

    from provider.package import strict_provider

    provider = strict_provider()
    with pytest.raises(InputPropertyError) as refused:
        provider.map_inputs(inputs, provider._component_defs["LlmServingFleet"])
    assert needle in str(refused.value) and "To fix" in str(refused.value)
