from __future__ import annotations

import asyncio
import logging

import pytest
from docarray import Document, DocumentArray
from jina_mesh.services.executor.processor import RequestProcessor, matrix_and_map, parameters_for

from jina.documents import docs_from_content
from jina.executor import build_executor
from jina.proto import docarray_pb2, jina_pb2
from jina.wire import dict_to_struct, struct_to_dict
from tests import executors

LOG = logging.getLogger("test")


def make_request(texts=("a",), endpoint="/", parameters=None):
    request = jina_pb2.DataRequestProto()
    request.header.request_id = "r1"
    request.header.exec_endpoint = endpoint
    request.data.docs.CopyFrom(DocumentArray([Document(text=t) for t in texts]).to_protobuf())
    if parameters:
        dict_to_struct(parameters, request.parameters)
    return request


def process(cls, request, name="ex", **uses_with):
    processor = RequestProcessor(build_executor(cls, uses_with, metas={"name": name}), name, LOG)
    try:
        return asyncio.run(processor.process(request))
    finally:
        processor.close()


def test_sync_method_changes_docs_in_place_and_adds_route():
    response = process(executors.Appender, make_request(["a", "b"]), letter="!")
    assert docs_from_content(response.data).texts == ["a!", "b!"]
    assert [r.executor for r in response.routes] == ["ex"]
    assert response.header.status.code == jina_pb2.StatusProto.SUCCESS


def test_unbound_endpoint_passes_documents_through_undecoded():
    request = make_request(["a"], endpoint="/search")
    raw = request.data.SerializeToString()
    response = process(executors.IndexOnly, request)
    assert response.data.SerializeToString() == raw


def test_async_method_returning_dict_goes_to_results():
    response = process(executors.Results, make_request(["a", "b"], parameters={"echo": "hi"}), name="counter")
    assert struct_to_dict(response.parameters)["__results__"] == {"counter": {"count": 2.0, "echo": "hi"}}


def test_returned_document_array_replaces_docs():
    response = process(executors.Replacer, make_request(["a", "b", "c"]))
    assert docs_from_content(response.data).texts == ["replaced 3"]


def test_exception_becomes_error_status_without_stacks():
    response = process(executors.Failing, make_request(endpoint="/fail"), name="bad")
    status = response.header.status
    assert status.code == jina_pb2.StatusProto.ERROR
    assert status.exception.name == "ValueError"
    assert list(status.exception.args) == ["boom from executor", "42"]
    assert status.exception.executor == "bad"
    assert not status.exception.stacks


def test_wrong_return_type_is_a_clear_error():
    response = process(executors.BadReturn, make_request())
    assert response.header.status.exception.name == "BadReturnValue"
    assert "returned int" in response.header.status.description


def test_strict_signature_gets_only_what_it_declares():
    response = process(executors.StrictSignature, make_request(["a"]))
    assert docs_from_content(response.data).texts == ["a", "strict"]


def test_docs_bytes_are_protobuf_not_pickle():
    request = make_request([])
    request.data.docs_bytes = DocumentArray([Document(text="from bytes")]).to_protobuf().SerializeToString()
    response = process(executors.Appender, request, letter="?")
    assert docs_from_content(response.data).texts == ["from bytes?"]
    request = make_request([])
    request.data.docs_bytes = b"\x80\x04 not protobuf"
    response = process(executors.Appender, request)
    assert "docs_bytes must be a serialized" in response.header.status.description


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ({"a": 1}, {"a": 1}),
        ({"a": 1, "ex": {"a": 2, "b": 3}}, {"a": 2, "b": 3, "ex": {"a": 2, "b": 3}}),
        ({"other": {"a": 2}}, {"other": {"a": 2}}),
    ],
)
def test_parameters_addressed_to_an_executor(parameters, expected):
    assert parameters_for(parameters, "ex") == expected


def test_parameters_addressed_by_flow_name_then_metas_name():
    parameters = {"a": 0, "flow": {"a": 1, "b": 1}, "metas": {"a": 2}}
    assert parameters_for(parameters, "flow", "metas") == {**parameters, "a": 2, "b": 1}
    assert parameters_for(parameters, "flow", "flow") == {**parameters, "a": 1, "b": 1}


def test_results_are_keyed_by_runtime_args_name():
    executor = build_executor(executors.Results, metas={"name": "counter"}, runtime_args={"name": "counter/rep-1"})
    processor = RequestProcessor(executor, "counter", LOG)
    try:
        response = asyncio.run(processor.process(make_request(["a"])))
    finally:
        processor.close()
    assert struct_to_dict(response.parameters)["__results__"] == {"counter/rep-1": {"count": 1.0, "echo": None}}


def test_docs_matrix_is_none_when_every_branch_is_empty():
    empty = DocumentArray()
    assert matrix_and_map([empty, empty], ["b", "c"]) == (None, {"b": empty, "c": empty})
    full = DocumentArray([Document(text="x")])
    assert matrix_and_map([empty, full], ["b", "c"]) == ([empty, full], {"b": empty, "c": full})


def test_unbound_endpoint_of_a_join_passes_the_documents_as_the_mode_gives_them():
    def parts():
        first, second = make_request(["a"], endpoint="/search"), make_request(["b"], endpoint="/search")
        second.data.docs.docs.append(docarray_pb2.DocumentProto(id=docs_from_content(first.data)[0].id, text="dupe"))
        return [first, second]

    for join, texts in (("reduce", ["a", "b"]), ("no_reduce", ["a", "b", "dupe"]), ("join_parts", ["a"])):
        executor = build_executor(executors.IndexOnly)
        processor = RequestProcessor(executor, "ex", LOG, join=join)
        try:
            response = asyncio.run(processor.process_parts(parts()))
        finally:
            processor.close()
        assert docs_from_content(response.data).texts == texts, join
        assert [r.executor for r in response.routes] == ["ex"]


def test_merge_parts_keeps_each_document_once():
    first, second = make_request(["a"]), make_request(["b"])
    shared = docs_from_content(first.data)[0]
    second.data.docs.docs.append(docarray_pb2.DocumentProto(id=shared.id, text="dupe"))
    merged = RequestProcessor.merge_parts([first, second])
    assert docs_from_content(merged.data).texts == ["a", "b"]
