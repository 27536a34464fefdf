"""Arbitrary WebSocket frames against the bridge: each is answered (an answer or an error frame) or the
socket is closed cleanly, never left hanging, and the Flow serves on."""

from __future__ import annotations

import base64
import json
import os
import socket

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from jina import Flow
from jina.proto import jina_pb2
from tests.adversarial.strategies import garbage

pytestmark = pytest.mark.adversarial

TIMEOUT = 10.0
EXAMPLES = settings(
    max_examples=250, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: close codes a bridge may end a connection with when a client sent something it cannot take (RFC 6455 §7.4.1)
CLEAN_CLOSE = {1000, 1002, 1003, 1007, 1008, 1009}
CLOSE, PING, PONG = 0x8, 0x9, 0xA


@pytest.fixture(scope="module")
def flow():
    with Flow(protocol=["http", "websocket"], host="127.0.0.1").add(uses="tests.executors.Appender") as f:
        yield f


@pytest.fixture(scope="module")
def pids(flow):
    return dict(flow.pids)


def url(flow: Flow) -> str:
    return f"ws://127.0.0.1:{flow.port}/"


def normal_request(request_id: str) -> str:
    return json.dumps({"header": {"requestId": request_id}, "data": [{"text": "a"}]})


def assert_serving(flow: Flow, pids: dict[str, int]) -> None:
    """A fresh socket gets its request answered, and no process of the Flow died."""
    with connect(url(flow), subprotocols=["json"], open_timeout=TIMEOUT) as ws:
        ws.send(normal_request("alive"))
        answer = json.loads(ws.recv(timeout=TIMEOUT))
    assert [doc["text"] for doc in answer["data"]] == ["ax"], answer
    assert flow.pids == pids, "a process of the Flow died (the supervisor restarted it)"


def check_reply(subprotocol: str, reply: str | bytes) -> None:
    """A reply frame is what the sub-protocol promises: JSON for `json`, a DataRequestProto for `bytes`."""
    if subprotocol == "json":
        assert isinstance(reply, str), reply
        assert isinstance(json.loads(reply), dict), reply
    else:
        assert isinstance(reply, bytes), reply
        jina_pb2.DataRequestProto.FromString(reply)


# -- frames the websockets library can send: any text, any bytes ------------------------------------

_json_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)
#: a `/post`-shaped body with any values in its fields
_documents = st.lists(st.dictionaries(st.sampled_from(["id", "text", "tags", "embedding"]), _json_value))
_post_body = st.fixed_dictionaries(
    {},
    optional={
        "data": _json_value | _documents,
        "parameters": _json_value,
        "execEndpoint": _json_value,
        "targetExecutor": _json_value | st.sampled_from(["[", "(?P<", "*"]),
        "header": _json_value,
    },
).map(json.dumps)

text_frames = st.text(max_size=300) | st.builds(json.dumps, _json_value) | _post_body
binary_frames = garbage | st.binary(max_size=300)


@EXAMPLES
@given(subprotocol=st.sampled_from(["json", "bytes"]), frame=text_frames | binary_frames)
def test_any_frame_is_answered_or_closes_cleanly(flow, pids, subprotocol, frame):
    with connect(url(flow), subprotocols=[subprotocol], open_timeout=TIMEOUT) as ws:
        ws.send(frame)
        try:
            reply = ws.recv(timeout=TIMEOUT)  # TimeoutError: the bridge neither answered nor closed
        except ConnectionClosed as closed:
            assert closed.rcvd is not None and closed.rcvd.code in CLEAN_CLOSE, closed
        else:
            check_reply(subprotocol, reply)
    assert_serving(flow, pids)


# -- frames only a raw socket can send: any opcode, invalid UTF-8 in text frames --------------------


def open_raw(flow: Flow) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", flow.port), timeout=TIMEOUT)
    key = base64.b64encode(os.urandom(16))
    sock.sendall(
        b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: json\r\n\r\n"
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "the bridge closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def client_frame(opcode: int, payload: bytes, fin: bool = True) -> bytes:
    """One masked client frame (RFC 6455 §5.2; a client must mask)."""
    mask = os.urandom(4)
    size = len(payload)
    if size < 126:
        length = bytes([0x80 | size])
    else:
        length = bytes([0x80 | 126]) + size.to_bytes(2, "big")
    first = (0x80 if fin else 0) | opcode
    return bytes([first]) + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def _exactly(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def server_frame(sock: socket.socket) -> tuple[int, bytes] | None:
    """The next (opcode, payload) from the server; None when it closed the connection. socket.timeout: it hangs."""
    try:
        head = _exactly(sock, 2)
        if head is None:
            return None
        size = head[1] & 0x7F
        if size in (126, 127):
            extended = _exactly(sock, 2 if size == 126 else 8)
            if extended is None:
                return None
            size = int.from_bytes(extended, "big")
        payload = _exactly(sock, size)
    except ConnectionResetError:
        return None
    return None if payload is None else (head[0] & 0x0F, payload)


def outcome_after(sock: socket.socket, request_id: str) -> str:
    """Read until the answer to `request_id`, a close, or the end of the connection."""
    while True:
        frame = server_frame(sock)
        if frame is None:
            return "dropped"
        opcode, payload = frame
        if opcode == CLOSE:
            code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
            assert code in CLEAN_CLOSE | {1005}, f"closed with {code}: {payload[2:]!r}"
            return "closed"
        if opcode == 0x1 and json.loads(payload).get("header", {}).get("requestId") == request_id:
            return "answered"


@EXAMPLES
@given(
    opcode=st.integers(0, 15),
    payload=st.binary(max_size=200),
    fin=st.booleans(),
)
def test_any_raw_frame_then_a_request(flow, pids, opcode, payload, fin):
    """After any frame, the request that follows on the same socket is answered, or the socket is closed."""
    if opcode >= 0x8:
        payload = payload[:125]  # a longer control frame is a protocol error the bridge closes on too
    sock = open_raw(flow)
    try:
        sock.sendall(client_frame(opcode, payload, fin))
        try:
            sock.sendall(client_frame(0x1, normal_request("after").encode()))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the bridge closed already; what it sent before still counts
        assert outcome_after(sock, "after") in ("answered", "closed")
    finally:
        sock.close()
    assert_serving(flow, pids)
