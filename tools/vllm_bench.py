"""`vllm bench serve` for vLLM's CPU build, whose `vllm` console script fails on a metadata lookup: the same module
(vllm.benchmarks.serve) with its own argument parser. `python tools/vllm_bench.py --backend vllm --base-url ... `
takes exactly the arguments `vllm bench serve` takes; `--check-only` parses them and prints them as JSON instead."""

import json
import sys

from vllm.benchmarks.serve import add_cli_args, main
from vllm.utils.argparse_utils import FlexibleArgumentParser

parser = FlexibleArgumentParser()
add_cli_args(parser)
argv = sys.argv[1:]
if argv[:1] == ["--check-only"]:
    print(
        json.dumps(
            {k: v for k, v in vars(parser.parse_args(argv[1:])).items() if isinstance(v, (str, int, float, list))}
        )
    )
else:
    main(parser.parse_args(argv))
