"""Request head limits (431) and slow-client timeouts (408, closed connections) of the real bridge
under uvicorn, driven over raw sockets; after each, the bridge still serves."""

from __future__ import annotations

import json
import socket
import time

import httpx
import pytest

from jina import Flow
from jina.flow.ports import free_port
from tests import executors
from tests.bridge.test_robustness import assert_error_shape, assert_serving, read_response
from tests.bridge.test_start_order import jina_process, wait_for
from tests.conftest import stop_processes

#: the short timeouts of the `quick` bridge (seconds)
QUICK = {"timeout_request_head": 1.0, "timeout_request_body": 1.0, "timeout_keep_alive": 1.0, "max_json_depth": 8}


@pytest.fixture(scope="module")
def flow():
    """A Flow with the bridge's default limits (100 headers, 32 KiB of head)."""
    with Flow(protocol=["http", "websocket"], host="127.0.0.1").add(uses=executors.AsyncSleeper) as f:
        yield f


@pytest.fixture(scope="module")
def quick():
    """`jina bridge` with one-second timeouts, in front of a Flow's gateway: its port."""
    with Flow(protocol="grpc", host="127.0.0.1").add(uses=executors.AsyncSleeper) as f:
        port = free_port()
        bridge = jina_process(
            "bridge", "--gateway", f"127.0.0.1:{f.port}", "--host", "127.0.0.1", "--port", str(port),
            "--config", json.dumps(QUICK),
        )  # fmt: skip
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                wait_for(http, lambda r: r.status_code == 200, 30)
            yield port
        finally:
            stop_processes(bridge)


def send(port: int, payload: bytes) -> tuple[int, dict[str, str], bytes] | None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before everything was sent: what was answered still counts
        return read_response(sock)


def as_response(answer) -> httpx.Response:
    assert answer is not None, "the bridge closed without answering"
    status, headers, body = answer
    return httpx.Response(status, headers=headers, content=body)


def get(headers: bytes) -> bytes:
    return b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n"


def closed_within(sock: socket.socket, seconds: float) -> tuple[float, bytes]:
    """Read until the server closes; (seconds it took, what it sent). Fails if still open after `seconds`."""
    started, data = time.monotonic(), b""
    sock.settimeout(seconds)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    except TimeoutError:
        pytest.fail(f"the connection was still open after {seconds}s")
    return time.monotonic() - started, data


# -- 431 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "what"),
    [
        pytest.param(b"".join(b"X-Header-%d: value\r\n" % i for i in range(10_000)), "the request", id="10k-headers"),
        pytest.param(b"".join(b"X-H-%d: v\r\n" % i for i in range(101)), "header fields", id="101-headers"),
        pytest.param(b"X-Huge: " + b"h" * 100_000 + b"\r\n", "bytes", id="100KB-header"),
        pytest.param(b"X-Huge: " + b"h" * 8_000_000 + b"\r\n", "bytes", id="8MB-header"),
    ],
)
def test_header_floods_are_431(flow, headers, what):
    response = as_response(send(flow.port, get(headers)))
    error = assert_error_shape(response, 431, "RESOURCE_EXHAUSTED")
    assert what in error["message"]
    assert response.headers["connection"] == "close"
    assert_serving(flow)


