"""What the searches of one plan() share (sizing/planner/search.py PlanScope) and the best-only ranking
(sizing/planner/ranking.py best): the candidates before sizing never depend on the workload or the KV cache, so the
FP8-KV alternative's search and the frontier's reuse them, and best() is order()'s first."""

import pytest

from sizing.models.presets import load_preset
from sizing.planner import search as search_module
from sizing.planner.formats import requested_formats
from sizing.planner.plan import plan
from sizing.planner.ranking import best, order
from sizing.planner.request import Deployment, PlanRequest, Workload
from sizing.planner.search import PlanScope, search, unsized

REQUESTS = (
    PlanRequest(model=load_preset("llama-3.1-70b"), workload=Workload(concurrency=40, ttft_ms=2000, tpot_ms=50)),
    PlanRequest(
        model=load_preset("mixtral-8x7b"),
        workload=Workload(concurrency=128, kind="batch", input_tokens=1024, output_tokens=256),
        deployment=Deployment(weights="native", region="us-west-2"),
    ),
    PlanRequest(
        model=load_preset("deepseek-v3"),
        workload=Workload(concurrency=8, tpot_ms=60),
        deployment=Deployment(instance_types=("p5.48xlarge", "p4d.24xlarge", "g6e.48xlarge")),
    ),
)


def _with(req: PlanRequest, **deployment) -> PlanRequest:
    return req.model_copy(update={"deployment": req.deployment.model_copy(update=deployment)})


@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: r.model.name)
def test_the_candidates_before_sizing_do_not_read_the_kv_cache_or_the_workload(req):
    formats = requested_formats(req.model, req.deployment.weights)
    plain = unsized(req, formats)
    assert unsized(_with(req, kv_dtype="fp8"), formats) == plain
    other = req.model_copy(update={"workload": Workload(concurrency=3, input_tokens=100, output_tokens=10)})
    assert unsized(other, formats) == plain


def test_a_plan_builds_its_candidates_once_for_the_search_and_its_fp8_alternative(monkeypatch):
    built = []

    def counted(req, formats):
        built.append((req.deployment.kv_dtype, req.deployment.instance_types))
        return unsized(req, formats)

    monkeypatch.setattr(search_module, "unsized", counted)
    result = plan(REQUESTS[0])
    assert result.kv_alternative is not None  # the FP8-KV search ran
    # the plan's (and its FP8-KV alternative's) once, the frontier's chosen type once for its four searches
    assert built == [("auto", None), ("auto", (result.choice.instance_type,))]


def test_a_scope_tells_deployments_apart_beyond_the_kv_cache():
    req = REQUESTS[0]
    scope = PlanScope()
    formats = requested_formats(req.model, req.deployment.weights)
    first = scope.unsized(req, formats)
    assert scope.unsized(_with(req, kv_dtype="fp8"), formats) is first
    assert scope.unsized(_with(req, region="eu-west-1"), formats) is not first
    other_model = req.model_copy(update={"model": load_preset("llama-3.1-8b")})
    assert scope.unsized(other_model, formats) is not first


@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: r.model.name)
def test_best_is_the_order_s_first(req):
    ranked, _, _ = search(req, {})
    assert ranked, "the case needs feasible candidates"
    assert best(req, ranked) is ranked[0]
    shuffled = ranked[::-1]  # ties keep the order given, in both
    assert best(req, shuffled) is order(req, shuffled)[0]


@pytest.mark.parametrize("req", REQUESTS, ids=lambda r: r.model.name)
def test_a_best_only_search_in_a_scope_finds_the_full_search_s_best(req):
    full, _, _ = search(req, {})
    scope = PlanScope()
    search(req, {}, scope=scope)  # fills the scope, as the plan's own search does
    best_only, _, _ = search(_with(req, kv_dtype=req.deployment.kv_dtype), {}, best_only=True, scope=scope)
    assert best_only[0].placement is full[0].placement and best_only[0].fmt is full[0].fmt
