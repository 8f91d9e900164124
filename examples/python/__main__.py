"""The dev fleet from Python: the llmfleet package's component, given a model and a workload. Nothing else imported."""

import pulumi

from components import LlmServingFleet

fleet = LlmServingFleet(
    "fleet",
    {
        "model": "llama-3.1-8b",
        "workload": {"concurrency": 16, "input_tokens": 1024, "output_tokens": 256, "tpot_ms": 60},
        "deployment": {"instance_types": ["g6.xlarge", "g6e.xlarge", "g5.xlarge", "g5.2xlarge"]},
        "fleet": {
            "allowed_cidrs": ["10.0.0.0/8"],
            "weights": {
                "hf_token_secret_arn": "arn:aws:secretsmanager:us-east-1:123456789012:secret:llmfleet/hf-token-AbCdEf"
            },
            "tags": {"team": "ml-platform", "env": "dev"},
        },
    },
)
pulumi.export("endpoint", fleet.endpoint)
pulumi.export("autoscaling_groups", fleet.group_names)
pulumi.export("plan", fleet.plan)
