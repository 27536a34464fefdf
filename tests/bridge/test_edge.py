"""The bridge's hardened edge against real Flows: JSON depth limits (400, never 500), CORS
(`cors=True` is `*` without credentials; credentials only for listed origins) and the
WebSocket Origin check (cross-site WebSocket hijacking)."""

from __future__ import annotations

import json

import httpx
import pytest
from jina_mesh.bridge.errors import HTTPError
from jina_mesh.bridge.origins import normalize_origin, same_origin, websocket_refusal
from jina_mesh.bridge.transcode import build_message
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from jina import Flow
from jina.httpjson import DEFAULT_MAX_JSON_DEPTH, json_depth_over, loads
from jina.proto import jina_pb2
from tests import executors
from tests.bridge.test_robustness import assert_error_shape, assert_serving, exchange

APP = "https://app.example"
EVIL = "https://evil.example"


@pytest.fixture(scope="module")
def flow():
    with Flow(protocol=["http", "websocket"], host="127.0.0.1").add(uses=executors.AsyncSleeper) as f:
        yield f


@pytest.fixture(scope="module")
def open_flow():
    with Flow(protocol=["http", "websocket"], host="127.0.0.1", cors=True).add(uses=executors.AsyncSleeper) as f:
        yield f


@pytest.fixture(scope="module")
def listed():
    """A Flow whose bridge grants CORS (with credentials) to APP only: the bridge's base URL."""
    flow = Flow(protocol=["http", "websocket"], host="127.0.0.1", cors=[APP]).add(uses=executors.AsyncSleeper)
    with flow:
        yield f"http://127.0.0.1:{flow.port}"


def base_url(flow: Flow) -> str:
    return f"http://127.0.0.1:{flow.port}"


# -- JSON depth ----------------------------------------------------------------------------------


def nested_chunks(levels: int) -> bytes:
    """A /post body whose one document has chunks `levels` deep (written as text: deeper than
    Python's own json module could encode)."""
    head = "".join(f'{{"text": "level-{i}", "chunks": [' for i in range(levels))
    return f'{{"data": [{head}{{"text": "leaf"}}{"]}" * levels}]}}'.encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[" * 100_000, id="100k-brackets"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="100k-balanced"),
        pytest.param(b'{"data": [' + b'{"a":' * 100_000 + b"1" + b"}" * 100_000 + b"]}", id="100k-objects"),
        pytest.param(nested_chunks(1000), id="1000-chunks"),
        pytest.param(b'{"parameters": {"p": ' + b"[" * 500 + b"]" * 500 + b"}}", id="parameters"),
    ],
)
@pytest.mark.parametrize("path", ["/post", "/index"])
def test_json_nested_too_deep_is_400(flow, body, path):
    response = httpx.post(base_url(flow) + path, content=body, headers={"content-type": "application/json"}, timeout=30)
    error = assert_error_shape(response, 400, "INVALID_ARGUMENT")
    assert f"deeper than {DEFAULT_MAX_JSON_DEPTH} levels" in error["message"]
    assert "Recursion" not in response.text
    assert_serving(flow)


def test_json_deep_on_a_generic_rpc_route_is_400():
    """Routes of other annotated RPCs go through the google.api.http transcoder, which parses JSON too."""
    with pytest.raises(HTTPError) as refused:
        build_message(jina_pb2.DataRequestProto, body="*", raw_body=b"{" * 50_000, path_values={}, query=[])
    assert refused.value.status == 400 and "deeper than" in refused.value.message


