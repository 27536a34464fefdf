"""Hypothesis strategies for hostile input: arbitrary bytes, and valid requests cut, flipped or filled oddly."""

from __future__ import annotations

from docarray import Document
from google.protobuf import json_format
from hypothesis import strategies as st

from jina.proto import jina_pb2


def valid_request(texts: tuple[str, ...] = ("a", "b"), endpoint: str = "/") -> jina_pb2.DataRequestProto:
    request = jina_pb2.DataRequestProto()
    request.header.request_id = "fuzz"
    request.header.exec_endpoint = endpoint
    for text in texts:
        request.data.docs.docs.append(Document(text=text).to_protobuf())
    return request


VALID = valid_request().SerializeToString()


def _mutate(data: bytes, flips: list[tuple[int, int]], cut: int) -> bytes:
    """`data` with some bytes replaced, cut to `cut` bytes."""
    mutable = bytearray(data)
    for index, value in flips:
        mutable[index % len(mutable)] = value
    return bytes(mutable[:cut])


def _odd_request(endpoint: str, target: str, request_id: str, parameters: dict, ids: list[str], docs_bytes: bytes):
    request = jina_pb2.DataRequestProto()
    request.header.exec_endpoint = endpoint
    request.header.target_executor = target
    request.header.request_id = request_id
    json_format.ParseDict(parameters, request.parameters)
    if docs_bytes:
        request.data.docs_bytes = docs_bytes
    else:
        for doc_id in ids:
            request.data.docs.docs.add(id=doc_id)
    return request.SerializeToString()


_json_leaf = st.none() | st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20)
_json = st.recursive(
    _json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)

#: bytes of any kind, valid requests damaged, and well-formed requests with unusual field values
garbage = st.one_of(
    st.binary(max_size=300),
    st.builds(
        _mutate,
        st.just(VALID),
        st.lists(st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)), max_size=6),
        st.integers(0, len(VALID)),
    ),
    st.builds(
        _odd_request,
        st.text(max_size=20) | st.sampled_from(["/", "/index", "/nope", "_jina_dry_run_"]),
        st.text(max_size=10) | st.sampled_from(["", "[", "(?P<x", "*", ".*"]),
        st.text(max_size=10),
        st.dictionaries(st.text(max_size=8), _json, max_size=3),
        st.lists(st.text(max_size=10), max_size=3),
        st.binary(max_size=40),
    ),
)
