"""Hypothesis strategies for hostile input: command lines, config.json documents and stack configs, each drawn from
valid values, mutations of them, and values chosen to break things (non-finite, huge, negative, wrong type, secrets)."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import strategies as st

from sizing.catalog.assumptions import Assumptions

ROOT = Path(__file__).resolve().parents[2]
PRESETS = sorted(p.stem for p in (ROOT / "sizing/data/models").glob("*.json"))
HF_TOKEN = "hf_" + "QwErTyUiOpAsDfGhJkLzXcVbNm01234567"
AWS_KEY = "ASIA" + "QWERTYUIOPASDFGH"
SECRETS = (HF_TOKEN, AWS_KEY)
"""Credential-shaped strings planted in inputs; none may come back out."""
GPUS = [
    "H100",
    "A100-80GB",
    "L4",
    "T4",
    "A10G",
    "L40S",
    "g5.xlarge",
    "g6e.12xlarge",
    "p5.48xlarge",
    "p4d.24xlarge",
    "h100",
    "banana",
    "",
]

hostile_text = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "nan",
            "-inf",
            "1e309",
            "0x10",
            "None",
            "null",
            "../../etc/passwd",
            "/dev/zero",
            "*",
            "a" * 600,
            "x\ny",
            "$(reboot)",
            "'; rm -rf /",
            "\u202e",
            "\x1b]0;x\x07\x1b[2J",
            "\U0001f600" * 300,
            *SECRETS,
        ]
    ),
    st.text(min_size=0, max_size=30),
)
numbers = st.one_of(
    st.integers(min_value=-3, max_value=70_000),
    st.sampled_from([0, -1, 1, 2, 3, 7, 64, 1000, 2**31, 2**63, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["nan", "inf", "-inf", "1e300", "-0", "0.0", "1e-320", "1e-300", "5e-324", "1_000", "٣"]),
)
ASSUMPTIONS = sorted(Assumptions.model_fields)
"""Every --assume key (sizing/data/assumptions.toml and the optional overrides)."""


def _num(draw) -> str:
    return str(draw(numbers))


def _mostly(draw, valid: list[str], hostile=None) -> str:
    """A valid value seven times in ten, else a hostile one (a number, or `hostile` when given)."""
    if draw(st.integers(0, 9)) < 7:
        return draw(st.sampled_from(valid))
    return draw(hostile) if hostile is not None else _num(draw)


@st.composite
def cli_argv(draw) -> list[str]:
    """One command line for memory, speed or plan: some flags valid, some mutated, some hostile."""
    command = draw(st.sampled_from(["memory", "speed", "plan"]))
    argv = [command]
    model = _mostly(draw, [*PRESETS, "llama-3.1-8b", "llama-3.1-8b"], st.one_of(st.none(), hostile_text))
    raw = command == "memory" and draw(st.booleans())
    if raw:
        for flag in ("--params-b", "--layers", "--kv-heads", "--head-dim"):
            argv += [flag, _mostly(draw, ["8", "32", "8", "128", "64", "1"])]
        for flag in draw(
            st.lists(st.sampled_from(["--hidden", "--vocab", "--bytes-per-param"]), max_size=2, unique=True)
        ):
            argv += [flag, _num(draw)]
    elif model is not None:
        argv += ["--model", model]
    if command in ("memory", "speed"):
        if command == "speed" or draw(st.booleans()):
            argv += ["--gpu", _mostly(draw, GPUS[:-2], st.one_of(st.sampled_from(GPUS), hostile_text))]
        if draw(st.integers(0, 5)) == 0:
            argv.append("--ep")
        for flag in draw(st.lists(st.sampled_from(["--tp", "--pp", "--dp", "--batch"]), max_size=3, unique=True)):
            argv += [flag, _mostly(draw, ["1", "2", "4", "8", "max"] if flag == "--batch" else ["1", "2", "4", "8"])]
    numeric = {
        "memory": ["--seq-len", "--max-model-len", "--gpu-memory-utilization"],
        "speed": [
            "--input-tokens",
            "--output-tokens",
            "--tpot-ms",
            "--max-model-len",
            "--gpu-memory-utilization",
            "--concurrency",
            "--request-rate",
            "--prefix-hit-rate",
        ],
        "plan": [
            "--concurrency",
            "--input-tokens",
            "--output-tokens",
            "--requests-per-second",
            "--output-tokens-per-second",
            "--ttft-ms",
            "--tpot-ms",
            "--headroom",
            "--on-demand-floor",
            "--max-model-len",
            "--gpu-memory-utilization",
            "--ttft-p95-ms",
            "--tpot-p95-ms",
            "--prefix-hit-rate",
            "--max-input-tokens",
            "--max-output-tokens",
        ],
    }[command]
    shares = ("--gpu-memory-utilization", "--on-demand-floor", "--prefix-hit-rate")
    for flag in draw(st.lists(st.sampled_from(numeric), max_size=4, unique=True)):
        valid = ["0", "0.5", "0.8", "0.95"] if flag in shares else ["1", "16", "128", "1024", "4096"]
        argv += [flag, _mostly(draw, valid)]
    if draw(st.booleans()):
        argv += [
            "--weights",
            _mostly(
                draw,
                ["bf16", "fp8", "int4-awq", "q4_k_m", "mxfp4", "int8", "auto", "native", "fp8-block"],
                hostile_text,
            ),
        ]
    if draw(st.integers(0, 4)) == 0:
        argv += ["--kv-dtype", _mostly(draw, ["auto", "fp8"], hostile_text)]
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.one_of(st.sampled_from(ASSUMPTIONS), hostile_text))
        argv += ["--assume", f"{key}={_num(draw)}"]
    if command == "plan":
        if draw(st.integers(0, 3)) == 0:
            argv += ["--workload", draw(st.sampled_from(["interactive", "batch"]))]
        if draw(st.integers(0, 3)) == 0:
            argv += [
                "--instance-types",
                ",".join(
                    _mostly(draw, ["g5.xlarge", "g6e.xlarge", "p5.48xlarge", "g5.12xlarge"], hostile_text)
                    for _ in range(draw(st.integers(0, 4)))
                ),
            ]
        if draw(st.integers(0, 4)) == 0:
            argv += ["--purchase", _mostly(draw, ["on-demand", "spot", "mixed", "capacity-block"], hostile_text)]
        if draw(st.integers(0, 4)) == 0:
            argv += ["--spare-purchase", _mostly(draw, ["on-demand", "spot"], hostile_text)]
        if draw(st.integers(0, 4)) == 0:
            argv += ["--region", _mostly(draw, ["us-east-1", "eu-west-1"], hostile_text)]
    if draw(st.booleans()):
        argv.append("--json")
    return argv


CONFIG_FIELDS = [
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_key_value_heads",
    "head_dim",
    "intermediate_size",
    "vocab_size",
    "max_position_embeddings",
    "sliding_window",
    "layer_types",
    "torch_dtype",
    "quantization_config",
    "text_config",
    "vision_config",
    "kv_lora_rank",
    "num_local_experts",
    "num_experts_per_tok",
    "moe_intermediate_size",
    "partial_rotary_factor",
    "tie_word_embeddings",
    "model_type",
    "first_k_dense_replace",
    "mlp_only_layers",
    "decoder_sparse_step",
]
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.sampled_from([0, 1, -1, 4096, 10**9]),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.sampled_from(CONFIG_FIELDS), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def config_documents(draw) -> str:
    """A config.json text: a preset's config with some fields replaced, removed or added, or something else entirely."""
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(
            st.one_of(st.text(max_size=50), st.sampled_from(["[]", "null", "1", '"x"', "{", "[" * 500 + "]" * 500]))
        )
    base = json.loads((ROOT / "sizing/data/models" / f"{draw(st.sampled_from(PRESETS))}.json").read_text())["config"]
    for _ in range(draw(st.integers(1, 4))):
        field = draw(st.sampled_from(CONFIG_FIELDS))
        if draw(st.integers(0, 3)) == 0:
            base.pop(field, None)
        else:
            base[field] = draw(json_values)
    return json.dumps(base)


