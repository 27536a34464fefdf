"""Errors that leave a real Flow say which executor failed and how, nothing internal (issue 11).

An executor is not there (never up, or killed) under a Flow served over gRPC, HTTP and
WebSocket; every way of asking (the SDK's Client, raw gRPC unary and stream calls, dry run, HTTP
`/post`, the WebSocket) gets an answer naming the executor, without an internal address or port,
gRPC's `debug_error_string` or transport text, or a Python repr. With `debug=True` the gateway
lets that detail through; an Executor's own exception always arrives as it was raised.
"""

from __future__ import annotations

import json
import os
import re
import signal
import time

import grpc
import httpx
import pytest
from docarray import Document, DocumentArray
from google.protobuf import empty_pb2
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from jina import Client, Flow
from jina.flow.ports import free_port
from jina.proto import jina_pb2, jina_pb2_grpc
from tests import executors
from tests.conftest import wait_gone
from tests.services.gateway import executors_errors

TIMEOUT = 60


def _request(text: str = "x", request_id: str = "") -> jina_pb2.DataRequestProto:
    request = jina_pb2.DataRequestProto()
    request.header.exec_endpoint = "/"
    if request_id:
        request.header.request_id = request_id
    request.data.docs.CopyFrom(DocumentArray([Document(text=text)]).to_protobuf())
    return request


def internal_ports(flow: Flow) -> set[int]:
    """Every port a process of the Flow listens on that a client is not given."""
    ports: set[int] = set()
    for service in flow._services:
        argv = service.argv
        for flag in ("--port", "--internal-port"):
            if flag in argv:
                ports.add(int(argv[argv.index(flag) + 1]))
    return ports - set(flow.ports.values())


def assert_nothing_internal(text: str, ports: set[int], where: str) -> None:
    assert text, f"{where}: no message at all"
    assert "127.0.0.1:" not in text, f"{where}: {text}"
    assert "ipv4:" not in text and "debug_error_string" not in text, f"{where}: {text}"
    assert "failed to connect to all addresses" not in text, f"{where}: {text}"
    assert not re.search(r"0x[0-9a-fA-F]{4,}", text), f"{where}: {text}"
    assert "jina_mesh." not in text and "<class" not in text, f"{where}: {text}"
    for port in ports:
        assert not re.search(rf"(?<!\d){port}(?!\d)", text), f"{where} names internal port {port}: {text}"


def kill_service(flow: Flow, name: str) -> None:
    pid = flow.pids[name]
    os.kill(pid, signal.SIGKILL)
    assert wait_gone({pid}) == set()


def grpc_answers(address: str) -> dict[str, str]:
    """What raw gRPC callers are told: unary details, the stream's in-band status, the dry run."""
    answers = {}
    with grpc.insecure_channel(address) as channel:
        with pytest.raises(grpc.RpcError) as failed:
            jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel).process_single_data(_request(), timeout=TIMEOUT)
        assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
        answers["unary"] = failed.value.details()
        answers["unary-repr"] = str(failed.value.details()) + repr(failed.value.trailing_metadata())
        responses = list(
            jina_pb2_grpc.JinaRPCStub(channel).Call(iter([_request(request_id="a"), _request(request_id="b")]))
        )
        assert sorted(r.header.request_id for r in responses) == ["a", "b"]  # the stream went on
        for response in responses:
            status = response.header.status
            assert status.code == jina_pb2.StatusProto.ERROR and status.exception.executor == "enc", status
            answers[f"stream-{response.header.request_id}"] = status.description
            answers[f"stream-{response.header.request_id}-status"] = str(status)
        dry = jina_pb2_grpc.JinaGatewayDryRunRPCStub(channel).dry_run(empty_pb2.Empty(), timeout=TIMEOUT)
        assert dry.code == jina_pb2.StatusProto.ERROR
        answers["dry_run"] = dry.description
        answers["dry_run-status"] = str(dry)
    return answers


def websocket_answers(port: int) -> tuple[str, str]:
    """(the in-band error frame, the close frame's reason) a WebSocket client gets."""
    with connect(f"ws://127.0.0.1:{port}/", subprotocols=["json"]) as ws:
        ws.send(json.dumps({"execEndpoint": "/", "data": [{"text": "x"}]}))
        frame = ws.recv(timeout=TIMEOUT)
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=TIMEOUT)
    received = closed.value.rcvd
    assert received is not None and received.code == 1011
    return str(frame), received.reason


