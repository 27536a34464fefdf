"""Jina's HTTP JSON both ways: generated requests and responses survive the trip, and Jina's own answers match."""

from __future__ import annotations

import datetime
import json
import math
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jina.clients.http import encode_json
from jina.httpjson import (
    BodyError,
    failed_request_json,
    request_from_json,
    request_to_json,
    response_from_json,
    response_to_json,
    status_from_json,
    status_to_json,
)
from jina.proto import docarray_pb2, jina_pb2
from jina.wire import RESULTS_KEY, dict_to_struct
from tests.conftest import ROOT

# -- generated protos ------------------------------------------------------------------------

texts = st.text(max_size=8)
# -0.0 is not carried: documents leave zero fields out, and 0.0 comes back
floats32 = st.floats(allow_nan=False, allow_infinity=False, width=32).map(lambda x: x + 0.0)
floats64 = st.floats(allow_nan=False, allow_infinity=False).map(lambda x: x + 0.0)
json_values = st.recursive(
    st.none() | st.booleans() | texts | floats64,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)
json_objects = st.dictionaries(texts, json_values, max_size=4)


def _compiles(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


# a request's target_executor is a regular expression: one that does not compile is refused
regexes = texts.filter(_compiles)


@st.composite
def ndarrays(draw) -> docarray_pb2.NdArrayProto:
    # what docarray sends for a numpy array, in the dtypes JSON's numbers come back as
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3))
    size = math.prod(shape)
    if draw(st.booleans()):
        values = np.array(draw(st.lists(floats64, min_size=size, max_size=size)), dtype="<f8")
    else:
        values = np.array(draw(st.lists(st.integers(-(2**53), 2**53), min_size=size, max_size=size)), dtype="<i8")
    array = docarray_pb2.NdArrayProto(cls_name="numpy")
    array.dense.buffer = values.tobytes()
    array.dense.shape.extend(shape)
    array.dense.dtype = values.dtype.str
    return array


def named_scores(draw, target) -> None:
    for name in draw(st.lists(texts, max_size=2, unique=True)):
        score = target[name]
        score.value = draw(floats32)
        score.op_name, score.description, score.ref_id = draw(st.tuples(texts, texts, texts))


@st.composite
def documents(draw, depth: int = 0) -> docarray_pb2.DocumentProto:
    doc = docarray_pb2.DocumentProto(id=draw(st.text(min_size=1, max_size=8)))
    content = draw(st.sampled_from(["none", "text", "blob", "tensor"]))
    # empty content is no content: JSON writes it as null
    if content == "text":
        doc.text = draw(st.text(min_size=1, max_size=20))
    elif content == "blob":
        doc.blob = draw(st.binary(min_size=1, max_size=20))
    elif content == "tensor":
        doc.tensor.CopyFrom(draw(ndarrays()))
    for name in ("parent_id", "mime_type", "uri", "modality"):
        setattr(doc, name, draw(texts))
    doc.granularity, doc.adjacency = draw(st.tuples(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1)))
    doc.weight, doc.offset = draw(st.tuples(floats32, floats32))
    doc.location.extend(draw(st.lists(floats32, max_size=3)))
    dict_to_struct(draw(json_objects), doc.tags)
    if draw(st.booleans()):
        doc.embedding.CopyFrom(draw(ndarrays()))
    named_scores(draw, doc.scores)
    named_scores(draw, doc.evaluations)
    if depth < 1:
        doc.chunks.extend(draw(st.lists(documents(depth + 1), max_size=2)))
        doc.matches.extend(draw(st.lists(documents(depth + 1), max_size=2)))
    return doc


@st.composite
def statuses(draw) -> jina_pb2.StatusProto | None:
    """None, or a status that says something (an empty one is written as `null`, i.e. none)."""
    if draw(st.booleans()):
        return None
    status = jina_pb2.StatusProto(code=jina_pb2.StatusProto.ERROR, description=draw(texts))
    if draw(st.booleans()):
        exception = status.exception
        exception.name, exception.executor = draw(st.tuples(texts, texts))
        exception.args.extend(draw(st.lists(texts, max_size=2)))
        exception.stacks.extend(draw(st.lists(texts, max_size=2)))
    return status


times = st.builds(
    lambda seconds, micros: (seconds, micros * 1000),
    st.integers(1, 253402300799),  # 1970 to 9999, as RFC 3339 has them
    st.integers(0, 999_999),  # Jina writes microseconds
)