def test_chunks_nested_within_the_limit_are_served(flow):
    levels = (DEFAULT_MAX_JSON_DEPTH - 4) // 2  # body, data, doc: then two levels per chunk
    response = httpx.post(
        base_url(flow) + "/post",
        content=nested_chunks(levels),
        headers={"content-type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    doc, depth = response.json()["data"][0], 0
    while doc.get("chunks"):
        doc, depth = doc["chunks"][0], depth + 1
    assert depth == levels and doc["text"] == "leaf"


def test_brackets_inside_strings_do_not_count(flow):
    text = "[{" * 10_000 + '\\"]' + "}]" * 10
    response = httpx.post(base_url(flow) + "/post", json={"data": [{"text": text}]}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["text"] == text


def test_deep_json_frame_on_the_websocket_is_an_in_band_400(flow):
    with connect(f"ws://127.0.0.1:{flow.port}/", subprotocols=["json"]) as ws:
        ws.send("[" * 100_000)
        error = json.loads(ws.recv(timeout=30))["error"]
        assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
        assert f"deeper than {DEFAULT_MAX_JSON_DEPTH} levels" in error["message"]
        ws.send(json.dumps({"header": {"requestId": "after"}, "data": [{"text": "still here"}]}))
        answer = json.loads(ws.recv(timeout=30))
        assert answer["header"]["requestId"] == "after"
        assert [d["text"] for d in answer["data"]] == ["still here"]
    assert_serving(flow)


@pytest.mark.parametrize(
    ("raw", "limit", "over"),
    [
        (b"[]", 1, False),
        (b"[[]]", 1, True),
        (b"[" * 64 + b"]" * 64, 64, False),
        (b"[" * 65 + b"]" * 65, 64, True),
        (b"[" + b"[]," * 200 + b"[]]", 2, False),
        (b'["' + b"[" * 100 + b'"]', 2, False),
        (b'["\\"' + b"[" * 100 + b'"]', 2, False),  # an escaped quote does not end the string
        (b'["\\\\"' + b"[" * 100 + b'"]', 2, True),  # an escaped backslash does
        (b'{"a": {"b": [1, {"c": []}]}}', 5, False),
        (b'{"a": {"b": [1, {"c": []}]}}', 4, True),
        (b"[}" * 10, 3, True),  # brackets that do not pair up: refused, as json would
    ],
)
def test_depth_scan(raw, limit, over):
    assert json_depth_over(raw, limit) is over
    if not over:
        loads(raw, limit)


# -- CORS --------------------------------------------------------------------------------------------


def test_cors_off_sends_no_cors_headers(flow):
    response = httpx.get(base_url(flow) + "/status", headers={"origin": EVIL}, timeout=10)
    assert response.status_code == 200
    assert not any(name.startswith("access-control-") for name in response.headers)


def test_cors_true_is_any_origin_without_credentials(open_flow):
    for headers in ({"origin": EVIL}, {"origin": EVIL, "cookie": "session=1"}):
        response = httpx.get(base_url(open_flow) + "/status", headers=headers, timeout=10)
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-credentials" not in response.headers
    preflight = httpx.options(
        base_url(open_flow) + "/post",
        headers={
            "origin": EVIL,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers


def test_cors_list_echoes_only_listed_origins_with_credentials(listed):
    allowed = httpx.get(listed + "/status", headers={"origin": APP}, timeout=10)
    assert allowed.headers["access-control-allow-origin"] == APP
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert "origin" in allowed.headers["vary"].lower()
    other = httpx.get(listed + "/status", headers={"origin": EVIL}, timeout=10)
    assert other.status_code == 200  # CORS is the browser's to enforce: the answer just lacks the grant
    assert "access-control-allow-origin" not in other.headers
    preflight = httpx.options(
        listed + "/post", headers={"origin": EVIL, "access-control-request-method": "POST"}, timeout=10
    )
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    granted = httpx.options(
        listed + "/post", headers={"origin": APP, "access-control-request-method": "POST"}, timeout=10
    )
    assert granted.status_code == 200
    assert granted.headers["access-control-allow-origin"] == APP
    assert granted.headers["access-control-allow-credentials"] == "true"


# -- the WebSocket Origin check ----------------------------------------------------------------


def handshake_status(flow: Flow, origin: str, host: str) -> int:
    """The HTTP status of a raw WebSocket handshake with this Origin and Host (101: accepted)."""
    answer = exchange(
        flow,
        b"GET / HTTP/1.1\r\nHost: " + host.encode() + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        b"Origin: " + origin.encode() + b"\r\n\r\n",
    )
    assert answer is not None, "the bridge closed without answering the handshake"
    return answer[0]


def ws_answers(port: int, origin: str | None) -> bool:
    """Whether a WebSocket with this Origin is accepted and answers; False if refused (403)."""
    headers = {"Origin": origin} if origin else {}
    try:
        with connect(f"ws://127.0.0.1:{port}/", subprotocols=["json"], additional_headers=headers) as ws:
            ws.send(json.dumps({"header": {"requestId": "o"}, "data": [{"text": "o"}]}))
            return json.loads(ws.recv(timeout=30))["header"]["requestId"] == "o"
    except InvalidStatus as refused:
        response = refused.response
        assert response.status_code == 403
        error = json.loads(response.body)["error"]
        assert error["code"] == 403 and error["status"] == "PERMISSION_DENIED"
        assert "origin" in error["message"].lower() and "cors" in error["message"]
        return False


def test_websocket_origin_with_cors_off(flow):
    port = flow.port
    assert ws_answers(port, None)  # not a browser
    assert ws_answers(port, f"http://127.0.0.1:{port}")  # the bridge's own page
    # same origin behind a name (a proxy's): Origin and Host agree, the default port left out
    assert handshake_status(flow, "http://bridge.example", "bridge.example") == 101
    assert handshake_status(flow, "https://bridge.example", "bridge.example:443") == 101
    assert handshake_status(flow, "https://bridge.example", "bridge.example:8443") == 403
    assert not ws_answers(port, EVIL)
    assert not ws_answers(port, f"http://127.0.0.1:{port + 1}")  # same host, other port: another origin
    assert not ws_answers(port, "null")
    assert_serving(flow)


def test_websocket_origin_with_cors_true(open_flow):
    assert ws_answers(open_flow.port, EVIL)
    assert ws_answers(open_flow.port, "null")


def test_websocket_origin_with_a_cors_list(listed):
    port = int(listed.rsplit(":", 1)[1])
    assert ws_answers(port, APP)
    assert ws_answers(port, "https://APP.example:443")  # the same origin, spelled otherwise
    assert ws_answers(port, None)
    assert ws_answers(port, f"http://127.0.0.1:{port}")
    assert not ws_answers(port, EVIL)
    assert not ws_answers(port, "http://app.example")  # other scheme: another origin


@pytest.mark.parametrize(
    ("origin", "normalized"),
    [
        ("https://App.Example", "https://app.example"),
        ("https://app.example:443", "https://app.example"),
        ("http://app.example:8080/", "http://app.example:8080"),
        ("http://[::1]:80", "http://[::1]"),
        ("null", None),
        ("https://app.example/path", None),
        ("ftp://app.example", None),
        ("https://", None),
        ("https://app.example:99999", None),
    ],
)
def test_normalize_origin(origin, normalized):
    assert normalize_origin(origin) == normalized


@pytest.mark.parametrize(
    ("cors", "origin", "host", "allowed"),
    [
        (False, None, "h:1", True),
        (False, "http://h:1", "h:1", True),
        (False, "http://H:1", "h:1", True),
        (False, "http://h", "h:80", True),
        (False, "https://h", "h", True),
        (False, "http://h:2", "h:1", False),
        (False, "http://h", "", False),
        (False, "null", "h", False),
        (True, "http://x", "h", True),
        ((APP,), APP, "h", True),
        ((APP,), EVIL, "h", False),
        ((APP,), "http://h:1", "h:1", True),
    ],
)
def test_websocket_refusal_table(cors, origin, host, allowed):
    assert (websocket_refusal(cors, origin, host) is None) is allowed
    if cors is False and origin is not None:
        assert same_origin(origin, host) is allowed


# -- configuration ---------------------------------------------------------------------------------


def test_cors_lists_are_normalized_and_checked():
    from jina_mesh.bridge.config import BridgeConfig, ConfigError

    config = BridgeConfig.build("127.0.0.1:1", cors=["https://App.example:443/", "http://b:8080", "http://b:8080"])
    assert config.cors == ("https://app.example", "http://b:8080")
    assert BridgeConfig.build("127.0.0.1:1", cors=True).cors is True
    for bad, words in ((["*"], "cors=True"), (["https://a.example/path"], "no path"), ([3], "not an origin")):
        with pytest.raises(ConfigError, match=words):
            BridgeConfig.build("127.0.0.1:1", cors=bad)
    with pytest.raises(ConfigError, match="max_json_depth"):
        BridgeConfig.build("127.0.0.1:1", max_json_depth=0)
