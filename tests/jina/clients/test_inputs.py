from __future__ import annotations

import itertools

import pytest
from docarray import Document, DocumentArray

from jina.clients.inputs import build_requests
from jina.documents import docs_from_content
from jina.excepts import BadClient
from jina.wire import struct_to_dict


def texts(requests):
    return [docs_from_content(r.data).texts for r in requests]


def test_no_inputs_gives_one_empty_request():
    (request,) = build_requests(None, on="/x")
    assert request.header.exec_endpoint == "/x"
    assert request.header.request_id
    assert len(docs_from_content(request.data)) == 0
    assert request.data.WhichOneof("documents") == "docs"


def test_batches_by_request_size():
    docs = DocumentArray([Document(text=str(i)) for i in range(5)])
    assert texts(build_requests(docs, request_size=2)) == [["0", "1"], ["2", "3"], ["4"]]
    assert texts(build_requests(docs, request_size=5)) == [["0", "1", "2", "3", "4"]]


def test_accepts_document_generator_function_and_plain_values():
    assert texts(build_requests(Document(text="one"))) == [["one"]]
    assert texts(build_requests(lambda: (Document(text=t) for t in "ab"), request_size=1)) == [["a"], ["b"]]
    assert texts(build_requests(["s", {"text": "d"}])) == [["s", "d"]]


def test_endless_generator_is_read_lazily():
    requests = build_requests(lambda: (Document(text=str(i)) for i in itertools.count()), request_size=1)
    first = list(itertools.islice(requests, 3))
    assert texts(first) == [["0"], ["1"], ["2"]]


def test_parameters_and_target_executor_in_every_request():
    requests = list(
        build_requests([Document(), Document()], request_size=1, parameters={"k": "v"}, target_executor="enc.*")
    )
    assert all(struct_to_dict(r.parameters) == {"k": "v"} for r in requests)
    assert all(r.header.target_executor == "enc.*" for r in requests)
    assert len({r.header.request_id for r in requests}) == 2


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_bad_request_size(bad):
    with pytest.raises(BadClient):
        build_requests(None, request_size=bad)


def test_bad_inputs():
    with pytest.raises(BadClient):
        list(build_requests(42))
    with pytest.raises(BadClient):
        list(build_requests([object()]))
    with pytest.raises(BadClient):
        build_requests(None, parameters={"x": object()})
