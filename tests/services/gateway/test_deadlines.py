"""The caller's deadline (`post(timeout=...)`, the header's `timeout`) is honoured by the gateway."""

from __future__ import annotations

import time

import grpc
import pytest
from docarray import Document

from jina import Client, Flow
from jina.excepts import BadClient, InternalNetworkError
from jina.proto import jina_pb2, jina_pb2_grpc


@pytest.fixture(scope="module")
def slow_flow():
    with (
        Flow()
        .add(name="slow", uses="tests.executors.AsyncSleeper")
        .add(name="tag", uses="tests.executors.Tagger") as flow
    ):
        yield flow


def test_a_request_that_cannot_finish_in_time_fails_by_its_deadline_naming_the_executor(slow_flow):
    with Client(port=slow_flow.port) as client:
        started = time.monotonic()
        with pytest.raises(InternalNetworkError) as info:
            client.post("/", Document(text="x"), parameters={"seconds": 30}, timeout=0.5)
        waited = time.monotonic() - started
        assert "deadline of 500 ms" in str(info.value) and info.value.executor == "slow"
        assert waited < 20  # answered at the deadline, not after the executor's 30 s
        # the gateway and executor serve on; a deadline long enough changes nothing
        docs = client.post("/", Document(text="y"), parameters={"seconds": 0.05}, timeout=10)
        assert docs[0].tags["tag"] is True


def test_the_unary_call_gets_deadline_exceeded(slow_flow):
    request = jina_pb2.DataRequestProto()
    request.header.exec_endpoint = "/"
    request.header.timeout = 300
    request.parameters.update({"seconds": 30})
    request.data.docs.SetInParent()
    with grpc.insecure_channel(f"127.0.0.1:{slow_flow.port}") as channel:
        stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.process_single_data(request, timeout=20)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "deadline of 300 ms" in info.value.details()


@pytest.mark.parametrize("timeout", [0, -1, "1", True])
def test_a_bad_timeout_is_a_client_error(slow_flow, timeout):
    with Client(port=slow_flow.port) as client, pytest.raises(BadClient, match="timeout must be seconds"):
        client.post("/", Document(), timeout=timeout)
