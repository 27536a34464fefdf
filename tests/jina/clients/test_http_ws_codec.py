"""The HTTP/WebSocket clients' mapping of requests and answers, without sockets."""

from __future__ import annotations

import json

import numpy as np
import pytest
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK
from websockets.frames import Close

from jina import Client
from jina.clients.http import AsyncHTTPClient, HTTPClient, has_error_header, parse_reply
from jina.clients.inputs import build_requests
from jina.clients.response import Response, error_of
from jina.clients.results import ResultCollector
from jina.clients.websocket import (
    AsyncWebSocketClient,
    WebSocketClient,
    closed_error,
    decode_frame,
)
from jina.documents import Document
from jina.excepts import BadClient, BadServer, ExecutorError, InternalNetworkError
from jina.httpjson import request_to_json, response_from_json
from jina.proto import jina_pb2

URL = "http://gw:1/post"

# what real Jina 3.34's HTTP gateway answered to `{"data": [{"text": "a"}], "execEndpoint": "/"}`
REAL_JINA_OK = {
    "header": {"requestId": "6ae30115", "status": None, "execEndpoint": "/", "targetExecutor": ""},
    "parameters": {},
    "routes": [
        {
            "executor": "gateway",
            "startTime": "2026-11-27T21:23:48.538668+00:00",
            "endTime": "2026-11-27T21:23:48.541628+00:00",
            "status": None,
        },
        {
            "executor": "executor0",
            "startTime": "2026-11-27T21:23:48.538975+00:00",
            "endTime": "2026-11-27T21:23:48.541455+00:00",
            "status": None,
        },
    ],
    "data": [
        {"id": "446b08", "parent_id": None, "text": "a (real jina)", "tags": None, "embedding": None, "chunks": None},
        {"id": "3a6e36", "parent_id": None, "text": "appended by real jina", "matches": None},
    ],
}

# ... and to `/fail`, whose executor raised ValueError('real jina boom') (HTTP 200 as well)
REAL_JINA_ERROR = {
    "header": {
        "requestId": "33994b9a",
        "status": {
            "code": 1,
            "description": "ValueError('real jina boom')",
            "exception": {
                "name": "ValueError",
                "args": ["real jina boom"],
                "stacks": ["Traceback (most recent call last):\n", "ValueError: real jina boom\n"],
                "executor": "Suffix",
            },
        },
        "execEndpoint": "/fail",
        "targetExecutor": "",
    },
    "parameters": {},
    "routes": [{"executor": "gateway", "startTime": "2026-11-27T21:23:48.513356+00:00", "status": None}],
    "data": [{"id": "c535b7", "text": "a"}],
}


def one_request(**kwargs) -> jina_pb2.DataRequestProto:
    return next(build_requests(**kwargs))


def reply(status: int, body) -> jina_pb2.DataRequestProto:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return parse_reply(status, content, URL)


# -- requests --------------------------------------------------------------------------------


def test_a_request_becomes_jinas_http_body():
    request = one_request(
        inputs=[Document(id="d1", text="hello", tags={"k": 1})],
        on="/search",
        parameters={"top_k": 3, "nested": {"x": [1, "a"]}},
        target_executor="enc.*",
    )
    body = request_to_json(request)
    assert set(body) == {"header", "parameters", "data", "execEndpoint", "targetExecutor"}
    assert body["execEndpoint"] == "/search"
    assert body["targetExecutor"] == "enc.*"
    assert body["header"] == {
        "requestId": request.header.request_id,
        "execEndpoint": "/search",
        "targetExecutor": "enc.*",
    }
    assert body["parameters"] == {"top_k": 3, "nested": {"x": [1, "a"]}}
    [doc] = body["data"]
    assert (doc["id"], doc["text"], doc["tags"]) == ("d1", "hello", {"k": 1})
    json.dumps(body)  # plain JSON all the way down


def test_defaults_give_an_empty_target_and_parameters():
    body = request_to_json(one_request())
    assert (body["execEndpoint"], body["targetExecutor"], body["parameters"], body["data"]) == ("/", "", {}, [])


