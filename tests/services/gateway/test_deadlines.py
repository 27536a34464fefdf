"""The caller's deadline (`post(timeout=...)`, the header's `timeout`) is honoured by the gateway."""

from __future__ import annotations

import json
import socket
import time

import grpc
import httpx
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
    with Client(port=slow_flow.port, timeout=0.3) as client:  # the client's default deadline
        with pytest.raises(InternalNetworkError, match="deadline of 300 ms"):
            client.post("/", Document(text="x"), parameters={"seconds": 30})
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


def test_a_client_bounds_its_own_wait_when_the_server_never_answers(tmp_path):
    """A server that accepts the stream and never answers (not a gateway of ours): NoAnswer after the deadline."""
    import asyncio
    import threading

    from jina.excepts import NoAnswer
    from jina.flow.ports import free_port
    from jina.wire import CALL, split_path

    port = free_port()
    ready = threading.Event()
    stop: list = []

    async def serve() -> None:
        async def call(request_iterator, context):
            async for _ in request_iterator:
                pass  # reads everything, answers nothing
            yield b""  # never reached while the client keeps the stream open

        service, method = split_path(CALL)
        server = grpc.aio.server()
        server.add_generic_rpc_handlers(
            [grpc.method_handlers_generic_handler(service, {method: grpc.stream_stream_rpc_method_handler(call)})]
        )
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        done = asyncio.Event()
        stop.append((asyncio.get_running_loop(), done))
        ready.set()
        await done.wait()
        await server.stop(0)

    thread = threading.Thread(target=asyncio.run, args=(serve(),))
    thread.start()
    try:
        assert ready.wait(10)
        with Client(port=port) as client:
            started = time.monotonic()
            with pytest.raises(NoAnswer, match="timeout=0.3s"):
                client.post("/", Document(), timeout=0.3)
            assert time.monotonic() - started < 10
    finally:
        loop, done = stop[0]
        loop.call_soon_threadsafe(done.set)
        thread.join(10)


# -- the executor sees the cancellation ------------------------------------------------------------


@pytest.fixture
def abandonable(tmp_path):
    marker = tmp_path / "cancelled"
    flow = Flow(protocol=["grpc", "http"], host="127.0.0.1").add(
        name="waiter", uses="tests.executors.Abandonable", uses_with={"marker": str(marker)}
    )
    with flow:
        yield flow, marker


def _cancelled(marker, text: str, within: float = 10.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if marker.exists() and f"cancelled {text}" in marker.read_text().splitlines():
            return True
        time.sleep(0.05)
    return False


def test_a_deadline_cancels_the_executors_work(abandonable):
    flow, marker = abandonable
    with Client(host="127.0.0.1", port=flow.ports["grpc"]) as client:
        with pytest.raises(InternalNetworkError, match="deadline of 500 ms"):
            client.post("/", Document(text="grpc"), parameters={"seconds": 30}, timeout=0.5)
    assert _cancelled(marker, "grpc")
    reply = httpx.post(
        f"http://127.0.0.1:{flow.ports['http']}/post",
        json={"data": [{"text": "http"}], "parameters": {"seconds": 30}},
        headers={"Grpc-Timeout": "300m"},
        timeout=30,
    )
    assert reply.status_code == 504
    assert _cancelled(marker, "http")
    # a gRPC deadline alone (a client in another language sets no header timeout) is honoured too
    request = jina_pb2.DataRequestProto()
    request.header.exec_endpoint = "/"
    request.parameters.update({"seconds": 30})
    request.data.docs.docs.add(text="unary")
    with grpc.insecure_channel(f"127.0.0.1:{flow.ports['grpc']}") as channel:
        stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
        with pytest.raises(grpc.RpcError) as info:
            stub.process_single_data(request, timeout=0.5)
    assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert _cancelled(marker, "unary")


def test_an_http_client_that_leaves_cancels_the_executors_work(abandonable):
    """Leaving long before its deadline: the bridge cancels its call, the gateway its hop, and a hop
    of a request with a deadline is a call of its own, which the executor sees cancelled."""
    flow, marker = abandonable
    body = json.dumps({"data": [{"text": "gone"}], "parameters": {"seconds": 30}}).encode()
    with socket.create_connection(("127.0.0.1", flow.ports["http"]), timeout=10) as sock:
        sock.sendall(
            b"POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nGrpc-Timeout: 60S\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        time.sleep(0.5)  # the request is with the executor
    assert _cancelled(marker, "gone", within=5.0)  # not after the 60 s deadline
    with Client(host="127.0.0.1", port=flow.ports["http"], protocol="http") as client:
        assert client.post("/", Document(text="fine"), parameters={"seconds": 0})[0].tags["waited"] is True