@st.composite
def responses(draw) -> jina_pb2.DataRequestProto:
    response = jina_pb2.DataRequestProto()
    header = response.header
    header.request_id = draw(st.text(min_size=1, max_size=8))
    header.exec_endpoint, header.target_executor = draw(st.tuples(texts, texts))
    status = draw(statuses())
    if status is not None:
        header.status.CopyFrom(status)
    parameters = draw(json_objects)
    if draw(st.booleans()):
        parameters[RESULTS_KEY] = {"executor0": draw(json_objects)}
    response.parameters.SetInParent()  # a response's JSON always has them, `{}` at least
    dict_to_struct(parameters, response.parameters)
    for _ in range(draw(st.integers(0, 3))):
        route = response.routes.add(executor=draw(texts))
        for stamp in (route.start_time, route.end_time):
            if draw(st.booleans()):
                stamp.seconds, stamp.nanos = draw(times)
        status = draw(statuses())
        if status is not None:
            route.status.CopyFrom(status)
    response.data.docs.docs.extend(draw(st.lists(documents(), max_size=3)))
    return response


@st.composite
def requests(draw) -> jina_pb2.DataRequestProto:
    """A request as a client builds one: what Jina's request JSON carries (no status, no routes)."""
    request = jina_pb2.DataRequestProto()
    request.header.request_id = draw(st.text(min_size=1, max_size=8))
    request.header.exec_endpoint = draw(st.text(min_size=1, max_size=8))
    target = draw(regexes)
    if target:
        request.header.target_executor = target
    dict_to_struct(draw(json_objects), request.parameters)
    request.data.docs.SetInParent()
    request.data.docs.docs.extend(draw(st.lists(documents(), max_size=3)))
    return request


def over_the_wire(body: dict) -> dict:
    """What the other side reads: the client's bytes (NaN allowed), parsed back."""
    return json.loads(encode_json(body))


@settings(max_examples=200, deadline=None)
@given(requests())
def test_a_request_comes_back_from_its_json(request):
    assert request_from_json(over_the_wire(request_to_json(request))) == request


@settings(max_examples=200, deadline=None)
@given(responses())
def test_a_response_comes_back_from_its_json(response):
    assert response_from_json(over_the_wire(response_to_json(response, with_stacks=True))) == response


@settings(max_examples=100, deadline=None)
@given(statuses())
def test_a_status_comes_back_from_its_json(status):
    status = status or jina_pb2.StatusProto()
    assert status_from_json(over_the_wire(status_to_json(status, with_stacks=True))) == status


# -- generated JSON bodies -------------------------------------------------------------------

numbers = st.integers(-1000, 1000) | floats32
contents = st.text(min_size=1, max_size=8)
arrays = st.integers(1, 3).flatmap(
    lambda n: st.lists(st.lists(numbers, min_size=n, max_size=n), min_size=1, max_size=3)
)
scores = st.dictionaries(texts, numbers | st.fixed_dictionaries({"value": numbers}, optional={"op_name": texts}))


@st.composite
def document_bodies(draw, depth: int = 0):
    """A document as a user (or Jina's client) writes it: some keys, some `null`, or a bare string.

    Texts are not empty: `""` sets the document's content to an empty text, which is written as `null`.
    """
    if draw(st.integers(0, 5)) == 0:
        return draw(contents)
    doc = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "id": st.text(min_size=1, max_size=8),
                "text": contents,
                "tags": json_objects,
                "uri": texts,
                "mime_type": st.none() | texts,
                "embedding": arrays,
                "weight": numbers,
                "location": st.lists(numbers, max_size=3),
                "granularity": st.integers(0, 5),
                "scores": scores,
                "parent_id": st.none(),
            },
        )
    )
    if depth < 1 and draw(st.booleans()):
        doc["matches"] = draw(st.lists(document_bodies(depth + 1), max_size=2))
    return doc


@st.composite
def request_bodies(draw) -> dict:
    body: dict = {}
    keys = {
        "data": st.lists(document_bodies(), max_size=3) | st.fixed_dictionaries({"docs": st.lists(document_bodies())}),
        "parameters": json_objects,
        draw(st.sampled_from(["execEndpoint", "exec_endpoint"])): texts,
        draw(st.sampled_from(["targetExecutor", "target_executor"])): regexes,
        "header": st.fixed_dictionaries({}, optional={"requestId": texts, "execEndpoint": texts}),
        "routes": st.just([]),
    }
    for key, strategy in keys.items():
        if draw(st.booleans()):
            body[key] = draw(strategy)
    return body


@settings(max_examples=200, deadline=None)
@given(request_bodies())
def test_a_request_body_is_stable_once_read(body):
    first = request_from_json(body)
    written = request_to_json(first)
    again = request_from_json(over_the_wire(written))
    assert again == first
    assert request_to_json(again) == written