SECTION_FIELDS = {
    "workload": [
        "concurrency",
        "input_tokens",
        "output_tokens",
        "tpot_ms",
        "ttft_ms",
        "kind",
        "on_demand_floor",
        "requests_per_second",
        "headroom_replicas",
        "max_model_len",
        "concurency",
        "ttft_p95_ms",
        "tpot_p95_ms",
        "prefix_hit_rate",
        "max_input_tokens",
        "max_output_tokens",
    ],
    "deployment": [
        "instance_types",
        "weights",
        "kv_dtype",
        "spot_usd_per_hour",
        "purchase",
        "region",
        "max_nodes_per_replica",
        "gpu_memory_utilization",
        "spare_purchase",
    ],
    "fleet": [
        "vpc_cidr",
        "allowed_cidrs",
        "vpc_id",
        "subnet_ids",
        "tags",
        "vllm_image",
        "api_port",
        "weights",
        "root_volume_gib",
        "max_scale_factor",
        "allow_public_ingress",
    ],
    "preflight": ["enabled", "cache_ttl_s", "on_quota_shortfall"],
}
stack_values = st.one_of(
    json_scalars,
    st.lists(json_scalars, max_size=3),
    st.dictionaries(
        st.one_of(st.sampled_from(["g5.xlarge", "hf_token_secret_arn", "s3_uri", "secure"]), hostile_text),
        json_scalars,
        max_size=3,
    ),
)