def test_an_unreachable_executor_is_named_and_nothing_internal_leaves(flows):
    # an executor that never answered fails requests at once (one that was killed is waited for
    # a while, in case it restarts: test_debug_lets_the_details_through kills one)
    dead = free_port()
    flow = flows(
        Flow(protocol=["grpc", "http", "websocket"], host="127.0.0.1").add(
            name="enc", host="127.0.0.1", port=dead, external=True
        )
    )
    ports = internal_ports(flow) | {dead}

    texts = grpc_answers(f"127.0.0.1:{flow.ports['grpc']}")
    assert texts["unary"] == "executor 'enc' is unreachable (UNAVAILABLE)"
    assert "executor 'enc' is unreachable (UNAVAILABLE)" in texts["stream-a"]
    assert "enc" in texts["dry_run"] and "UNAVAILABLE" in texts["dry_run"]

    # the SDK's Client (over the shared JinaRPC.Call stream)
    client = Client(host="127.0.0.1", port=flow.ports["grpc"], protocol="grpc")
    with pytest.raises(Exception) as raised:
        client.post("/", inputs=DocumentArray([Document(text="x")]))
    texts["client"] = str(raised.value)
    assert "executor 'enc' is unreachable" in texts["client"]

    http = httpx.post(f"http://127.0.0.1:{flow.ports['http']}/post", json={"data": [{"text": "x"}]}, timeout=TIMEOUT)
    assert http.status_code == 503
    texts["http"] = http.text + json.dumps(dict(http.headers))
    assert "executor 'enc' is unreachable (UNAVAILABLE)" in http.json()["error"]["message"]
    dry = httpx.get(f"http://127.0.0.1:{flow.ports['http']}/dry_run", timeout=TIMEOUT)
    texts["http-dry_run"] = dry.text

    texts["ws-frame"], texts["ws-close"] = websocket_answers(flow.ports["websocket"])
    assert "executor 'enc' is unreachable" in texts["ws-frame"]
    assert "enc" in texts["ws-close"]

    for where, text in texts.items():
        assert_nothing_internal(text, ports, where)


def test_the_gateway_unreachable_from_the_bridge_names_no_address(flows):
    flow = Flow(protocol=["http", "websocket"], host="127.0.0.1").add(uses=executors.Appender, name="enc")
    flow.restart_policy = None
    flow = flows(flow)
    ports = internal_ports(flow)
    kill_service(flow, "gateway")
    texts = {}
    http = httpx.post(f"http://127.0.0.1:{flow.ports['http']}/post", json={"data": [{"text": "x"}]}, timeout=TIMEOUT)
    assert http.status_code == 503
    texts["http"] = http.text
    texts["http-dry_run"] = httpx.get(f"http://127.0.0.1:{flow.ports['http']}/dry_run", timeout=TIMEOUT).text
    with connect(f"ws://127.0.0.1:{flow.ports['websocket']}/", subprotocols=["json"]) as ws:
        with pytest.raises(ConnectionClosed) as closed:  # the bridge may close before the send
            ws.send(json.dumps({"execEndpoint": "/", "data": [{"text": "x"}]}))
            ws.recv(timeout=TIMEOUT)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1011
    texts["ws-close"] = closed.value.rcvd.reason
    for where, text in texts.items():
        assert_nothing_internal(text, ports, where)


def test_debug_lets_the_details_through(flows):
    flow = Flow(protocol=["grpc", "websocket"], host="127.0.0.1", debug=True).add(uses=executors.Appender, name="enc")
    flow.restart_policy = None
    flow = flows(flow)
    enc_port = next(s.port for s in flow._services if s.name == "enc")
    kill_service(flow, "enc")
    deadline = time.monotonic() + TIMEOUT
    texts = grpc_answers(f"127.0.0.1:{flow.ports['grpc']}")
    assert time.monotonic() < deadline
    assert f"executor 'enc' at 127.0.0.1:{enc_port}: UNAVAILABLE" in texts["unary"]
    assert f"127.0.0.1:{enc_port}" in texts["stream-a"]
    assert f"127.0.0.1:{enc_port}" in texts["dry_run"]
    frame, reason = websocket_answers(flow.ports["websocket"])
    assert f"127.0.0.1:{enc_port}" in frame
    assert "enc" in reason


def test_an_executor_s_own_exception_reaches_the_client_unchanged(flows):
    """Only the Flow's own messages are sanitised: what the user's Executor raised is theirs."""
    flow = flows(
        Flow(protocol=["grpc", "http"], host="127.0.0.1").add(uses=executors_errors.RaisesWithAnAddress, name="db")
    )
    message = executors_errors.USER_MESSAGE
    with grpc.insecure_channel(f"127.0.0.1:{flow.ports['grpc']}") as channel:
        (response,) = jina_pb2_grpc.JinaRPCStub(channel).Call(iter([_request()]), timeout=TIMEOUT)
    exception = response.header.status.exception
    assert (exception.name, exception.executor, list(exception.args)) == ("ConnectionError", "db", [message])
    http = httpx.post(f"http://127.0.0.1:{flow.ports['http']}/post", json={"data": [{"text": "x"}]}, timeout=TIMEOUT)
    assert http.status_code == 500
    assert http.json()["header"]["status"]["exception"]["args"] == [message]
    assert message in http.json()["error"]["message"]


def test_an_executor_too_slow_for_timeout_send_is_named_without_its_address(flows):
    flow = flows(
        Flow(protocol=["grpc", "http"], host="127.0.0.1", timeout_send=500).add(
            uses=executors.AsyncSleeper, name="slow"
        )
    )
    ports = internal_ports(flow)
    request = _request()
    request.parameters.update({"seconds": 3})
    with grpc.insecure_channel(f"127.0.0.1:{flow.ports['grpc']}") as channel:
        with pytest.raises(grpc.RpcError) as failed:
            jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel).process_single_data(request, timeout=TIMEOUT)
    assert failed.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert failed.value.details().startswith("executor 'slow' did not answer within timeout_send=500 ms")
    body = {"data": [{"text": "x"}], "parameters": {"seconds": 3}}
    http = httpx.post(f"http://127.0.0.1:{flow.ports['http']}/post", json=body, timeout=TIMEOUT)
    assert http.status_code == 504
    for where, text in {"grpc": failed.value.details(), "http": http.text}.items():
        assert_nothing_internal(text, ports, where)
