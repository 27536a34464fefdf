"""Message-size limits on every hop: a 60 MB request is refused by default and served when allowed."""

from __future__ import annotations

import grpc
import httpx
import pytest
from docarray import Document

from jina import Client, Flow
from jina.excepts import RequestTooLarge
from jina.proto import jina_pb2

SIXTY_MB = 60 * 1000 * 1000


def big_request(size: int) -> jina_pb2.DataRequestProto:
    request = jina_pb2.DataRequestProto()
    request.header.exec_endpoint = "/"
    request.data.docs.docs.add(id="big", text="x" * size)
    return request


@pytest.fixture(scope="module")
def default_flow():
    with Flow(protocol=["grpc", "http"], host="127.0.0.1").add(uses="tests.executors:Appender") as flow:
        yield flow


def test_grpc_oversize_is_resource_exhausted_and_the_gateway_goes_on(default_flow):
    options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", -1)]
    with grpc.insecure_channel(f"127.0.0.1:{default_flow.ports['grpc']}", options=options) as channel:
        call = channel.unary_unary(
            "/jina.JinaSingleDataRequestRPC/process_single_data",
            request_serializer=jina_pb2.DataRequestProto.SerializeToString,
            response_deserializer=jina_pb2.DataRequestProto.FromString,
        )
        with pytest.raises(grpc.RpcError) as info:
            call(big_request(SIXTY_MB), timeout=60)
        assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert call(big_request(10), timeout=10).data.docs.docs[0].text == "x" * 10 + "x"


def test_our_client_refuses_before_sending_and_keeps_its_stream(default_flow):
    with Client(port=default_flow.ports["grpc"]) as client:
        assert client.post("/", Document(text="a")).texts == ["ax"]
        stream = client._streams[-1]
        with pytest.raises(RequestTooLarge, match="over the 52,428,800-byte message limit"):
            client.post("/", Document(text="x" * SIXTY_MB))
        assert client.post("/", Document(text="b")).texts == ["bx"]
        assert client._streams[-1] is stream  # nothing broke


def test_http_oversize_is_413_and_the_bridge_goes_on(default_flow):
    base = f"http://127.0.0.1:{default_flow.ports['http']}"
    body = b'{"data": [{"text": "' + b"x" * SIXTY_MB + b'"}]}'
    response = httpx.post(f"{base}/post", content=body, headers={"content-type": "application/json"}, timeout=60)
    assert response.status_code == 413 and response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert httpx.post(f"{base}/post", json={"data": [{"text": "ok"}]}).json()["data"][0]["text"] == "okx"


def test_with_raised_limits_sixty_megabytes_go_through(flows):
    limit = 100 * 1024 * 1024
    flow = flows(
        Flow(protocol=["grpc", "http"], host="127.0.0.1", max_message_bytes=limit).add(uses="tests.executors:Appender")
    )
    with Client(port=flow.ports["grpc"], max_message_bytes=limit) as client:
        (doc,) = client.post("/", Document(text="x" * SIXTY_MB))
    assert len(doc.text) == SIXTY_MB + 1
    body = b'{"data": [{"text": "' + b"y" * SIXTY_MB + b'"}]}'
    response = httpx.post(
        f"http://127.0.0.1:{flow.ports['http']}/post", content=body, headers={"content-type": "application/json"},
        timeout=120,
    )  # fmt: skip
    assert response.status_code == 200, response.text[:300]
    assert len(response.json()["data"][0]["text"]) == SIXTY_MB + 1