@st.composite
def stack_configs(draw) -> dict:
    """llmfleet:* values (namespace stripped): the dev stack's, with keys mutated, misspelt, or set to hostile
    values."""
    raw: dict = {
        "model": draw(st.one_of(st.sampled_from(["llama-3.1-8b", "qwen3-8b"]), hostile_text)),
        "deployment": {"instance_types": ["g6e.xlarge", "g5.xlarge"]},
        "fleet": {"allowed_cidrs": ["10.0.0.0/8"]},
    }
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from([*SECTION_FIELDS, "workloads", "modle", "secure"]))
        if section not in SECTION_FIELDS:
            raw[section] = draw(stack_values)
            continue
        body = raw.setdefault(section, {})
        if not isinstance(body, dict) or draw(st.integers(0, 9)) == 0:
            raw[section] = draw(stack_values)
            continue
        body[draw(st.sampled_from(SECTION_FIELDS[section]))] = draw(stack_values)
    return raw


YAML_TWISTS = [
    "{key}: 2024-01-01",
    "{key}: 2024-01-01T00:00:00Z",
    "{key}: !!binary aGVsbG8=",
    "{key}: !!set {{a: null}}",
    "{key}: .nan",
    "{key}: -.inf",
    "{key}: 1:30",
    "{key}: 0o17",
    "{key}: 0x1F",
    "{key}: " + "9" * 5000,
    "{key}: !!python/object/apply:os.system ['true']",
    "{key}: &a [1]",
    "{key}: *a",
    "{key}: yes",
    "{key}: ~",
    "{key}: !!str 3",
    "{key}: !!float 1e999",
    "? [a]\n  : 1",
    '{key}: "\\x1b[2J"',
    "{key}: {{secure: v1:SeCrEt}}",
    '{key}: "' + "x" * 200 + '"',
]
"""Lines that YAML reads into something other than JSON, or that Pulumi's own YAML reader treats differently."""


