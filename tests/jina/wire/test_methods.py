"""Method paths and service names, as the generated stubs' descriptors name them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2_grpc

from jina import wire
from jina.proto import jina_pb2, jina_pb2_grpc


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (wire.CALL, "/jina.JinaRPC/Call"),
        (wire.PROCESS_SINGLE_DATA, "/jina.JinaSingleDataRequestRPC/process_single_data"),
        (wire.PROCESS_DATA, "/jina.JinaDataRequestRPC/process_data"),
        (wire.ENDPOINT_DISCOVERY, "/jina.JinaDiscoverEndpointsRPC/endpoint_discovery"),
        (wire.DRY_RUN, "/jina.JinaGatewayDryRunRPC/dry_run"),
        (wire.STATUS, "/jina.JinaInfoRPC/_status"),
        (wire.STREAM_DOC, "/jina.JinaSingleDocumentRequestRPC/stream_doc"),
        (wire.HEALTH_CHECK, "/grpc.health.v1.Health/Check"),
    ],
)
def test_method_paths_are_jinas(path, expected):
    assert path == expected


def test_service_names_are_the_prefixes_of_their_paths():
    assert wire.split_path(wire.CALL) == (wire.JINA_RPC, "Call")
    assert wire.split_path(wire.PROCESS_SINGLE_DATA)[0] == wire.JINA_SINGLE_DATA_REQUEST_RPC
    assert wire.split_path(wire.PROCESS_DATA)[0] == wire.JINA_DATA_REQUEST_RPC
    assert wire.split_path(wire.ENDPOINT_DISCOVERY)[0] == wire.JINA_DISCOVER_ENDPOINTS_RPC
    assert wire.split_path(wire.DRY_RUN)[0] == wire.JINA_GATEWAY_DRY_RUN_RPC
    assert wire.split_path(wire.STATUS)[0] == wire.JINA_INFO_RPC
    assert wire.split_path(wire.STREAM_DOC)[0] == wire.JINA_SINGLE_DOCUMENT_REQUEST_RPC
    assert wire.split_path(wire.HEALTH_CHECK) == (wire.HEALTH, "Check")


def test_the_paths_are_those_the_generated_stubs_call():
    class Recorder:
        def __init__(self):
            self.paths = []

        def _record(self, path, *args, **kwargs):
            self.paths.append(path)

        unary_unary = unary_stream = stream_unary = stream_stream = _record

    jina_stubs, health_stubs = Recorder(), Recorder()
    jina_pb2_grpc.JinaRPCStub(jina_stubs)
    jina_pb2_grpc.JinaSingleDataRequestRPCStub(jina_stubs)
    jina_pb2_grpc.JinaInfoRPCStub(jina_stubs)
    health_pb2_grpc.HealthStub(health_stubs)
    assert {wire.CALL, wire.PROCESS_SINGLE_DATA, wire.STATUS} <= set(jina_stubs.paths)
    assert wire.HEALTH_CHECK in health_stubs.paths


def test_a_method_the_service_lacks_is_a_key_error():
    with pytest.raises(KeyError):
        wire.method_path(jina_pb2.DESCRIPTOR.services_by_name["JinaRPC"], "call")


def test_the_package_exports_every_public_name_of_its_modules():
    defined = set()
    for path in Path(wire.__file__).parent.glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.add(node.name)
            elif isinstance(node, ast.Assign):
                defined.update(target.id for target in node.targets if isinstance(target, ast.Name))
    public = {name for name in defined if not name.startswith("_")}
    assert sorted(wire.__all__) == wire.__all__
    assert set(wire.__all__) == public
    assert all(hasattr(wire, name) for name in wire.__all__)