def test_arrays_and_blobs_go_out_as_jina_shows_them():
    docs = [Document(blob=b"\x00\xff"), Document(embedding=np.array([1.5, 2.5]), tensor=np.arange(6).reshape(2, 3))]
    blob, arrays = request_to_json(one_request(inputs=docs))["data"]
    assert blob["blob"] == "AP8="
    assert arrays["embedding"] == [1.5, 2.5]
    assert arrays["tensor"] == [[0, 1, 2], [3, 4, 5]]


def test_a_request_survives_the_round_trip_through_json():
    request = one_request(
        inputs=[Document(text="x", tags={"a": "b"}, embedding=np.array([1.0, 2.0]))], parameters={"p": True}
    )
    back = response_from_json(json.loads(json.dumps(request_to_json(request))))
    assert back.header.request_id == request.header.request_id
    assert back.header.exec_endpoint == "/"
    docs = Response(back).docs
    assert docs[0].text == "x" and docs[0].tags == {"a": "b"}
    assert docs[0].embedding.tolist() == [1.0, 2.0]
    assert Response(back).parameters == {"p": True}


# -- answers ---------------------------------------------------------------------------------


def test_real_jinas_answer_becomes_a_response():
    response = Response(reply(200, REAL_JINA_OK))
    assert not response.is_error
    assert response.request_id == "6ae30115"
    assert response.docs.texts == ["a (real jina)", "appended by real jina"]
    assert response.docs[0].id == "446b08"
    assert [r.executor for r in response.routes] == ["gateway", "executor0"]
    assert response.routes[0].start_time.ToDatetime().year == 2026


def test_an_executor_error_in_a_200_answer_raises_executor_error():
    proto = reply(200, REAL_JINA_ERROR)
    with pytest.raises(ExecutorError, match="Executor 'Suffix' raised ValueError: real jina boom") as info:
        ResultCollector().add(proto)
    assert info.value.exception_name == "ValueError"
    assert info.value.response.docs.texts == ["a"]


def test_an_executor_error_in_a_500_answer_is_still_the_executors():
    # the bridge answers executor errors with HTTP 500, Jina's body and an `error` key
    body = {**REAL_JINA_ERROR, "error": {"name": "ValueError", "message": "real jina boom"}}
    proto = reply(500, body)
    assert isinstance(error_of(Response(proto)), ExecutorError)
    seen = []
    ResultCollector(on_error=seen.append).add(proto)
    assert seen[0].status.exception.executor == "Suffix"


def test_string_status_codes_count_as_errors():
    body = json.loads(json.dumps(REAL_JINA_ERROR))
    body["header"]["status"]["code"] = "ERROR"
    assert has_error_header(body)
    assert Response(reply(500, body)).is_error


@pytest.mark.parametrize(
    "body",
    [None, [], {"header": None}, {"header": {"status": None}}, {"header": {"status": {"code": 0}}}, "text"],
)
def test_bodies_without_an_error_status(body):
    assert not has_error_header(body)


def test_404_is_bad_client():
    with pytest.raises(BadClient, match="no such endpoint http://gw:1/post"):
        reply(404, {"detail": "Not Found"})


@pytest.mark.parametrize("status", [503, 504])
def test_unreachable_executors_are_internal_network_errors(status):
    body = {
        "header": {
            "requestId": "r",
            "status": {"code": 1, "description": "failed to connect to all addresses", "exception": {"name": "x"}},
        },
        "data": None,
    }
    with pytest.raises(InternalNetworkError, match="failed to connect to all addresses") as info:
        reply(status, body)
    assert isinstance(info.value, ConnectionError)
    assert f"HTTP {status}" in str(info.value)
    assert info.value.response.request_id == "r"


