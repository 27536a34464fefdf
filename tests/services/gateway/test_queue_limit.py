"""`max_queued_requests` through real Flows (issue 11): a bound on what the gateway holds across
every client. With a bound of N and a slow executor, N + k requests at once: exactly k are refused
(RESOURCE_EXHAUSTED + `retry-after` on gRPC, 429 + `Retry-After` on HTTP, in-band errors on the
Call stream and the WebSocket, which go on), the N others are answered, and then requests are
answered again. Also how the option reaches the gateway: Flow(...), YAML `with:`, the command line.
"""

from __future__ import annotations

import json
import queue
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import httpx
import pytest
from docarray import Document, DocumentArray
from websockets.sync.client import connect

from jina import Flow
from jina.excepts import BadConfig
from jina.flow.spec import command
from jina.proto import jina_pb2, jina_pb2_grpc
from jina.wire import dict_to_struct
from tests import executors
from tests.jina.flow.test_spec import Fixed, _flag

LIMIT = 3
EXCESS = 2
#: long enough for every request of a burst to reach the gateway while the first ones are held
SLOW = 3.0
TIMEOUT = 30


def _request(seconds: float = 0.0, request_id: str = "") -> jina_pb2.DataRequestProto:
    request = jina_pb2.DataRequestProto()
    request.header.exec_endpoint = "/"
    if request_id:
        request.header.request_id = request_id
    dict_to_struct({"seconds": seconds}, request.parameters)
    request.data.docs.CopyFrom(DocumentArray([Document(text="x")]).to_protobuf())
    return request


def _unary(address: str, seconds: float = 0.0):
    """('ok', None) or (code name, retry-after) of one process_single_data call, on its own channel."""
    with grpc.insecure_channel(address) as channel:
        try:
            jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel).process_single_data(_request(seconds), timeout=TIMEOUT)
        except grpc.RpcError as err:
            retry = dict(err.trailing_metadata() or ()).get("retry-after")
            return err.code().name, retry, err.details()
    return "ok", None, ""


def _post(port: int, seconds: float = 0.0) -> httpx.Response:
    body = {"data": [{"text": "x"}], "parameters": {"seconds": seconds}}
    return httpx.post(f"http://127.0.0.1:{port}/post", json=body, timeout=TIMEOUT)


def _burst(count: int, call):
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


@pytest.fixture(scope="module")
def flow():
    f = Flow(protocol=["grpc", "http", "websocket"], host="127.0.0.1", max_queued_requests=LIMIT)
    f.add(uses=executors.AsyncSleeper, name="slow")
    f.restart_policy = None
    with f:
        yield f


def test_grpc_unary_excess_is_refused_with_retry_after(flow):
    address = f"127.0.0.1:{flow.ports['grpc']}"
    answers = _burst(LIMIT + EXCESS, lambda: _unary(address, SLOW))
    assert sorted(a[0] for a in answers) == ["RESOURCE_EXHAUSTED"] * EXCESS + ["ok"] * LIMIT
    for code, retry, details in answers:
        if code == "RESOURCE_EXHAUSTED":
            assert retry is not None and retry.isdigit() and int(retry) >= 1
            assert f"limit of {LIMIT} queued requests (max_queued_requests)" in details
    assert _unary(address)[0] == "ok"  # the places are free again


def test_http_excess_gets_429_with_retry_after(flow):
    port = flow.ports["http"]
    answers = _burst(LIMIT + EXCESS, lambda: _post(port, SLOW))
    assert sorted(r.status_code for r in answers) == [200] * LIMIT + [429] * EXCESS
    for response in answers:
        if response.status_code == 429:
            assert response.headers["Retry-After"].isdigit()
            error = response.json()["error"]
            assert error["status"] == "RESOURCE_EXHAUSTED" and "max_queued_requests" in error["message"]
    assert _post(port).status_code == 200


def test_the_bound_is_for_all_clients_together(flow):
    """gRPC callers fill it; an HTTP client and a WebSocket client are refused meanwhile."""
    address = f"127.0.0.1:{flow.ports['grpc']}"
    with ThreadPoolExecutor(LIMIT) as pool:
        held = [pool.submit(_unary, address, SLOW) for _ in range(LIMIT)]
        # wait until the gateway holds them all: a probe is refused
        for _ in range(100):
            if _post(flow.ports["http"]).status_code == 429:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the gateway never reached its bound")
        with connect(f"ws://127.0.0.1:{flow.ports['websocket']}/", subprotocols=["json"]) as ws:
            ws.send(json.dumps({"execEndpoint": "/", "data": [{"text": "w"}]}))
            answer = json.loads(ws.recv(timeout=TIMEOUT))
            assert answer["header"]["status"]["code"] in (1, "ERROR")
            assert answer["header"]["status"]["exception"]["name"] == "Overloaded"
            assert "RESOURCE_EXHAUSTED" in answer["header"]["status"]["exception"]["args"]
            assert [a.result()[0] for a in held] == ["ok"] * LIMIT
            # the same connection goes on, and is answered now
            ws.send(json.dumps({"execEndpoint": "/", "data": [{"text": "w2"}]}))
            again = json.loads(ws.recv(timeout=TIMEOUT))
            assert (again["header"].get("status") or {}).get("code", 0) in (0, "SUCCESS")
            assert again["data"][0]["text"] == "w2"


