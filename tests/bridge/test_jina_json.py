"""The bridge's side of Jina's JSON (`jina.httpjson`): both spellings, the route's endpoint, 422s naming where."""

from __future__ import annotations

import pytest
from jina_mesh.bridge.errors import HTTPError

from jina.httpjson import BodyError, request_from_json, response_to_json
from jina.proto import jina_pb2
from jina.wire import struct_to_dict


@pytest.mark.parametrize(
    "body",
    [
        {"data": [{"text": "a"}], "execEndpoint": "/x", "targetExecutor": "e.*", "parameters": {"k": 1}},
        {"data": [{"text": "a"}], "exec_endpoint": "/x", "target_executor": "e.*", "parameters": {"k": 1}},
        {"data": {"docs": [{"text": "a"}]}, "exec_endpoint": "/x", "targetExecutor": "e.*", "parameters": {"k": 1}},
    ],
)
def test_camel_snake_and_legacy_docs_forms(body):
    request = request_from_json(body)
    assert request.header.exec_endpoint == "/x"
    assert request.header.target_executor == "e.*"
    assert struct_to_dict(request.parameters) == {"k": 1.0}
    assert [d.text for d in request.data.docs.docs] == ["a"]
    assert request.header.request_id


def test_camel_case_wins_and_route_endpoint_wins():
    assert request_from_json({"execEndpoint": "/a", "exec_endpoint": "/b"}).header.exec_endpoint == "/a"
    assert request_from_json({"execEndpoint": "/a"}, exec_endpoint="/index").header.exec_endpoint == "/index"
    assert request_from_json(None).header.exec_endpoint == "/"


def test_jina_clients_header_and_routes_are_accepted():
    request = request_from_json({"header": {"request_id": "abc", "exec_endpoint": "/"}, "routes": [], "data": []})
    assert request.header.request_id == "abc"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ([], "body"),
        ({"data": "x"}, "data"),
        ({"data": [{"text": 1}]}, "data[0].text"),
        ({"data": [{"tags": []}]}, "data[0].tags"),
        ({"data": [{"embedding": [[1, 2], [3]]}]}, "data[0].embedding"),
        ({"data": [{"blob": "not base64!"}]}, "data[0].blob"),
        ({"parameters": []}, "parameters"),
        ({"execEndpoint": 3}, "execEndpoint"),
        ({"paramters": {}}, "paramters"),
    ],
)
def test_wrong_types_are_422_naming_the_place(body, where):
    with pytest.raises(BodyError) as info:
        request_from_json(body)
    assert info.value.location == where
    error = HTTPError.unprocessable(info.value.location, info.value.message)
    assert error.status == 422
    assert error.message.startswith(where)
    assert error.details == [{"location": where, "message": info.value.message}]


def test_render_response_shape():
    response = jina_pb2.DataRequestProto()
    response.header.request_id = "r"
    response.header.exec_endpoint = "/"
    route = response.routes.add(executor="gateway")
    route.start_time.FromSeconds(1_700_000_000)
    response.data.docs.docs.add(id="d", text="t")
    rendered = response_to_json(response)
    assert rendered["header"] == {"requestId": "r", "status": None, "execEndpoint": "/", "targetExecutor": ""}
    assert rendered["routes"] == [
        {"executor": "gateway", "startTime": "2023-11-14T22:13:20+00:00", "endTime": None, "status": None}
    ]
    assert rendered["data"][0]["text"] == "t" and rendered["data"][0]["tags"] is None
    assert rendered["parameters"] == {}


def test_stacks_only_when_asked():
    response = jina_pb2.DataRequestProto()
    status = response.header.status
    status.code = jina_pb2.StatusProto.ERROR
    status.exception.name = "ValueError"
    status.exception.stacks.append("Traceback ...")
    assert response_to_json(response)["header"]["status"]["exception"]["stacks"] == []
    assert response_to_json(response, with_stacks=True)["header"]["status"]["exception"]["stacks"] == ["Traceback ..."]
