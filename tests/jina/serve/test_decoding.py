"""The tolerant request decoder (no sockets)."""

from __future__ import annotations

from jina.proto import jina_pb2
from jina.serve.decoding import Undecodable, tolerant


def test_valid_bytes_decode_and_garbage_becomes_undecodable():
    decode = tolerant(jina_pb2.DataRequestProto)
    request = jina_pb2.DataRequestProto()
    request.header.request_id = "r1"
    assert decode(request.SerializeToString()).header.request_id == "r1"
    bad = decode(b"\xff\xff\xff")
    assert isinstance(bad, Undecodable) and bad.size == 3
