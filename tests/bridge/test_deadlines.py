"""Deadlines over HTTP (the `Grpc-Timeout` header) and WebSocket (per connection from the handshake,
per message from a `bytes` frame's header), through a real bridge, gateway and executor."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from docarray import Document
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

from jina import Client, Flow
from jina.excepts import InternalNetworkError
from jina.proto import jina_pb2


@pytest.fixture(scope="module")
def slow_flow():
    with Flow(protocol=["http", "websocket"], host="127.0.0.1").add(
        name="slow", uses="tests.executors.AsyncSleeper"
    ) as flow:
        yield flow


def _url(flow: Flow, scheme: str = "http") -> str:
    return f"{scheme}://127.0.0.1:{flow.ports['http']}"


def _slow_body(seconds: float) -> dict:
    return {"data": [{"text": "x"}], "parameters": {"seconds": seconds}}


def test_grpc_timeout_header_ends_a_hung_request_with_504(slow_flow):
    started = time.monotonic()
    reply = httpx.post(_url(slow_flow) + "/post", json=_slow_body(30), headers={"Grpc-Timeout": "300m"}, timeout=60)
    assert time.monotonic() - started < 20  # at the deadline, not after the executor's 30 s
    assert reply.status_code == 504
    body = reply.json()
    assert body["error"]["status"] == "DEADLINE_EXCEEDED"
    assert "deadline of 300 ms" in body["error"]["message"] and "'slow'" in body["error"]["message"]
    # the bridge serves on, and a deadline long enough changes nothing
    fine = httpx.post(_url(slow_flow) + "/post", json=_slow_body(0.01), headers={"Grpc-Timeout": "10S"})
    assert fine.status_code == 200 and fine.json()["data"][0]["tags"]["slept"] == 0.01


@pytest.mark.parametrize("value", ["soon", "1", "0S", "123456789S", "-5S", "1.5S"])
def test_a_malformed_grpc_timeout_is_400(slow_flow, value):
    reply = httpx.post(_url(slow_flow) + "/post", json=_slow_body(0), headers={"Grpc-Timeout": value})
    assert reply.status_code == 400
    assert reply.json()["error"]["status"] == "INVALID_ARGUMENT" and "grpc-timeout" in reply.json()["error"]["message"]


@pytest.mark.parametrize("protocol", ["http", "websocket"])
def test_post_timeout_over_the_bridge(slow_flow, protocol):
    with Client(host="127.0.0.1", port=slow_flow.ports[protocol], protocol=protocol) as client:
        started = time.monotonic()
        with pytest.raises(InternalNetworkError, match="deadline of 500 ms"):
            client.post("/", Document(text="x"), parameters={"seconds": 30}, timeout=0.5)
        assert time.monotonic() - started < 20
        # over WebSocket the timed-out request fails alone: the socket and the next requests go on
        docs = client.post("/", Document(text="y"), parameters={"seconds": 0.01}, timeout=10)
        assert docs[0].tags["slept"] == 0.01


def test_a_websocket_deadline_per_connection(slow_flow):
    for url, headers in (
        (_url(slow_flow, "ws") + "/", {"Grpc-Timeout": "300m"}),
        (_url(slow_flow, "ws") + "/?grpc-timeout=300m", {}),  # what a browser can send
    ):
        with ws_connect(url, additional_headers=headers, open_timeout=10) as socket:
            socket.send(json.dumps(_slow_body(30)))
            answer = json.loads(socket.recv(timeout=20))
            assert answer["header"]["status"]["code"] == 1
            assert "deadline of 300 ms" in answer["header"]["status"]["description"]
            socket.send(json.dumps(_slow_body(0.01)))  # the socket is still open and serving
            assert json.loads(socket.recv(timeout=20))["data"][0]["tags"]["slept"] == 0.01


def test_a_bytes_frame_keeps_its_own_earlier_deadline(slow_flow):
    request = jina_pb2.DataRequestProto()
    request.header.request_id = "own-deadline"
    request.header.exec_endpoint = "/"
    request.header.timeout = 200
    request.parameters.update({"seconds": 30})
    request.data.docs.docs.add(text="x")
    url = _url(slow_flow, "ws") + "/?grpc-timeout=60S"
    with ws_connect(url, subprotocols=["bytes"], open_timeout=10) as socket:
        socket.send(request.SerializeToString())
        answer = jina_pb2.DataRequestProto.FromString(socket.recv(timeout=20))
    assert answer.header.request_id == "own-deadline"
    assert "deadline of 200 ms" in answer.header.status.description


def test_a_malformed_websocket_deadline_refuses_the_handshake(slow_flow):
    with pytest.raises(InvalidStatus) as info:
        ws_connect(_url(slow_flow, "ws") + "/?grpc-timeout=later", open_timeout=10)
    assert info.value.response.status_code == 400
