"""The bridge against misbehaving clients (they leave mid-request, send garbage, huge headers,
oversize bodies) and its one JSON error shape; after each, it must still serve."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from jina import Flow
from jina.flow.flow import STOP_GRACE
from tests import executors
from tests.bridge import executors_ws

MAX_BODY = 50 * 1024 * 1024  # the Flow bridge's default body limit
ERROR_KEYS = {"code", "status", "message", "details"}


@pytest.fixture(scope="module")
def flow():
    f = (
        Flow(protocol=["http", "websocket"], host="127.0.0.1")
        .add(uses=executors.AsyncSleeper, name="sleeper")
        .add(uses=executors.Failing, name="failing")
    )
    with f:
        yield f


def base_url(flow: Flow) -> str:
    return f"http://127.0.0.1:{flow.port}"


def assert_serving(flow: Flow) -> None:
    """The bridge still answers its health route and a data request."""
    health = httpx.get(base_url(flow) + "/", timeout=10)
    assert health.status_code == 200 and health.json() == {}
    posted = httpx.post(base_url(flow) + "/post", json={"data": [{"text": "alive"}]}, timeout=30)
    assert posted.status_code == 200, posted.text
    body = posted.json()
    assert [doc["text"] for doc in body["data"]] == ["alive"]
    assert body["header"]["status"] is None


def assert_error_shape(response: httpx.Response, code: int, status: str) -> dict[str, Any]:
    assert response.status_code == code, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == ERROR_KEYS
    assert error["code"] == code
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    return error


# -- raw sockets ----------------------------------------------------------------------------------


def _connect(flow: Flow, timeout: float = 10.0) -> socket.socket:
    return socket.create_connection(("127.0.0.1", flow.port), timeout=timeout)


def read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes] | None:
    """One HTTP/1.1 response (status, lower-cased headers, body); None if the server closed without one."""
    data = b""
    while b"\r\n\r\n" not in data:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return None
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", 0))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return status, headers, body


def exchange(flow: Flow, payload: bytes) -> tuple[int, dict[str, str], bytes] | None:
    with _connect(flow) as sock:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may refuse before reading everything; what it answered still counts
        return read_response(sock)


def open_raw_websocket(flow: Flow, subprotocol: str = "json") -> socket.socket:
    sock = _connect(flow)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Protocol: " + subprotocol.encode() + b"\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "the bridge closed during the WebSocket handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def masked_frame(payload: bytes, opcode: int = 0x1) -> bytes:
    """One final client frame (clients must mask, RFC 6455 §5.3)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        length = bytes([0x80 | size])
    elif size < 65536:
        length = bytes([0x80 | 126]) + size.to_bytes(2, "big")
    else:
        length = bytes([0x80 | 127]) + size.to_bytes(8, "big")
    return bytes([0x80 | opcode]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "the bridge closed the connection"
        data += chunk
    return data


def read_frame(sock: socket.socket) -> tuple[int, bytes]:
    """One (unmasked, unfragmented) server frame: (opcode, payload)."""
    first, second = _recv_exactly(sock, 2)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(_recv_exactly(sock, 2), "big")
    elif size == 127:
        size = int.from_bytes(_recv_exactly(sock, 8), "big")
    return first & 0x0F, _recv_exactly(sock, size)


def sleep_request(seconds: float, request_id: str) -> bytes:
    body = {"header": {"requestId": request_id}, "parameters": {"seconds": seconds}, "data": [{"text": request_id}]}
    return json.dumps(body).encode()


# -- clients that leave mid-request ---------------------------------------------------------------


def test_websocket_closed_with_requests_in_flight(flow):
    with connect(f"ws://127.0.0.1:{flow.port}/", subprotocols=["json"]) as ws:
        for i in range(3):
            ws.send(sleep_request(1.0, f"left-{i}").decode())
        time.sleep(0.2)  # the requests reached the executor; the client closes without waiting
    assert_serving(flow)


def test_websocket_dropped_without_a_close_frame(flow):
    sock = open_raw_websocket(flow)
    for i in range(3):
        sock.sendall(masked_frame(sleep_request(1.0, f"dropped-{i}")))
    time.sleep(0.2)
    sock.close()  # TCP gone, no close handshake
    assert_serving(flow)


def test_websocket_dropped_in_the_middle_of_a_frame(flow):
    sock = open_raw_websocket(flow)
    frame = masked_frame(sleep_request(0.5, "half-frame"))
    sock.sendall(frame[: len(frame) // 2])
    time.sleep(0.2)
    sock.close()
    assert_serving(flow)


def test_a_websocket_client_leaving_cancels_its_queued_requests(flows, tmp_path):
    """With `?prefetch=1` the gateway holds one request of the connection at a time; once the
    client has left, the ones still queued must not reach the executor."""
    recorder = flows(Flow(protocol=["http", "websocket"], host="127.0.0.1").add(uses=executors_ws.Recorder))
    record = tmp_path / "arrived.txt"
    with connect(f"ws://127.0.0.1:{recorder.port}/?prefetch=1", subprotocols=["json"]) as ws:
        for i in range(6):
            body = {"data": [{"text": f"queued-{i}"}], "parameters": {"seconds": 0.5, "record": str(record)}}
            ws.send(json.dumps(body))
        time.sleep(0.2)
    time.sleep(3.5)  # long enough for all six to have run, one after the other, had the stream gone on
    arrived = record.read_text().split()
    assert arrived[0] == "queued-0"
    assert len(arrived) <= 2, f"requests of a client that left were still processed: {arrived}"
    assert_serving(recorder)


@pytest.mark.parametrize("how", ["idle", "after-answer", "tcp-drop-after-answer"])
def test_a_websocket_client_leaving_does_not_keep_the_bridge_busy(flows, how):
    """The bridge must end a connection's gateway stream whenever its client leaves without `{}`,
    also when no answer is pending: a stream left open keeps the connection's handler waiting
    for an answer that never comes, and the bridge then cannot stop on SIGTERM within the
    Flow's grace period (it gets SIGKILLed)."""
    small = flows(Flow(protocol=["http", "websocket"], host="127.0.0.1").add(uses=executors.AsyncSleeper))
    if how == "idle":
        with connect(f"ws://127.0.0.1:{small.port}/", subprotocols=["json"]):
            pass
    elif how == "after-answer":
        with connect(f"ws://127.0.0.1:{small.port}/", subprotocols=["json"]) as ws:
            ws.send(sleep_request(0.0, "answered").decode())
            assert json.loads(ws.recv(timeout=30))["header"]["requestId"] == "answered"
    else:
        sock = open_raw_websocket(small)
        sock.sendall(masked_frame(sleep_request(0.0, "answered")))
        opcode, payload = read_frame(sock)
        assert opcode == 0x1 and json.loads(payload)["header"]["requestId"] == "answered"
        sock.close()
    time.sleep(0.5)
    assert_serving(small)
    started = time.monotonic()
    small.close()
    elapsed = time.monotonic() - started
    assert elapsed < STOP_GRACE - 1, f"stopping the Flow took {elapsed:.1f}s: the bridge had to be killed"


def test_http_body_cut_short(flow):
    with _connect(flow) as sock:
        sock.sendall(
            b"POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"data": [{"text": "never fini'
        )
        time.sleep(0.2)
    assert_serving(flow)


def test_http_client_leaves_while_its_request_runs(flow):
    body = sleep_request(1.0, "abandoned")
    with _connect(flow) as sock:
        sock.sendall(
            b"POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )
        time.sleep(0.2)
    assert_serving(flow)
    time.sleep(1.0)  # the abandoned answer arrives at the bridge with nobody to take it
    assert_serving(flow)


# -- garbage and oversize input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(bytes(range(256)) * 4, id="binary"),
        pytest.param(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 64, id="tls-client-hello"),
        pytest.param(b"HELLO WORLD\r\n\r\n", id="not-http"),
        pytest.param(b"GET / HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n", id="header-without-colon"),
        pytest.param(b"POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", id="negative-length"),
    ],
)
def test_garbage_on_the_http_port(flow, payload):
    answer = exchange(flow, payload)
    if answer is not None:  # closing without an answer is fine too
        assert 400 <= answer[0] < 500, answer
    assert_serving(flow)


@pytest.mark.parametrize("size", [64 * 1024, 1024 * 1024])
def test_a_huge_header(flow, size):
    answer = exchange(flow, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Huge: " + b"h" * size + b"\r\n\r\n")
    assert answer is not None and answer[0] == 431, answer  # over the 32 KiB head limit
    assert_serving(flow)


def test_many_headers(flow):
    headers = b"".join(b"X-Header-%d: value\r\n" % i for i in range(10_000))
    answer = exchange(flow, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n")
    assert answer is not None and answer[0] == 431, answer  # over the 100-field limit
    assert_serving(flow)


def test_declared_oversize_body_is_refused_with_413_before_it_is_sent(flow):
    answer = exchange(
        flow,
        b"POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(MAX_BODY + 1).encode() + b"\r\n\r\n",
    )
    assert answer is not None, "the bridge closed without answering"
    status, headers, body = answer
    response = httpx.Response(status, headers=headers, content=body)
    error = assert_error_shape(response, 413, "RESOURCE_EXHAUSTED")
    assert str(MAX_BODY) in error["message"]
    assert_serving(flow)


def test_streamed_oversize_body_is_refused_with_413(flow):
    """Chunked, so no Content-Length to check: the bridge must count while reading."""
    chunk = b" " * (1024 * 1024)

    def body():
        for _ in range(MAX_BODY // len(chunk) + 2):
            yield chunk

    response = httpx.post(
        base_url(flow) + "/post", content=body(), headers={"content-type": "application/json"}, timeout=60
    )
    assert_error_shape(response, 413, "RESOURCE_EXHAUSTED")
    assert_serving(flow)


# -- the JSON error shape -------------------------------------------------------------------------


def test_malformed_json_is_400(flow):
    response = httpx.post(
        base_url(flow) + "/post", content=b'{"data": [', headers={"content-type": "application/json"}, timeout=10
    )
    error = assert_error_shape(response, 400, "INVALID_ARGUMENT")
    assert "JSON" in error["message"]


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ({"data": "x"}, "data"),
        ({"data": [{"text": 5}]}, "data[0].text"),
        ({"parameters": [1]}, "parameters"),
        ({"execEndpoint": 3}, "execEndpoint"),
        ({"targetExecutor": {}}, "targetExecutor"),
        ({"nonsense": 1}, "nonsense"),
        ([1, 2], "body"),
    ],
)
def test_wrong_types_are_422_naming_where(flow, body, location):
    response = httpx.post(base_url(flow) + "/post", json=body, timeout=10)
    error = assert_error_shape(response, 422, "INVALID_ARGUMENT")
    assert error["message"].startswith(f"{location}: ")
    assert error["details"] and error["details"][0]["location"] == location


def test_unknown_route_is_404(flow):
    response = httpx.get(base_url(flow) + "/no/such/route", timeout=10)
    error = assert_error_shape(response, 404, "NOT_FOUND")
    assert "/no/such/route" in error["message"]


def test_wrong_method_is_405_with_allow(flow):
    response = httpx.get(base_url(flow) + "/post", timeout=10)
    assert_error_shape(response, 405, "UNIMPLEMENTED")
    assert response.headers["allow"] == "POST"
    response = httpx.delete(base_url(flow) + "/index", timeout=10)
    assert_error_shape(response, 405, "UNIMPLEMENTED")
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_non_json_content_type_is_415(flow, content_type):
    response = httpx.post(
        base_url(flow) + "/post", content=b'{"data": []}', headers={"content-type": content_type}, timeout=10
    )
    error = assert_error_shape(response, 415, "INVALID_ARGUMENT")
    assert content_type in error["message"]


# -- executor exceptions --------------------------------------------------------------------------


def _failed_body(flow: Flow) -> dict[str, Any]:
    response = httpx.post(base_url(flow) + "/post", json={"execEndpoint": "/fail", "data": [{"text": "x"}]}, timeout=30)
    assert response.status_code == 500, response.text
    body = response.json()
    assert {"header", "parameters", "routes", "data", "error"} <= set(body)
    status = body["header"]["status"]
    assert status["code"] == 1
    exception = status["exception"]
    assert exception["name"] == "ValueError"
    assert exception["args"] == ["boom from executor", "42"]
    assert exception["executor"] == "failing"
    error = body["error"]
    assert set(error) == ERROR_KEYS
    assert error["code"] == 500
    assert isinstance(error["status"], str) and error["status"]
    assert "ValueError" in error["message"] and "failing" in error["message"]
    assert isinstance(error["details"], list)
    return body


def test_executor_exception_is_500_with_jina_status_and_no_stacks(flow):
    body = _failed_body(flow)
    assert body["header"]["status"]["exception"]["stacks"] == []
    for route in body["routes"]:
        if route["status"] and route["status"]["exception"]:
            assert route["status"]["exception"]["stacks"] == []
    assert "Traceback" not in json.dumps(body)
    assert_serving(flow)


def test_debug_flow_includes_the_stacks():
    with Flow(protocol="http", host="127.0.0.1", debug=True).add(uses=executors.Failing, name="failing") as debug:
        body = _failed_body(debug)
    stacks = body["header"]["status"]["exception"]["stacks"]
    assert stacks, "Flow(debug=True) must show the executor's stack trace"
    assert "boom from executor" in "".join(stacks)
