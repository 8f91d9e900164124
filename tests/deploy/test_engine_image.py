"""The image the fleet runs and the engine profile the plan follows are one setting (issue 19, item 10)."""

import pytest

from deploy.fleet_spec import PlatformError, serving_image
from deploy.options import DEFAULT_VLLM_IMAGE, FleetOptions
from sizing.catalog.engines import get_engine
from sizing.models.presets import load_preset
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload


def _plan(engine: str | None = None, instance: str = "p5.4xlarge", model: str = "llama-3.1-8b"):
    return plan(
        PlanRequest(
            model=load_preset(model),
            workload=Workload(concurrency=8),
            deployment=Deployment(instance_types=(instance,), engine=engine),
        )
    )


def test_default_image_is_the_default_profiles():
    assert DEFAULT_VLLM_IMAGE == get_engine().image
    assert serving_image(_plan(), FleetOptions()) == get_engine().image


def test_a_plan_on_another_profile_runs_that_releases_image():
    p = _plan("vllm-0.34")
    assert p.engine == "vllm-0.34"
    assert serving_image(p, FleetOptions()) == "vllm/vllm-openai:v0.34.0"


def test_an_image_of_another_release_is_refused():
    with pytest.raises(PlatformError, match="To fix"):
        serving_image(_plan("vllm-0.34"), FleetOptions(vllm_image="vllm/vllm-openai:v0.33.0"))


def test_a_digest_is_the_users_word():
    image = "vllm/vllm-openai@sha256:" + "0" * 64
    assert serving_image(_plan("vllm-0.34"), FleetOptions(vllm_image=image)) == image


def test_multi_node_on_a_profile_without_an_efa_image_is_refused():
    """vllm-0.34 names no EFA image (AWS's vLLM containers are not built from 0.34): a multi-node replica would run
    NCCL over TCP or another release, so it asks for an efa_image."""
    p = _plan("vllm-0.34", "p5.48xlarge", "deepseek-v3")
    if p.choice.nodes_per_replica == 1:
        pytest.skip("the plan fits one node")
    with pytest.raises(PlatformError, match="efa_image"):
        serving_image(p, FleetOptions())


def test_a_tag_naming_no_release_is_the_users_word():
    assert serving_image(_plan("vllm-0.34"), FleetOptions(vllm_image="public.ecr.aws/x/y:1")) == "public.ecr.aws/x/y:1"