def test_a_503_without_jinas_body_names_the_bridges_error_or_the_text():
    with pytest.raises(InternalNetworkError, match="executor enc is down"):
        reply(503, {"error": "executor enc is down"})
    with pytest.raises(InternalNetworkError, match="upstream timed out"):
        reply(504, b"upstream timed out")


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (500, {"error": {"name": "KeyError", "message": "boom in the bridge"}}, "HTTP 500: boom in the bridge"),
        (502, b"<html>bad gateway</html>", "HTTP 502: <html>bad gateway</html>"),
        (422, {"detail": [{"loc": ["body", "data"], "msg": "bad"}]}, "HTTP 422"),
        (301, b"", "HTTP 301"),
        (200, b"not json", "not JSON"),
        (200, [1, 2], "not a JSON object"),
        (200, {"data": [{"text": 5}]}, r"data\[0\]\.text: expected a string"),
        (200, {"header": {"requestId": ["not", "a", "string"]}}, "not Jina's response JSON"),
    ],
)
def test_other_failures_are_bad_server_with_status_and_body(status, body, match):
    with pytest.raises(BadServer, match=match) as info:
        reply(status, body)
    assert not isinstance(info.value, ExecutorError)


def test_unknown_keys_are_ignored_and_a_null_data_is_no_documents():
    proto = reply(200, {"header": {"requestId": "r"}, "data": None, "error": None, "something": 1})
    assert len(Response(proto).docs) == 0


def test_long_bodies_are_cut_in_messages():
    with pytest.raises(BadServer) as info:
        reply(500, b"x" * 10_000)
    assert len(str(info.value)) < 500


# -- WebSocket frames and closes -------------------------------------------------------------


def test_binary_frames_are_protobuf_and_text_frames_jinas_json():
    request = one_request(inputs=[Document(text="w")])
    assert decode_frame(request.SerializeToString()).header.request_id == request.header.request_id
    assert Response(decode_frame(json.dumps(REAL_JINA_OK))).docs.texts[0] == "a (real jina)"


@pytest.mark.parametrize("frame", [b"\xff\xff\xff", "not json"])
def test_garbage_frames_are_bad_server(frame):
    with pytest.raises(BadServer):
        decode_frame(frame)


def test_close_1011_is_internal_network_error_with_the_reason():
    error = closed_error("ws://gw:1/", ConnectionClosedError(Close(1011, "deployment enc may be down"), None))
    assert isinstance(error, InternalNetworkError) and isinstance(error, ConnectionError)
    assert "deployment enc may be down" in str(error)


@pytest.mark.parametrize(
    "exc",
    [
        ConnectionClosedOK(Close(1000, ""), None),
        ConnectionClosedError(None, None),
        ConnectionClosedError(Close(1006, ""), None),
    ],
)
def test_other_closes_are_connection_errors(exc):
    error = closed_error("ws://gw:1/", exc)
    assert type(error) is ConnectionError and "ws://gw:1/" in str(error)


# -- the factory (clients open nothing until their first post) -------------------------------


@pytest.mark.parametrize(
    ("kwargs", "kind", "url"),
    [
        ({"protocol": "http"}, HTTPClient, "http://localhost:8080"),
        ({"protocol": "http", "tls": True}, HTTPClient, "https://localhost:8080"),
        ({"protocol": "http", "asyncio": True}, AsyncHTTPClient, "http://localhost:8080"),
        ({"protocol": "websocket"}, WebSocketClient, "ws://localhost:8080"),
        ({"protocol": "WEBSOCKET", "tls": True}, WebSocketClient, "wss://localhost:8080"),
        ({"protocol": "websocket", "asyncio": True}, AsyncWebSocketClient, "ws://localhost:8080"),
    ],
)
def test_the_factory_picks_the_client(kwargs, kind, url):
    client = Client(port=8080, **kwargs)
    assert type(client) is kind
    assert client.url == url
    assert (client.host, client.port) == ("localhost", 8080)


def test_urls_in_host_pick_protocol_and_tls():
    assert Client(host="https://example.com").url == "https://example.com:443"
    assert Client(host="wss://example.com:8443").url == "wss://example.com:8443"
    assert Client(host="::1", port=1, protocol="http").url == "http://[::1]:1"
