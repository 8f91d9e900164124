"""The provider and the policy pack start the way the Pulumi CLI starts them (`python <plugin folder> <engine>`, from
any working directory) and answer over gRPC: the provider serves the schema, the pack lists its policies."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2_grpc, provider_pb2, provider_pb2_grpc

from policy.policies import POLICIES
from provider.package import package_schema

ROOT = Path(__file__).resolve().parents[2]
NO_ENGINE = "127.0.0.1:1"
"""The engine address the CLI would pass; nothing in these calls reaches it."""


@contextmanager
def plugin(folder: Path, cwd: Path) -> Iterator[grpc.Channel]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # the plugin finds the repository by itself
    process = subprocess.Popen(
        [sys.executable, str(folder), NO_ENGINE],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        port = process.stdout.readline().strip()
        assert port.isdigit(), process.stderr.read() if process.stderr else port
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_provider_serves_the_package_schema(tmp_path):
    with plugin(ROOT / "provider", tmp_path) as channel:
        response = provider_pb2_grpc.ResourceProviderStub(channel).GetSchema(
            provider_pb2.GetSchemaRequest(), timeout=60
        )
    assert json.loads(response.schema) == package_schema()


def test_the_policy_pack_lists_its_policies(tmp_path):
    with plugin(ROOT / "policy", tmp_path) as channel:
        info = analyzer_pb2_grpc.AnalyzerStub(channel).GetAnalyzerInfo(empty_pb2.Empty(), timeout=60)
    assert info.name == "llm-fleet"
    assert {p.name: p.enforcementLevel for p in info.policies} == {
        p.name: (1 if p.enforcement_level and p.enforcement_level.value == "mandatory" else 0) for p in POLICIES
    }