def jina_times(moment: datetime.datetime) -> st.SearchStrategy[str]:
    # RFC 3339 as Jina writes it (an offset) and as protobuf does (Z)
    return st.sampled_from([moment.isoformat(), moment.isoformat().replace("+00:00", "Z")])


moments = st.datetimes(datetime.datetime(1970, 1, 2), datetime.datetime(9999, 12, 30), timezones=st.just(datetime.UTC))
status_bodies = st.none() | st.fixed_dictionaries(
    {"code": st.sampled_from([0, 1, "ERROR", "SUCCESS"]), "description": texts},
    optional={"exception": st.none() | st.fixed_dictionaries({"name": texts, "args": st.lists(texts, max_size=2)})},
)
route_bodies = st.fixed_dictionaries(
    {"executor": texts, "status": status_bodies},
    optional={"startTime": st.none() | moments.flatmap(jina_times), "endTime": moments.flatmap(jina_times)},
)
response_bodies = st.fixed_dictionaries(
    {
        "header": st.fixed_dictionaries(
            {"requestId": texts, "status": status_bodies, "execEndpoint": texts, "targetExecutor": texts}
        ),
        "parameters": json_objects,
        "routes": st.lists(route_bodies, max_size=3),
        "data": st.none() | st.lists(document_bodies(), max_size=3),
    },
    optional={"error": st.fixed_dictionaries({"message": texts})},  # the bridge's addition, ignored
)


@settings(max_examples=200, deadline=None)
@given(response_bodies)
def test_a_response_body_is_stable_once_read(body):
    written = response_to_json(response_from_json(body), with_stacks=True)
    assert response_to_json(response_from_json(over_the_wire(written)), with_stacks=True) == written


# -- what real Jina writes, byte for byte ----------------------------------------------------


def real_jina_responses() -> list[str]:
    """Every response body real Jina 3.34's HTTP gateway answered in the reference runs."""
    lines = (ROOT / "tests" / "bridge" / "reference" / "http.txt").read_text().splitlines()
    bodies = [line for line in lines if line.startswith('{"header"')]
    assert len(bodies) > 20
    return bodies


@pytest.mark.parametrize("line", real_jina_responses())
def test_jinas_answers_are_written_back_byte_for_byte(line):
    body = json.loads(line)
    times = [route.get(key) for route in body["routes"] for key in ("startTime", "endTime")]
    if any(t is not None and not t.endswith("+00:00") for t in times):
        # Jina once wrote a time without an offset, which RFC 3339 (and so protobuf's parser) refuses
        with pytest.raises(BodyError, match="endTime"):
            response_from_json(body)
        return
    written = response_to_json(response_from_json(body), with_stacks=True)
    assert json.dumps(written, separators=(",", ":"), ensure_ascii=False) == line


# -- the details -----------------------------------------------------------------------------


def test_keys_and_nulls_of_a_response():
    response = jina_pb2.DataRequestProto()
    response.header.request_id = "r"
    response.routes.add(executor="gateway").start_time.FromSeconds(1_700_000_000)
    assert response_to_json(response) == {
        "header": {"requestId": "r", "status": None, "execEndpoint": "", "targetExecutor": ""},
        "parameters": {},
        "routes": [{"executor": "gateway", "startTime": "2023-11-14T22:13:20+00:00", "endTime": None, "status": None}],
        "data": [],
    }


def test_a_request_body_is_what_jinas_gateway_reads():
    request = jina_pb2.DataRequestProto()
    request.header.request_id = "r"
    request.header.exec_endpoint = "/search"
    dict_to_struct({"top_k": 3, RESULTS_KEY: {"e": [1]}}, request.parameters)
    assert encode_json(request_to_json(request)) == (
        b'{"header":{"requestId":"r","execEndpoint":"/search"},"parameters":{"__results__":{"e":[1.0]},"top_k":3.0},'
        b'"data":[],"execEndpoint":"/search","targetExecutor":""}'
    )


def test_nan_in_documents_goes_out_as_jinas_client_sends_it_and_comes_back():
    request = jina_pb2.DataRequestProto()
    request.header.request_id = "r"
    array = request.data.docs.docs.add(id="d").embedding
    array.dense.buffer = np.array([math.nan, 1.0]).tobytes()
    array.dense.shape.append(2)
    array.dense.dtype = "<f8"
    assert b'"embedding":[NaN,1.0]' in encode_json(request_to_json(request))
    back = request_from_json(over_the_wire(request_to_json(request))).data.docs.docs[0].embedding
    assert np.isnan(np.frombuffer(back.dense.buffer)[0])


def test_nan_in_parameters_is_refused_as_protobuf_json_refuses_it():
    request = jina_pb2.DataRequestProto()
    dict_to_struct({"p": math.nan}, request.parameters)
    with pytest.raises(ValueError, match="NaN"):
        request_to_json(request)


