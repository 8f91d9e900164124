"""Values that reach the node's bootstrap script are checked before they get there: config paths, served names,
images (issue 10's review)."""

from __future__ import annotations

import json
import shutil

import pytest

from components.userdata import BootContext, render_user_data
from deploy.fleet_spec import capacity_spec, node_spec
from deploy.shell_values import UnsafeShellValueError
from preview.mock_run import MockRun, run_stack
from tests.fleet_run import fleet_run
from tests.stack_runs import ROOT, stack_options, stack_run


def test_config_path_with_a_newline_cannot_inject(tmp_path):
    evil = tmp_path / "m\ntouch ${HOME}pwned #" / "config.json"
    evil.parent.mkdir()
    shutil.copy(ROOT / "tests/data/configs/codellama-7b.json", evil)
    stack = tmp_path / "Pulumi.evil.yaml"
    stack.write_text(
        json.dumps(
            {
                "config": {
                    "aws:region": "us-east-1",
                    "llmfleet:model": str(evil),
                    "llmfleet:deployment": {"instance_types": ["g6e.xlarge"]},
                    "llmfleet:fleet": {
                        "allowed_cidrs": ["10.0.0.0/8"],
                        "weights": {"hf_model_id": "codellama/CodeLlama-7b-hf"},
                    },
                }
            }
        )
    )
    recorded = MockRun(stack="evil")
    with pytest.raises(Exception, match="control character|cannot be passed to the node.s bootstrap script") as info:
        run_stack(stack, recorded)
    assert "\\n" in str(info.value)  # the bad value shown with repr
    assert not recorded.of_type("LaunchTemplate")


def test_user_data_refuses_a_served_name_with_shell_syntax_even_past_the_config_boundary():
    run, cfg = stack_run("dev"), stack_options("dev")
    evil = run.plan.model_copy(update={"model": "m\nreboot #"})
    with pytest.raises(UnsafeShellValueError, match="'m\\\\nreboot #' cannot be passed to the node"):
        render_user_data(
            node_spec(evil, cfg.fleet),
            capacity_spec(evil, cfg.fleet),
            cfg.fleet,
            BootContext(
                "dev",
                "llmfleet/dev/dev",
                evil.checkpoint.repo,
                "llmfleet/x/dev/api-key",
                "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t-tg/0123456789abcdef",
                "/llmfleet/t",
            ),
        )


@pytest.mark.parametrize(
    "field,value", [("vllm_image", "vllm/vllm-openai:v0.19.0;reboot"), ("efa_image", "x/y:1\nreboot")]
)
def test_images_are_checked_before_they_reach_the_script(field, value):
    with pytest.raises((ValueError, UnsafeShellValueError)):
        fleet_run("img", allowed_cidrs=("10.0.0.0/8",), **{field: value})
