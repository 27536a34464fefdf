"""A replica connection's shared stream to a real executor: demultiplexing, unary fallbacks, and recovery.

The stream itself (jina.serve.multiplex) is tested in tests/jina/serve/test_multiplex.py.
"""

from __future__ import annotations

import asyncio

from docarray import Document, DocumentArray
from jina_mesh.services.gateway.connections import STREAM_MAX_BYTES, ExecutorClient, ReplicaConnection
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest

from jina.documents import docs_from_content
from jina.proto import jina_pb2
from jina.topology import ExecutorNode
from tests.services.conftest import start_executor


def message(request_id: str, text: str) -> PassthroughRequest:
    full = jina_pb2.DataRequestProto()
    full.header.request_id = request_id
    full.header.exec_endpoint = "/"
    full.data.docs.CopyFrom(DocumentArray([Document(text=text)]).to_protobuf())
    return PassthroughRequest.FromString(full.SerializeToString())


def texts(response: PassthroughRequest) -> list[str]:
    return docs_from_content(jina_pb2.DataRequestProto.FromString(response.SerializeToString()).data).texts


def test_many_concurrent_requests_share_one_stream_and_get_their_own_answers(executor_processes):
    port = executor_processes("tests.executors:Sleeper", "sleeper")

    async def run():
        replica = ReplicaConnection(f"127.0.0.1:{port}")
        try:
            requests = [message(f"r{i}", f"t{i}") for i in range(50)]
            for r in requests:
                r.parameters.update({"seconds": 0.001})
            responses = await asyncio.gather(*(replica.send(r, timeout=10) for r in requests))
            stream = replica._stream
        finally:
            await replica.close()
        return responses, stream

    responses, stream = asyncio.run(run())
    assert stream is not None
    assert [r.header.request_id for r in responses] == [f"r{i}" for i in range(50)]
    assert [texts(r) for r in responses] == [[f"t{i}"] for i in range(50)]


def test_same_request_id_twice_and_large_requests_fall_back_to_unary(executor_processes):
    port = executor_processes("tests.executors:Appender", "appender", "--uses-with", '{"letter": "!"}')

    async def run():
        replica = ReplicaConnection(f"127.0.0.1:{port}")
        try:
            twins = await asyncio.gather(replica.send(message("same", "a"), 10), replica.send(message("same", "b"), 10))
            big = await replica.send(message("big", "x" * (STREAM_MAX_BYTES + 10)), 10)
        finally:
            await replica.close()
        return twins, big

    twins, big = asyncio.run(run())
    assert sorted(texts(r)[0] for r in twins) == ["a!", "b!"]
    assert texts(big)[0] == "x" * (STREAM_MAX_BYTES + 10) + "!"


def test_stream_recovers_after_the_executor_restarts():
    proc, port = start_executor("tests.executors:Appender", "restarting", "--uses-with", '{"letter": "1"}')

    async def run():
        client = ExecutorClient(ExecutorNode("restarting", (f"127.0.0.1:{port}",)))
        try:
            first = await client.send(message("a", "x"))
            proc.terminate()
            proc.wait(10)
            restarted, _ = start_executor(
                "tests.executors:Appender", "restarting", "--uses-with", '{"letter": "2"}', port=port
            )
            try:
                second = await client.send(message("b", "y"))
            finally:
                restarted.terminate()
                restarted.wait(10)
        finally:
            await client.close()
        return first, second

    try:
        first, second = asyncio.run(run())
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert texts(first) == ["x1"]
    assert texts(second) == ["y2"]