@pytest.mark.parametrize(
    ("body", "location"),
    [
        ([1, 2], "body"),
        ({"header": {"requestId": ["not", "a", "string"]}}, "body"),
        ({"data": [{"text": 5}]}, "data[0].text"),
        ({"data": {"docs": "x"}}, "data.docs"),
    ],
)
def test_a_response_that_is_not_jinas_names_where(body, location):
    with pytest.raises(BodyError) as info:
        response_from_json(body)
    assert info.value.location == location
    assert str(info.value) == f"{location}: {info.value.message}"


def test_a_failed_request_is_echoed_with_an_error_status():
    request = jina_pb2.DataRequestProto()
    request.header.request_id = "r"
    request.data.docs.docs.add(id="d", text="t")
    body = failed_request_json(request, "InternalNetworkError", "executor down")
    assert body["header"]["status"] == {
        "code": 1,
        "description": "executor down",
        "exception": {"name": "InternalNetworkError", "args": ["executor down"], "stacks": [], "executor": ""},
    }
    assert body["data"][0]["text"] == "t"


def test_statuses_read_as_numbers_or_names_and_anything_else_is_success():
    assert status_from_json({"code": "ERROR", "description": "x", "more": 1}).code == jina_pb2.StatusProto.ERROR
    assert status_from_json({"code": 1}).code == jina_pb2.StatusProto.ERROR
    assert status_from_json([]) == jina_pb2.StatusProto()
    with pytest.raises(BodyError, match="^body: "):
        status_from_json({"description": ["x"]})


# -- what a request body may hold: exactly what the bridge's OpenAPI document says -----------------

_BIG = "1" * 400  # an integer past a double's range


@pytest.mark.parametrize(
    "body",
    [
        None,
        {},
        {"data": None, "parameters": None, "execEndpoint": None, "targetExecutor": None},
        {"exec_endpoint": None, "target_executor": None, "header": None, "routes": None},
        {"data": {"docs": None}},
        {"data": [{"tensor": True, "embedding": [[1, 2], [3, 4]], "scores": {"s": 0.5}}]},
        {"data": [{"scores": {"s": {"value": 1, "unknown": None}}}]},
        {"targetExecutor": "exec.*", "target_executor": "other|exec"},
    ],
)
def test_null_is_no_field_and_the_documented_forms_are_read(body):
    request = request_from_json(body)
    assert request.header.exec_endpoint == "/"
    assert request.header.request_id


@pytest.mark.parametrize(
    ("raw", "location"),
    [
        ('{"execEndpoint": null, "exec_endpoint": {}}', "exec_endpoint"),
        ('{"exec_endpoint": []}', "exec_endpoint"),
        ('{"targetExecutor": "", "target_executor": "("}', "target_executor"),
        ('{"targetExecutor": "*"}', "targetExecutor"),
        ('{"execEndpoint": "\\ud800"}', "execEndpoint"),
        ('{"header": 5}', "header"),
        ('{"header": {"requestId": 5}}', "header.requestId"),
        ('{"routes": {}}', "routes"),
        ('{"parameters": {"p": 1e400}}', "parameters.p"),
        ('{"parameters": {"p": [NaN]}}', "parameters.p[0]"),
        ('{"parameters": {"p": ' + _BIG + "}}", "parameters.p"),
        ('{"data": [{"weight": 1e300}]}', "data[0].weight"),
        ('{"data": {"docs": [{"matches": [{"location": [1e39]}]}]}}', "data.docs[0].matches[0].location[0]"),
        ('{"data": [{"scores": {"s": {"value": -1e39}}}]}', "data[0].scores.s.value"),
        ('{"data": [{"tags": {"t": [1e400]}}]}', "data[0].tags.t[0]"),
        ('{"data": [{"granularity": 4294967296}]}', "data"),
        ('{"data": [{"location": [' + _BIG + "]}]}", "data"),
        ('{"data": [{"id": "\\ud800"}]}', "data"),
    ],
)
def test_what_protobuf_or_json_cannot_carry_is_a_422_naming_where(raw, location):
    """Each of these once reached protobuf or the response's JSON encoder and came back as a 500."""
    with pytest.raises(BodyError) as info:
        request_from_json(json.loads(raw))
    assert info.value.location == location


def test_the_route_endpoint_wins_but_the_bodys_is_still_checked():
    assert request_from_json({"execEndpoint": "/x"}, exec_endpoint="/index").header.exec_endpoint == "/index"
    with pytest.raises(BodyError, match="^execEndpoint: "):
        request_from_json({"execEndpoint": 3}, exec_endpoint="/index")
