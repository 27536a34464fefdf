"""Bytes that are not a DataRequestProto get INVALID_ARGUMENT in plain words, and the gateway serves on."""

from __future__ import annotations

import grpc
import pytest
from docarray import Document

from jina import Client, Flow
from jina.flow.ports import free_port
from jina.proto import jina_pb2, jina_pb2_grpc
from jina.serve.decoding import INVALID_REQUEST
from jina.wire import CALL, PROCESS_DATA, PROCESS_SINGLE_DATA
from tests.conftest import running

GARBAGE = b"\xff\xff\xff not a protobuf message"


def send_garbage(channel: grpc.Channel, path: str) -> grpc.RpcError:
    """The error a call of `path` carrying GARBAGE ends with (a stream for Call, else unary)."""
    with pytest.raises(grpc.RpcError) as info:
        if path == CALL:
            list(channel.stream_stream(path)(iter([GARBAGE]), timeout=10))
        else:
            channel.unary_unary(path)(GARBAGE, timeout=10)
    return info.value


@pytest.mark.parametrize("path", [CALL, PROCESS_SINGLE_DATA])
def test_garbage_is_an_invalid_argument_that_names_no_internal_type(flows, path):
    flow = flows(Flow().add(uses="tests.executors.Appender"))
    with grpc.insecure_channel(f"127.0.0.1:{flow.port}") as channel:
        info = send_garbage(channel, path)
    assert info.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info.details() == INVALID_REQUEST
    assert "Passthrough" not in info.details() and "jinamesh" not in info.details()
    with Client(port=flow.port) as client:
        assert client.post("/", Document(text="a")).texts == ["ax"]


@pytest.mark.parametrize("path", [CALL, PROCESS_SINGLE_DATA, PROCESS_DATA])
def test_an_executor_answers_garbage_the_same_way(path):
    port = free_port()
    with running("executor", port, "--port", str(port), "--uses", "tests.executors.Appender"):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            info = send_garbage(channel, path)
            assert (info.code(), info.details()) == (grpc.StatusCode.INVALID_ARGUMENT, INVALID_REQUEST)
            request = jina_pb2.DataRequestProto()
            request.data.docs.docs.append(Document(text="a").to_protobuf())
            stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
            assert stub.process_single_data(request, timeout=10).data.docs.docs[0].text == "ax"
