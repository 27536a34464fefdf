"""The Router against real executor processes on loopback."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from docarray import Document, DocumentArray
from jina_mesh.services.gateway.connections import ExecutorClient, ExecutorUnreachable
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest
from jina_mesh.services.gateway.router import BadTargetExecutor, Router

from jina.documents import docs_from_content
from jina.proto import jina_pb2
from jina.topology import ExecutorNode
from jina.wire import dict_to_struct, struct_to_dict


@pytest.fixture(scope="module")
def ports(executor_processes):
    return {
        "first": executor_processes("tests.executors:Appender", "first", "--uses-with", '{"letter": "1"}'),
        "indexer": executor_processes("tests.executors:IndexOnly", "indexer"),
        "second": executor_processes("tests.executors:Appender", "second", "--uses-with", '{"letter": "2"}'),
        "failing": executor_processes("tests.executors:Failing", "failing"),
        "counter": executor_processes("tests.executors:Results", "counter"),
    }


def request(endpoint="/", texts=("t",), target="", parameters=None) -> PassthroughRequest:
    full = jina_pb2.DataRequestProto()
    full.header.exec_endpoint = endpoint
    if target:
        full.header.target_executor = target
    if parameters:
        dict_to_struct(parameters, full.parameters)
    full.data.docs.CopyFrom(DocumentArray([Document(text=t) for t in texts]).to_protobuf())
    return PassthroughRequest.FromString(full.SerializeToString())


def route(ports, names, message, timeout_send=None):
    async def run():
        clients = [ExecutorClient(ExecutorNode(n, (f"127.0.0.1:{ports[n]}",))) for n in names]
        try:
            response = await Router(clients, timeout_send=timeout_send).route(message)
        finally:
            for c in clients:
                await c.close()
        return jina_pb2.DataRequestProto.FromString(response.SerializeToString())

    return asyncio.run(run())


def test_chain_applies_in_order_with_timed_routes(ports):
    response = route(ports, ["first", "second"], request(texts=["a", "b"]))
    assert docs_from_content(response.data).texts == ["a12", "b12"]
    assert [r.executor for r in response.routes] == ["gateway", "first", "second"]
    gateway, first, second = response.routes
    assert gateway.start_time.ToNanoseconds() <= first.start_time.ToNanoseconds()
    assert first.start_time.ToNanoseconds() < first.end_time.ToNanoseconds() <= second.start_time.ToNanoseconds()
    assert second.end_time.ToNanoseconds() <= gateway.end_time.ToNanoseconds()
    assert response.header.request_id  # assigned when the client sent none


def test_executor_binding_neither_endpoint_nor_default_is_skipped(ports):
    response = route(ports, ["first", "indexer", "second"], request("/search"))
    assert [r.executor for r in response.routes] == ["gateway", "first", "second"]
    response = route(ports, ["first", "indexer", "second"], request("/index"))
    assert [r.executor for r in response.routes] == ["gateway", "first", "indexer", "second"]
    assert docs_from_content(response.data)[0].tags["indexed"] is True


def test_target_executor_is_a_regex_over_names(ports):
    response = route(ports, ["first", "second"], request(target="sec.*"))
    assert [r.executor for r in response.routes] == ["gateway", "second"]
    with pytest.raises(BadTargetExecutor):
        route(ports, ["first"], request(target="(unclosed"))


def test_error_status_stops_the_chain_and_is_recorded_on_the_route(ports):
    response = route(ports, ["first", "failing", "second"], request("/fail"))
    assert response.header.status.code == jina_pb2.StatusProto.ERROR
    assert response.header.status.exception.executor == "failing"
    assert [r.executor for r in response.routes] == ["gateway", "first", "failing"]
    assert response.routes[-1].status.exception.name == "ValueError"


def test_results_are_gathered_and_parameters_restored(ports):
    response = route(ports, ["counter", "first"], request(texts=["a"], parameters={"echo": "x"}))
    params = struct_to_dict(response.parameters)
    assert params["echo"] == "x"
    assert params["__results__"] == {"counter": {"count": 1.0, "echo": "x"}}


def test_unreachable_executor_raises_with_its_name_and_address(ports):
    from jina.flow.ports import free_port

    ports = {**ports, "ghost": free_port()}
    with pytest.raises(ExecutorUnreachable) as info:
        route(ports, ["first", "ghost"], request())
    assert info.value.executor == "ghost"
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    assert str(ports["ghost"]) in str(info.value)


def test_documents_are_forwarded_as_bytes_never_decoded(ports):
    # bytes that are no valid DataContentProto: decoding them anywhere in the gateway would fail
    message = request("/search")
    message.data = b"\xff\xfe not a protobuf message"

    async def run():
        client = ExecutorClient(ExecutorNode("indexer", (f"127.0.0.1:{ports['indexer']}",)))
        try:
            return await Router([client]).route(message)
        finally:
            await client.close()

    response = asyncio.run(run())
    assert response.data == b"\xff\xfe not a protobuf message"