@st.composite
def stack_texts(draw) -> str:
    """A Pulumi.<stack>.yaml text: a generated stack config dumped as YAML, with lines duplicated (a key given twice),
    or YAML-only values (dates, tags, aliases, non-finite numbers) added under the config or one of its sections."""
    import yaml

    raw = draw(stack_configs())
    text = yaml.safe_dump(
        {"config": {"aws:region": "us-east-1", **{f"llmfleet:{k}": v for k, v in raw.items()}}},
        allow_unicode=True,
        width=10_000,
    )
    lines = text.splitlines()
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(1, len(lines)))
        if draw(st.booleans()):
            lines.insert(at, lines[at - 1])  # a line given twice: a duplicate key (or list item)
        else:
            indent = len(lines[at - 1]) - len(lines[at - 1].lstrip()) or 2
            key = draw(st.sampled_from(["llmfleet:model", "concurrency", "tpot_ms", "instance_types", "tags", "x"]))
            twist = draw(st.sampled_from(YAML_TWISTS)).format(key=key)
            lines.insert(at, "\n".join(" " * indent + part for part in twist.split("\n")))
    return "\n".join(lines) + "\n"


# --- issue 22: the boundaries behind the CLI ------------------------------------------------------------------------

LOCK_PATHS = [
    ("checkpoint", "repo"),
    ("choice", "tensor_parallel"),
    ("choice", "pipeline_parallel"),
    ("choice", "instances"),
    ("choice", "replicas"),
    ("choice", "on_demand_instances"),
    ("choice", "batch_per_replica"),
    ("choice", "memory", "gpu_memory_utilization"),
    ("choice", "instance_type"),
    ("choice", "gpu"),
    ("choice", "hourly_cost_usd"),
    ("max_model_len",),
    ("vllm_quantization",),
    ("kv_dtype",),
    ("region",),
    ("model",),
    ("engine",),
    ("weights",),
    ("warnings",),
    ("alternatives", 0, "candidate", "instance_type"),
]
"""Where a plan lock is edited: every field that reaches a resource or a vLLM flag, and some that only describe."""
lock_values = st.one_of(
    hostile_text,
    numbers,
    st.sampled_from(
        [
            "p5.48xlarge",
            "--trust-remote-code",
            "bf16",
            "fp8",
            "attacker/model",
            "eu-west-1",
            "llama-3.1-70b",
            1024,
            -5,
            10**9,
            5.0,
            [HF_TOKEN, "\x1b[2J"],
        ]
    ),
)


@st.composite
def lock_edits(draw) -> list[tuple[tuple, object]]:
    """One to three edits of a plan lock's plan: (path, new value)."""
    return draw(st.lists(st.tuples(st.sampled_from(LOCK_PATHS), lock_values), min_size=1, max_size=3))


@st.composite
def ingress_splits(draw) -> tuple[list[str], bool]:
    """CIDRs spread over rules and whether together they admit the world: a wide block cut into pieces, or narrow and
    private blocks."""
    if draw(st.booleans()):
        prefix = draw(st.integers(1, 9))
        step = 1 << (32 - prefix)
        blocks = [f"{(i * step) >> 24}.{(i * step >> 16) & 255}.0.0/{prefix}" for i in range(1 << prefix)]
        keep = draw(st.integers(min_value=len(blocks) // 2 + 1, max_value=len(blocks)))
        return blocks[:keep], True
    return draw(
        st.lists(
            st.sampled_from(
                ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "203.0.113.0/24", "fd00::/8", "2001:db8::/32"]
            ),
            min_size=1,
            max_size=6,
        )
    ), False


markdown_text = st.one_of(
    hostile_text,
    st.sampled_from(
        [
            "x\n## Approved by the security team",
            "[click](https://evil.example)",
            "<!-- llm-fleet-report -->",
            "`code` | cell |",
            "<img src=x onerror=alert(1)>",
            "**bold**\r\n# h1",
            "\u202egnp.exe",
        ]
    ),
)
"""Text a plan JSON in a pull request may carry into the report."""
