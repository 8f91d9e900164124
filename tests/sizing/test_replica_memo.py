"""Replica models shared by the plan() calls of one process (sizing/planner/replica_memo.py): a plan is the same
whatever was planned before it, a repeated request shape builds no replica model again (issue 21, item 7: the engine's
speed), and the store stays bounded."""

import pytest

from sizing.models.presets import load_preset
from sizing.planner import replica, replica_memo
from sizing.planner.plan import plan
from sizing.planner.request import Deployment, PlanRequest, Workload


def _request(concurrency: int = 32, kv_dtype: str = "auto", output_tokens: int = 256) -> PlanRequest:
    workload = Workload(concurrency=concurrency, output_tokens=output_tokens, ttft_ms=2000, tpot_ms=50)
    return PlanRequest(
        model=load_preset("llama-3.1-8b"), workload=workload, deployment=Deployment(weights="auto", kv_dtype=kv_dtype)
    )


@pytest.fixture(autouse=True)
def empty_store():
    replica_memo.clear_shared_memos()
    yield
    replica_memo.clear_shared_memos()


def test_a_plan_is_the_same_whatever_was_planned_before():
    alone = plan(_request()).model_dump_json()
    for other in (_request(concurrency=200), _request(kv_dtype="fp8"), _request(output_tokens=64)):
        plan(other)
    assert plan(_request()).model_dump_json() == alone
    replica_memo.clear_shared_memos()
    assert plan(_request()).model_dump_json() == alone


def test_a_repeated_request_shape_builds_no_replica_model_again(monkeypatch):
    # The bench's in-process plan: the same model and request shape at another concurrency. Before the shared store
    # every plan() sized every placement again (about a hundred memory breakdowns and load models per search).
    plan(_request(concurrency=32))
    built = []
    original = replica.memory_breakdown
    monkeypatch.setattr(replica, "memory_breakdown", lambda *a, **k: built.append(1) or original(*a, **k))
    plan(_request(concurrency=33))
    assert built == []


def test_the_store_keeps_the_most_recent_contexts_only():
    for i in range(replica_memo.SHARED_CONTEXTS + 5):
        replica_memo.shared_memos(("context", i))
    models = replica_memo.shared_memos(("context", replica_memo.SHARED_CONTEXTS + 4)).models
    assert len(replica_memo._store) == replica_memo.SHARED_CONTEXTS
    assert ("context", 0) not in replica_memo._store
    models["x"] = 1
    assert replica_memo.shared_memos(("context", replica_memo.SHARED_CONTEXTS + 4)).models == {"x": 1}


def test_identity_keys_tell_equal_objects_apart():
    a, b = [1], [1]
    assert replica_memo.Same(a) == replica_memo.Same(a)
    assert replica_memo.Same(a) != replica_memo.Same(b)


def test_another_request_shape_builds_no_speed_model_again(monkeypatch):
    # A speed model holds nothing of the request shape: a plan of other lengths reuses every one the first built
    # (its memory and load models, which do depend on the shape, are built again).
    from sizing.planner import search

    plan(_request(output_tokens=256))
    built = []
    original = search.ReplicaSpeed
    monkeypatch.setattr(search, "ReplicaSpeed", lambda *a: built.append(1) or original(*a))
    plan(_request(output_tokens=64))
    assert built == []
    replica_memo.clear_shared_memos()
    plan(_request(output_tokens=64))
    assert built


def test_the_speed_store_is_bounded():
    for i in range(replica_memo.SHARED_SPEEDS + 5):
        replica_memo.shared_speed(("speed", i), object)
    assert len(replica_memo._speeds) == replica_memo.SHARED_SPEEDS
    assert ("speed", 0) not in replica_memo._speeds


def test_the_store_holds_every_context_of_one_plan(monkeypatch):
    # The most contexts a plan uses: three weight formats (auto) with the 16-bit KV cache and its FP8-KV alternative.
    from sizing.planner import search

    contexts = set()
    original_memos = search.shared_memos
    monkeypatch.setattr(search, "shared_memos", lambda context: contexts.add(context) or original_memos(context))
    workload = Workload(concurrency=512, input_tokens=128, output_tokens=1024)
    req = PlanRequest(model=load_preset("llama-3.1-8b"), workload=workload, deployment=Deployment(weights="auto"))
    plan(req)
    assert len(contexts) == 6
    assert len(contexts) <= replica_memo.SHARED_CONTEXTS
    built = []
    original = replica.memory_breakdown
    monkeypatch.setattr(replica, "memory_breakdown", lambda *a, **k: built.append(1) or original(*a, **k))
    plan(req.model_copy(update={"workload": workload.model_copy(update={"concurrency": 513})}))
    assert built == []


def test_a_store_smaller_than_a_plan_builds_its_replica_models_again(monkeypatch):
    # The broken case: a store of fewer contexts than one plan uses drops some before the same plan asks again.
    monkeypatch.setattr(replica_memo, "SHARED_CONTEXTS", 2)
    workload = Workload(concurrency=512, input_tokens=128, output_tokens=1024)
    req = PlanRequest(model=load_preset("llama-3.1-8b"), workload=workload, deployment=Deployment(weights="auto"))
    plan(req)
    built = []
    original = replica.memory_breakdown
    monkeypatch.setattr(replica, "memory_breakdown", lambda *a, **k: built.append(1) or original(*a, **k))
    plan(req)
    assert built
