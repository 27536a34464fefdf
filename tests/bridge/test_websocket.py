"""The bridge's WebSocket (Jina's protocol) against real Flows: sub-protocols `json` and `bytes`,
pipelining matched by request id, end of input, per-connection prefetch (and Jina #4990's slow
reader), in-band errors, and the close a gateway failure causes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from google.protobuf import json_format
from jina_mesh.bridge.websocket import MAX_CLOSE_REASON, close_reason
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK
from websockets.sync.client import connect

from jina import Flow
from jina.proto import jina_pb2
from tests import executors
from tests.bridge import executors_ws
from tests.conftest import wait_gone

#: seconds any single answer may take before the test calls it a hang
ANSWER_TIMEOUT = 30.0


# -- the two sub-protocols, behind one interface --------------------------------------------------


@dataclass
class Answer:
    request_id: str
    status_code: int  # 0 = success, 1 = error (jina StatusProto)
    exception: str
    texts: list[str]
    tags: list[dict[str, Any]]


class JsonCodec:
    subprotocol = "json"
    end_of_input: str | bytes = "{}"

    @staticmethod
    def request(request_id: str, text: str = "", endpoint: str = "/", **parameters: Any) -> str:
        return json.dumps(
            {
                "header": {"requestId": request_id},
                "execEndpoint": endpoint,
                "parameters": parameters,
                "data": [{"id": f"doc-{request_id}", "text": text}],
            }
        )

    @staticmethod
    def answer(frame: str | bytes) -> Answer:
        assert isinstance(frame, str), f"a json connection answered with a binary frame: {frame!r}"
        body = json.loads(frame)
        assert "error" not in body, f"expected Jina's response, got an error frame: {body}"
        status = body["header"]["status"] or {}
        exception = (status.get("exception") or {}).get("name", "")
        return Answer(
            request_id=body["header"]["requestId"],
            status_code=status.get("code", 0),
            exception=exception,
            texts=[doc["text"] for doc in body["data"]],
            tags=[doc["tags"] or {} for doc in body["data"]],
        )


class BytesCodec:
    subprotocol = "bytes"
    end_of_input: str | bytes = b"\x00"

    @staticmethod
    def request(request_id: str, text: str = "", endpoint: str = "/", **parameters: Any) -> bytes:
        request = jina_pb2.DataRequestProto()
        request.header.request_id = request_id
        request.header.exec_endpoint = endpoint
        request.parameters.update(parameters)
        request.data.docs.docs.add(id=f"doc-{request_id}", text=text)
        return request.SerializeToString()

    @staticmethod
    def answer(frame: str | bytes) -> Answer:
        assert isinstance(frame, bytes), f"a bytes connection answered with a text frame: {frame!r}"
        response = jina_pb2.DataRequestProto.FromString(frame)
        status = response.header.status
        return Answer(
            request_id=response.header.request_id,
            status_code=int(status.code),
            exception=status.exception.name,
            texts=[doc.text for doc in response.data.docs.docs],
            tags=[json_format.MessageToDict(doc.tags) for doc in response.data.docs.docs],
        )


CODECS = {"json": JsonCodec, "bytes": BytesCodec}


@pytest.fixture(params=sorted(CODECS))
def codec(request):
    return CODECS[request.param]


def ws_url(flow: Flow, query: str = "") -> str:
    return f"ws://127.0.0.1:{flow.port}/{query}"


def read_until_closed(ws, timeout: float = ANSWER_TIMEOUT) -> list[str | bytes]:
    """Every frame until the bridge closes normally; a hang fails the test with TimeoutError."""
    frames = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            frames.append(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        except ConnectionClosedOK:
            return frames


def read_answers(ws, codec, count: int, timeout: float = ANSWER_TIMEOUT) -> list[Answer]:
    deadline = time.monotonic() + timeout
    return [codec.answer(ws.recv(timeout=max(0.01, deadline - time.monotonic()))) for _ in range(count)]


# -- Flows ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sleeper_flow():
    flow = (
        Flow(protocol="websocket", host="127.0.0.1")
        .add(uses=executors.AsyncSleeper, name="sleeper")
        .add(uses=executors.Failing, name="failing")
    )
    with flow:
        yield flow


@pytest.fixture(scope="module")
def prefetch_flow():
    flow = Flow(protocol="websocket", host="127.0.0.1", prefetch=2).add(uses=executors_ws.InFlight, name="inflight")
    with flow:
        yield flow


# -- handshake, round trips, end of input ---------------------------------------------------------


def test_handshake_echoes_the_chosen_subprotocol(sleeper_flow, codec):
    with connect(ws_url(sleeper_flow), subprotocols=[codec.subprotocol]) as ws:
        assert ws.subprotocol == codec.subprotocol
        assert ws.response.status_code == 101
        assert ws.response.headers["Sec-WebSocket-Protocol"] == codec.subprotocol


def test_no_subprotocol_speaks_json(sleeper_flow):
    with connect(ws_url(sleeper_flow)) as ws:
        assert ws.subprotocol is None
        ws.send(JsonCodec.request("plain", "hi"))
        answer = JsonCodec.answer(ws.recv(timeout=ANSWER_TIMEOUT))
        assert answer.request_id == "plain" and answer.texts == ["hi"]


def test_requests_are_processed_and_ids_echoed_then_end_of_input_closes_with_1000(sleeper_flow, codec):
    ids = [f"{codec.subprotocol}-rt-{i}" for i in range(3)]
    with connect(ws_url(sleeper_flow), subprotocols=[codec.subprotocol]) as ws:
        for i, request_id in enumerate(ids):
            ws.send(codec.request(request_id, f"text {i}", seconds=0.05))
        ws.send(codec.end_of_input)  # before any answer came: the answers must still all arrive
        frames = read_until_closed(ws)
        assert ws.close_code == 1000
    answers = [codec.answer(frame) for frame in frames]
    assert sorted(a.request_id for a in answers) == sorted(ids)
    for answer in answers:
        i = ids.index(answer.request_id)
        assert answer.status_code == 0
        assert answer.texts == [f"text {i}"]
        # both executors processed it: AsyncSleeper tags `slept`, Failing's default endpoint `passed_failing`
        assert answer.tags[0]["slept"] == 0.05
        assert answer.tags[0]["passed_failing"] is True


def test_end_of_input_alone_closes_with_1000(sleeper_flow, codec):
    with connect(ws_url(sleeper_flow), subprotocols=[codec.subprotocol]) as ws:
        ws.send(codec.end_of_input)
        assert read_until_closed(ws) == []
        assert ws.close_code == 1000


def test_pipelined_requests_are_answered_out_of_order_and_matched_by_id(sleeper_flow, codec):
    seconds = {"slow": 1.2, "fast": 0.05, "middle": 0.6, "quick": 0.3}
    with connect(ws_url(sleeper_flow), subprotocols=[codec.subprotocol]) as ws:
        for request_id, wait in seconds.items():
            ws.send(codec.request(request_id, f"text of {request_id}", seconds=wait))
        answers = read_answers(ws, codec, len(seconds))
        ws.send(codec.end_of_input)
        assert read_until_closed(ws) == []
        assert ws.close_code == 1000
    order = [a.request_id for a in answers]
    assert order == sorted(seconds, key=seconds.get), "answers come back as they finish, not as sent"
    assert order != list(seconds)
    for answer in answers:
        assert answer.texts == [f"text of {answer.request_id}"]
        assert answer.tags[0]["slept"] == seconds[answer.request_id]


def test_executor_error_is_an_answer_and_the_connection_goes_on(sleeper_flow, codec):
    with connect(ws_url(sleeper_flow), subprotocols=[codec.subprotocol]) as ws:
        ws.send(codec.request("failing-1", "x", endpoint="/fail"))
        failed = codec.answer(ws.recv(timeout=ANSWER_TIMEOUT))
        assert failed.request_id == "failing-1"
        assert failed.status_code == jina_pb2.StatusProto.ERROR
        assert failed.exception == "ValueError"
        ws.send(codec.request("after-failure", "y"))
        answer = codec.answer(ws.recv(timeout=ANSWER_TIMEOUT))
        assert answer.request_id == "after-failure" and answer.status_code == 0 and answer.texts == ["y"]


# -- in-band errors -------------------------------------------------------------------------------


def _json_error(frame: str | bytes) -> dict[str, Any]:
    assert isinstance(frame, str), f"expected a text error frame, got {frame!r}"
    body = json.loads(frame)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "status", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], list)
    return error


@pytest.mark.parametrize(
    ("frame", "code", "location"),
    [
        pytest.param("{not json", 400, None, id="invalid-json"),
        pytest.param(json.dumps({"data": "x"}), 422, "data", id="data-not-a-list"),
        pytest.param(json.dumps({"parameters": [1, 2]}), 422, "parameters", id="parameters-not-an-object"),
        pytest.param(json.dumps({"data": [{"text": 5}]}), 422, "data[0].text", id="text-not-a-string"),
        pytest.param(json.dumps([1, 2, 3]), 422, "body", id="not-an-object"),
        pytest.param(b"\x01\x02binary", 400, None, id="binary-frame"),
    ],
)
def test_json_connection_answers_an_unreadable_frame_in_band(sleeper_flow, frame, code, location):
    with connect(ws_url(sleeper_flow), subprotocols=["json"]) as ws:
        ws.send(frame)
        error = _json_error(ws.recv(timeout=ANSWER_TIMEOUT))
        assert error["code"] == code
        assert error["status"] == "INVALID_ARGUMENT"
        if location is not None:
            assert error["message"].startswith(f"{location}:")
            assert error["details"][0]["location"] == location
        ws.send(JsonCodec.request("after-error", "fine"))
        answer = JsonCodec.answer(ws.recv(timeout=ANSWER_TIMEOUT))
        assert answer.request_id == "after-error" and answer.texts == ["fine"]


@pytest.mark.parametrize(
    "frame",
    [
        pytest.param(b"not a protobuf", id="garbage"),
        pytest.param(b"\x0a\xff", id="truncated"),
        pytest.param(b"\xff\xff\xff\xff", id="bad-wire-type"),
        pytest.param("a text frame", id="text-frame"),
    ],
)
def test_bytes_connection_answers_an_unreadable_frame_in_band(sleeper_flow, frame):
    with connect(ws_url(sleeper_flow), subprotocols=["bytes"]) as ws:
        ws.send(frame)
        error = BytesCodec.answer(ws.recv(timeout=ANSWER_TIMEOUT))
        assert error.status_code == jina_pb2.StatusProto.ERROR
        assert error.exception == "BadRequest"
        ws.send(BytesCodec.request("after-error", "fine"))
        answer = BytesCodec.answer(ws.recv(timeout=ANSWER_TIMEOUT))
        assert answer.request_id == "after-error" and answer.status_code == 0 and answer.texts == ["fine"]


def test_bad_frames_between_pipelined_requests_leave_them_alone(sleeper_flow):
    """An error frame is sent while other requests are still in flight; those are answered too."""
    with connect(ws_url(sleeper_flow), subprotocols=["json"]) as ws:
        ws.send(JsonCodec.request("before", "a", seconds=0.5))
        ws.send("{oops")
        ws.send(b"\x00\x01")
        ws.send(JsonCodec.request("after", "b", seconds=0.0))
        ws.send("{}")
        frames = read_until_closed(ws)
        assert ws.close_code == 1000
    errors = [f for f in frames if "error" in json.loads(f)]
    answers = [JsonCodec.answer(f) for f in frames if "error" not in json.loads(f)]
    assert [_json_error(f)["code"] for f in errors] == [400, 400]
    assert sorted(a.request_id for a in answers) == ["after", "before"]


# -- prefetch -------------------------------------------------------------------------------------


def _peak(answers: list[Answer]) -> int:
    return max(tags["in_flight"] for answer in answers for tags in answer.tags)


def test_prefetch_bounds_the_requests_in_flight_of_a_connection(prefetch_flow):
    count = 30
    with connect(ws_url(prefetch_flow), subprotocols=["json"]) as ws:
        for i in range(count):  # none waits for an answer
            ws.send(JsonCodec.request(f"p{i}", str(i), seconds=0.1))
        answers = read_answers(ws, JsonCodec, count)
        ws.send("{}")
        assert read_until_closed(ws) == []
        assert ws.close_code == 1000
    assert sorted(a.request_id for a in answers) == sorted(f"p{i}" for i in range(count))
    assert all(a.texts == [a.request_id[1:]] for a in answers)
    assert _peak(answers) == 2


@pytest.mark.parametrize("prefetch", [1, 5])
def test_prefetch_query_parameter_overrides_the_flow_default(prefetch_flow, prefetch):
    count = 3 * prefetch + 3
    with connect(ws_url(prefetch_flow, f"?prefetch={prefetch}"), subprotocols=["bytes"]) as ws:
        for i in range(count):
            ws.send(BytesCodec.request(f"q{i}", str(i), seconds=0.15))
        answers = read_answers(ws, BytesCodec, count)
        ws.send(b"\x00")
        assert read_until_closed(ws) == []
    assert sorted(a.request_id for a in answers) == sorted(f"q{i}" for i in range(count))
    assert _peak(answers) == prefetch


def test_prefetch_applies_to_each_connection_separately(prefetch_flow):
    count = 8
    with (
        connect(ws_url(prefetch_flow), subprotocols=["json"]) as first,
        connect(ws_url(prefetch_flow), subprotocols=["json"]) as second,
    ):
        for i in range(count):
            first.send(JsonCodec.request(f"a{i}", "a", seconds=0.3))
            second.send(JsonCodec.request(f"b{i}", "b", seconds=0.3))
        answers = read_answers(first, JsonCodec, count) + read_answers(second, JsonCodec, count)
    expected = [f"a{i}" for i in range(count)] + [f"b{i}" for i in range(count)]
    assert sorted(a.request_id for a in answers) == sorted(expected)
    # two streams of prefetch 2 each: 4 requests at the executor at once, never more
    assert _peak(answers) == 4


def test_a_client_that_reads_slowly_still_gets_every_answer(prefetch_flow):
    """Jina #4990: with prefetch, a client that sends everything before reading (and then reads
    slowly) must not deadlock. Large answers and a tiny client queue make the bridge's writes
    block on TCP back-pressure while the client is still sending."""
    count = 120
    text = "z" * 64 * 1024

    async def scenario() -> tuple[list[Answer], int | None]:
        async with async_connect(ws_url(prefetch_flow), subprotocols=["json"], max_queue=2, max_size=None) as ws:
            for i in range(count):
                await ws.send(JsonCodec.request(f"s{i}", text, seconds=0))
            await ws.send("{}")
            answers = []
            async for frame in ws:  # ends when the bridge closes normally
                answers.append(JsonCodec.answer(frame))
                await asyncio.sleep(0.005)
            return answers, ws.close_code

    answers, close_code = asyncio.run(asyncio.wait_for(scenario(), timeout=90))
    assert close_code == 1000
    assert sorted(a.request_id for a in answers) == sorted(f"s{i}" for i in range(count))
    assert all(a.texts == [text] for a in answers)
    assert _peak(answers) <= 2


# -- gateway failure ------------------------------------------------------------------------------


@pytest.mark.parametrize("subprotocol", sorted(CODECS))
def test_gateway_killed_mid_request_closes_with_1011(flows, subprotocol):
    codec = CODECS[subprotocol]
    flow = Flow(protocol=["websocket", "http"], host="127.0.0.1").add(uses=executors.AsyncSleeper)
    flow.restart_policy = None  # unsupervised: the gateway stays dead, for the bridge's answers to be seen
    flow = flows(flow)
    pids = set(flow.pids.values())
    with connect(ws_url(flow), subprotocols=[subprotocol]) as ws:
        ws.send(codec.request("warm-up", "w"))
        assert codec.answer(ws.recv(timeout=ANSWER_TIMEOUT)).request_id == "warm-up"  # the stream is open
        ws.send(codec.request("in-flight", "x", seconds=20))
        time.sleep(0.3)
        os.kill(flow.pids["gateway"], signal.SIGKILL)
        with pytest.raises(ConnectionClosedError) as closed:
            ws.recv(timeout=ANSWER_TIMEOUT)
    received = closed.value.rcvd
    assert received is not None, "the bridge must send a close frame, not drop the TCP connection"
    assert received.code == 1011
    assert received.reason, "the close frame should say why"
    assert len(received.reason.encode()) <= MAX_CLOSE_REASON
    # the bridge itself stays up and reports the missing gateway
    health = httpx.get(f"http://127.0.0.1:{flow.port}/", timeout=10)
    assert health.status_code == 503
    assert set(health.json()["error"]) == {"code", "status", "message", "details"}
    flow.close()
    assert wait_gone(pids) == set()


def test_close_reason_fits_a_close_frame():
    assert close_reason("short") == "short"
    long = "gateway error: UNAVAILABLE: " + "é" * 200  # two bytes per character
    cut = close_reason(long)
    assert len(cut.encode()) <= MAX_CLOSE_REASON == 123
    assert cut.startswith("gateway error: UNAVAILABLE: é") and cut.endswith("...")
    exact = "a" * 123
    assert close_reason(exact) == exact
