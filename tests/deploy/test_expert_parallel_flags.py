"""The vLLM flags follow the plan's MoE layout: expert parallelism and data-parallel attention (issue 9)."""

from deploy.fleet_spec import vllm_args
from deploy.options import FleetOptions
from tests.sizing.test_expert_parallel import r1_plan


def test_plan_json_and_vllm_flags_follow_the_layout():
    p = r1_plan()
    choice = p.model_dump(mode="json")["choice"]
    assert (choice["expert_parallel"], choice["data_parallel"]) == (True, 8)
    args = vllm_args(p, FleetOptions(), p.model)
    assert "--enable-expert-parallel" in args
    assert args[args.index("--data-parallel-size") + 1] == "8"
    assert args[args.index("--tensor-parallel-size") + 1] == "1"
    per_rank = int(args[args.index("--max-num-seqs") + 1])
    assert per_rank * 8 >= p.choice.batch_per_replica > (per_rank - 1) * 8
