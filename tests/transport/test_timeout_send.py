"""timeout_send: a deadline on every gateway→executor call, reported by each protocol, naming the knob."""

from __future__ import annotations

import json
import time

import grpc
import httpx
import pytest
from docarray import Document
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from jina import Client, Flow
from jina.excepts import InternalNetworkError
from jina.proto import jina_pb2
from jina.wire import dict_to_struct


@pytest.fixture(scope="module")
def flow():
    f = Flow(protocol=["grpc", "http", "websocket"], host="127.0.0.1", timeout_send=500)
    with f.add(uses="tests.executors:AsyncSleeper", name="sleeper"):
        yield f


def slow_request(seconds: float) -> jina_pb2.DataRequestProto:
    request = jina_pb2.DataRequestProto()
    request.header.request_id = f"r{seconds}"
    request.header.exec_endpoint = "/"
    dict_to_struct({"seconds": seconds}, request.parameters)
    request.data.docs.docs.append(Document(text="x").to_protobuf())
    return request


def test_grpc_unary_is_deadline_exceeded(flow):
    with grpc.insecure_channel(f"127.0.0.1:{flow.ports['grpc']}") as channel:
        call = channel.unary_unary(
            "/jina.JinaSingleDataRequestRPC/process_single_data",
            request_serializer=jina_pb2.DataRequestProto.SerializeToString,
            response_deserializer=jina_pb2.DataRequestProto.FromString,
        )
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as info:
            call(slow_request(2.0))
        elapsed = time.monotonic() - started
        assert info.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        assert "timeout_send=500 ms" in info.value.details()
        assert elapsed < 1.2
        assert call(slow_request(0.0)).header.status.code == jina_pb2.StatusProto.SUCCESS


def test_grpc_client_raises_naming_timeout_send(flow):
    with Client(port=flow.ports["grpc"]) as client:
        started = time.monotonic()
        with pytest.raises(InternalNetworkError, match="timeout_send"):
            client.post("/", Document(), parameters={"seconds": 2.0})
        assert time.monotonic() - started < 1.2
        assert len(client.post("/", Document(), parameters={"seconds": 0})) == 1


def test_http_is_504(flow):
    base = f"http://127.0.0.1:{flow.ports['http']}"
    started = time.monotonic()
    response = httpx.post(f"{base}/post", json={"data": [{"text": "x"}], "parameters": {"seconds": 2.0}}, timeout=10)
    assert time.monotonic() - started < 1.2
    assert response.status_code == 504
    assert response.json()["error"]["status"] == "DEADLINE_EXCEEDED"
    assert "timeout_send" in response.json()["error"]["message"]
    ok = httpx.post(f"{base}/post", json={"data": [{"text": "x"}], "parameters": {"seconds": 0}}, timeout=10)
    assert ok.status_code == 200


def test_websocket_closes_with_1011(flow):
    url = f"ws://127.0.0.1:{flow.ports['websocket']}/"
    started = time.monotonic()
    with connect(url, subprotocols=["json"]) as socket:
        socket.send(json.dumps({"data": [{"text": "x"}], "parameters": {"seconds": 2.0}}))
        with pytest.raises(ConnectionClosed) as info:
            while True:
                socket.recv(timeout=10)
    assert time.monotonic() - started < 1.2
    assert info.value.rcvd.code == 1011
    assert "timeout_send" in info.value.rcvd.reason and len(info.value.rcvd.reason.encode()) <= 123
    with connect(url, subprotocols=["json"]) as socket:
        socket.send(json.dumps({"data": [{"text": "x"}], "parameters": {"seconds": 0}}))
        assert json.loads(socket.recv(timeout=10))["header"]["status"] is None


def test_a_timed_out_call_is_retried_once_on_another_replica(flows):
    flow = flows(
        Flow(host="127.0.0.1", timeout_send=400).add(uses="tests.executors:SlowFirstReplica", name="s", replicas=2)
    )
    with Client(port=flow.port) as client:
        replicas = [client.post("/", Document(), parameters={"seconds": 3})[0].tags["replica"] for _ in range(6)]
    assert replicas == [1.0] * 6  # every answer came from the fast replica, none failed