def test_the_call_stream_answers_the_excess_in_band_and_goes_on(flow):
    outgoing: queue.Queue = queue.Queue()
    for i in range(LIMIT + EXCESS):
        outgoing.put(_request(SLOW, request_id=f"r{i}"))

    def requests():
        while (item := outgoing.get()) is not None:
            yield item

    with grpc.insecure_channel(f"127.0.0.1:{flow.ports['grpc']}") as channel:
        responses = jina_pb2_grpc.JinaRPCStub(channel).Call(requests(), timeout=TIMEOUT)
        first = [next(responses) for _ in range(LIMIT + EXCESS)]
        refused = [r for r in first if r.header.status.code == jina_pb2.StatusProto.ERROR]
        assert len(refused) == EXCESS
        for response in refused:
            exception = response.header.status.exception
            assert exception.name == "Overloaded" and "RESOURCE_EXHAUSTED" in exception.args
            assert "retry after" in response.header.status.description
        outgoing.put(_request(0, request_id="later"))
        later = next(responses)
        outgoing.put(None)
        assert later.header.request_id == "later" and later.header.status.code == jina_pb2.StatusProto.SUCCESS
        assert list(responses) == []


def test_the_option_reaches_the_gateway_command_line_only():
    f = Flow(protocol=["grpc", "http"], max_queued_requests=7).add(name="e")
    spec = f.spec(ports=f.declared_ports)
    gateway = command(spec, spec.gateway, Fixed())
    assert _flag(gateway, "--max-queued-requests") == "7"
    config = json.loads(_flag(command(spec, spec.bridge, Fixed()), "--config"))
    assert "max_queued_requests" not in config
    assert f.gateway_args.max_queued_requests == 7
    unbounded = Flow().add(name="e").spec(ports={"grpc": None})
    assert "--max-queued-requests" not in command(unbounded, unbounded.gateway, Fixed())


def test_the_option_in_yaml(tmp_path):
    path = tmp_path / "flow.yml"
    path.write_text("jtype: Flow\nwith:\n  max_queued_requests: 5\nexecutors:\n  - name: e\n")
    f = Flow.load_config(str(path))
    spec = f.spec(ports=f.declared_ports)
    assert _flag(command(spec, spec.gateway, Fixed()), "--max-queued-requests") == "5"
    saved = tmp_path / "saved.yml"
    f.save_config(saved)
    again = Flow.load_config(str(saved))
    assert again.gateway_args.max_queued_requests == 5


@pytest.mark.parametrize("bad", [-1, 1.5, "ten", True])
def test_a_bad_value_is_refused(bad):
    with pytest.raises(BadConfig, match="max_queued_requests"):
        Flow(max_queued_requests=bad)


def test_debug_reaches_the_gateway_command_line():
    f = Flow(debug=True).add(name="e")
    spec = f.spec(ports=f.declared_ports)
    assert "--debug" in command(spec, spec.gateway, Fixed())


def test_the_websocket_answers_the_excess_in_band_and_goes_on(flow):
    with connect(f"ws://127.0.0.1:{flow.ports['websocket']}/", subprotocols=["json"]) as ws:
        for i in range(LIMIT + EXCESS):
            body = {"header": {"requestId": f"w{i}"}, "execEndpoint": "/", "data": [{"text": "x"}]}
            ws.send(json.dumps({**body, "parameters": {"seconds": SLOW}}))
        answers = [json.loads(ws.recv(timeout=TIMEOUT)) for _ in range(LIMIT + EXCESS)]
        refused = [a for a in answers if (a["header"].get("status") or {}).get("code") in (1, "ERROR")]
        assert len(refused) == EXCESS
        assert all(a["header"]["status"]["exception"]["name"] == "Overloaded" for a in refused)
        ws.send(json.dumps({"header": {"requestId": "later"}, "execEndpoint": "/", "data": [{"text": "y"}]}))
        later = json.loads(ws.recv(timeout=TIMEOUT))
        assert later["header"]["requestId"] == "later" and later["data"][0]["text"] == "y"
