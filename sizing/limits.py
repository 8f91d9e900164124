"""Documented bounds on every number the engine accepts, from the command line, a config.json or a stack file.

Each bound is far beyond any published model or real fleet (so it never refuses a real input) and far below what would
make the arithmetic overflow or the search run long (so a hostile input is refused up front, with exit 2).
The pydantic models at the boundary (sizing/cli/inputs.py, ModelSpec, Workload, Deployment, Assumptions) use them as
Field constraints; floats are also required to be finite there."""

from __future__ import annotations

MAX_LAYERS = 100_000
"""Decoder layers. The deepest published LLMs have 61-126 (DeepSeek-V3, Llama-3.1-405B); the per-layer work is
linear."""
MAX_WIDTH = 1 << 20
"""Hidden size, MLP width, head size, LoRA ranks (1,048,576). Published models stay below 65,536."""
MAX_HEADS = 1 << 14
"""Attention or KV heads (16,384). Published models stay below 256."""
MAX_VOCAB = 1 << 24
"""Vocabulary entries (16.8 M). Published models stay below 300,000."""
MAX_CONTEXT_TOKENS = 1 << 24
"""Context length, request tokens, max_model_len (16.8 M tokens). The longest published context is 10 M tokens."""
MAX_EXPERTS = 1 << 14
"""Routed experts per MoE layer. Published models stay below 512."""
MAX_PARAMS_B = 100_000.0
"""Raw --params-b, billions (100 T). The largest published models have about 2 T."""
MAX_PARALLEL = 1024
"""TP or PP degree, and GPUs per replica on the command line."""
MAX_BATCH = 1 << 20
"""Concurrent requests, batch size, replicas' headroom (1,048,576)."""
MAX_RATE = 1e9
"""Requests or tokens per second a fleet may be asked to serve."""
MIN_RATE = 1e-6
"""The smallest rate: requests, tokens or GB per second (one request in 11.6 days). Costs per token and load times
divide by it: a subnormal rate such as 1e-320 made them infinite."""
MIN_SHARE = 1e-3
"""The smallest efficiency or bandwidth share an assumption may take (0.1%; published ones are 5-100%). Times divide by
it: a subnormal share such as 1e-320 made them infinite."""
MIN_BYTES_PER_PARAM = 0.125
"""Raw --bytes-per-param: one bit per weight, below every weight format vLLM serves (4-bit formats are 0.5)."""
MAX_LATENCY_MS = 86_400_000.0
"""Latency targets, milliseconds (one day)."""
MIN_LATENCY_MS = 0.001
"""The tightest latency target, milliseconds (one microsecond; a decode step takes milliseconds). Targets are turned
into seconds and divided by: 5e-324 ms underflowed to 0 s, a ZeroDivisionError."""
MAX_SECONDS = 86_400.0
"""Any duration assumption, seconds (one day)."""
MAX_USD_PER_HOUR = 10_000.0
"""An instance price, USD per hour (the dearest EC2 instance is below 200)."""
MIN_USD_PER_HOUR = 1e-6
"""The lowest instance price accepted, USD per hour: far below any EC2 price (GPU instances' spot prices are above
$0.10; moto's stand-in is 1e-5), and far above a subnormal 1e-320, which priced a fleet at nothing."""
MAX_INSTANCE_TYPES = 1_000
"""Entries of an instance-type allow-list (the planner's candidate search grows with it; EC2 has about 900 types)."""
MAX_CONFIG_BYTES = 4 << 20
"""A config.json (4 MiB). Published ones are below 100 KiB, even with long label maps."""
MAX_JSON_DEPTH = 64
"""Nesting depth of a config.json, stack value or plan JSON (published configs nest 3 deep)."""
MAX_STACK_FILE_BYTES = 1 << 20
"""A Pulumi.<stack>.yaml (1 MiB)."""
MAX_REPORT_INPUT_BYTES = 16 << 20
"""A plan JSON or stack file given to `report` (16 MiB; a plan with every rejected candidate is below 1 MiB)."""
MAX_REPORT_STACKS = 200
"""Stack files or plans on one side of a `report` (each runs the program under mocks, 0.1-0.3 s): a pull request that
adds thousands of stack files must not hold the report job for an hour."""
MAX_NAME_CHARS = 512
"""A model argument (preset, repo id or path), instance type or region name."""
MAX_LOCK_BYTES = 4 << 20
"""A plan lock, Pulumi.<stack>.plan.json (4 MiB; the example stacks' locks are 12-31 KiB, a plan with every rejected
candidate of a 1,000-type allow-list below 1 MiB)."""