def test_a_huge_url_is_431(flow):
    response = as_response(send(flow.port, b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"))
    assert_error_shape(response, 431, "RESOURCE_EXHAUSTED")


def test_heads_within_the_limits_are_served(flow):
    many = b"".join(b"X-H-%d: v\r\n" % i for i in range(98))  # + Host = 99 fields
    assert as_response(send(flow.port, get(many))).status_code == 200
    big = b"X-Big: " + b"b" * 30_000 + b"\r\n"
    assert as_response(send(flow.port, get(big))).status_code == 200


def test_a_small_head_with_a_big_body_in_one_packet_is_served(flow):
    body = json.dumps({"data": [{"text": "x" * 200_000}]}).encode()
    head = b"POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    response = as_response(send(flow.port, head % len(body) + body))
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["text"] == "x" * 200_000


def test_keep_alive_requests_each_get_their_own_head_budget(flow):
    """The byte count is per request: many requests on one connection are not one big head."""
    request = get(b"X-Big: " + b"b" * 20_000 + b"\r\n")
    with socket.create_connection(("127.0.0.1", flow.port), timeout=10) as sock:
        for _ in range(3):
            sock.sendall(request)
            answer = read_response(sock)
            assert answer is not None and answer[0] == 200, answer


# -- timeouts ------------------------------------------------------------------------------------


def test_an_incomplete_head_is_cut_with_408(quick):
    with socket.create_connection(("127.0.0.1", quick), timeout=10) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # no blank line: the head never ends
        took, data = closed_within(sock, 5)
    assert data.startswith(b"HTTP/1.1 408 "), data
    assert json.loads(data.split(b"\r\n\r\n", 1)[1])["error"]["code"] == 408
    assert 0.5 < took < 4


def test_a_head_sent_one_byte_at_a_time_is_cut(quick):
    """Slowloris: bytes keep coming, but the head has a total deadline, not an idle one."""
    with socket.create_connection(("127.0.0.1", quick), timeout=10) as sock:
        started = time.monotonic()
        try:
            for byte in b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"s" * 100:
                sock.send(bytes([byte]))
                time.sleep(0.1)
                if time.monotonic() - started > 5:
                    pytest.fail("the bridge kept a slowly sent head open")
        except (BrokenPipeError, ConnectionResetError):
            pass
        _, data = closed_within(sock, 5)
    assert time.monotonic() - started < 4
    assert data.startswith(b"HTTP/1.1 408 ") or data == b"", data


def test_a_connection_that_sends_nothing_is_closed(quick):
    with socket.create_connection(("127.0.0.1", quick), timeout=10) as sock:
        took, _ = closed_within(sock, 5)
    assert took < 4


def test_a_body_shorter_than_its_content_length_is_cut_with_408(quick):
    with socket.create_connection(("127.0.0.1", quick), timeout=10) as sock:
        sock.sendall(
            b"POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n" + b'{"data": [{"text": "never fini'
        )
        took, data = closed_within(sock, 5)
    assert data.startswith(b"HTTP/1.1 408 "), data
    error = json.loads(data.split(b"\r\n\r\n", 1)[1])["error"]
    assert error["code"] == 408 and "body" in error["message"]
    assert 0.5 < took < 4
    with httpx.Client(base_url=f"http://127.0.0.1:{quick}", timeout=10) as http:
        assert http.post("/post", json={"data": [{"text": "after"}]}).status_code == 200


def test_a_slow_but_moving_body_is_served(quick):
    """The body timeout is between bytes: a body that keeps arriving is not cut."""
    body = json.dumps({"data": [{"text": "slow"}]}).encode()
    with socket.create_connection(("127.0.0.1", quick), timeout=10) as sock:
        sock.sendall(
            b"POST /post HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(body)
        )
        for i in range(0, len(body), len(body) // 4 + 1):
            time.sleep(0.5)
            sock.sendall(body[i : i + len(body) // 4 + 1])
        answer = read_response(sock)
    assert answer is not None and answer[0] == 200, answer
    assert json.loads(answer[2])["data"][0]["text"] == "slow"


def test_an_idle_keep_alive_connection_is_closed(quick):
    with socket.create_connection(("127.0.0.1", quick), timeout=10) as sock:
        sock.sendall(get(b""))
        answer = read_response(sock)
        assert answer is not None and answer[0] == 200
        took, data = closed_within(sock, 5)
    assert data == b"" and took < 4


def test_a_slow_answer_is_not_a_slow_client(quick):
    """A request whose executor takes longer than every timeout is still answered."""
    with httpx.Client(base_url=f"http://127.0.0.1:{quick}", timeout=30) as http:
        response = http.post("/post", json={"parameters": {"seconds": 2.5}, "data": [{"text": "slow executor"}]})
    assert response.status_code == 200, response.text


def test_websockets_still_work_behind_the_guarded_protocol(quick):
    from websockets.sync.client import connect

    with connect(f"ws://127.0.0.1:{quick}/", subprotocols=["json"]) as ws:
        time.sleep(1.5)  # longer than the head timeout: an upgraded connection has none
        ws.send(json.dumps({"header": {"requestId": "w"}, "data": [{"text": "w"}]}))
        assert json.loads(ws.recv(timeout=30))["header"]["requestId"] == "w"


def test_the_json_depth_limit_is_configurable(quick):
    with httpx.Client(base_url=f"http://127.0.0.1:{quick}", timeout=10) as http:
        deep = http.post("/post", json={"parameters": {"p": [[[[[[[[1]]]]]]]]}})  # 10 levels
        error = assert_error_shape(deep, 400, "INVALID_ARGUMENT")
        assert "deeper than 8 levels" in error["message"]
        assert http.post("/post", json={"parameters": {"p": [[[[[1]]]]]}}).status_code == 200  # 7 levels


def test_the_quick_bridge_still_serves(quick):
    class Fake:
        port = quick

    assert_serving(Fake)  # type: ignore[arg-type]
