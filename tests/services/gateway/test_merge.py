"""The join rule on documents (services/gateway/merge.py), checked with docarray's own Documents."""

from __future__ import annotations

from docarray import Document, DocumentArray
from jina_mesh.services.gateway.merge import merge_contents, merge_documents

from jina.documents import decode
from jina.proto import jina_pb2


def protos(*docs: Document):
    return list(DocumentArray(list(docs)).to_protobuf().docs)


def test_each_branch_change_survives():
    base = Document(id="d", text="x", tags={"keep": 1, "gone": 2})
    b = Document(id="d", text="xB", tags={"keep": 1, "gone": 2, "b": True})
    c = Document(id="d", text="x", tags={"keep": 1, "c": True}, weight=0.5)
    (merged,) = merge_documents(protos(base), [protos(b), protos(c)])
    (doc,) = decode_list([merged])
    assert doc.text == "xB"  # only B changed the text
    assert doc.tags == {"keep": 1.0, "b": True, "c": True}  # C removed `gone`, both added theirs
    assert doc.weight == 0.5


def test_conflicts_go_to_the_later_branch_and_matches_accumulate():
    base = Document(id="d", text="x")
    b = Document(id="d", text="from b", matches=[Document(id="m1", text="match b")])
    c = Document(id="d", text="from c", matches=[Document(id="m2", text="match c")])
    (merged,) = merge_documents(protos(base), [protos(b), protos(c)])
    (doc,) = decode_list([merged])
    assert doc.text == "from c"
    assert [m.text for m in doc.matches] == ["match b", "match c"]


def test_new_and_dropped_documents():
    one, two = Document(id="1", text="a"), Document(id="2", text="b")
    b = [Document(id="1", text="a"), Document(id="new-b", text="nb")]
    c = [Document(id="1", text="a")]
    merged = merge_documents(protos(one, two), [protos(*b), protos(*c)])
    assert [d.id for d in merged] == ["1", "new-b"]  # "2" was dropped by every branch


def test_merge_contents_on_wire_bytes():
    base = jina_pb2.DataRequestProto.DataContentProto()
    base.docs.docs.add(id="d", text="x")
    b = jina_pb2.DataRequestProto.DataContentProto()
    b.docs.docs.add(id="d", text="x").tags.update({"b": 1})
    c = jina_pb2.DataRequestProto.DataContentProto()
    c.docs_bytes = DocumentArray([Document(id="d", text="x", tags={"c": 2})]).to_protobuf().SerializeToString()
    merged = jina_pb2.DataRequestProto.DataContentProto.FromString(
        merge_contents(base.SerializeToString(), [b.SerializeToString(), c.SerializeToString()])
    )
    (doc,) = decode(merged.docs)
    assert doc.tags == {"b": 1.0, "c": 2.0}


def decode_list(docs):
    from jina.proto import docarray_pb2

    return decode(docarray_pb2.DocumentArrayProto(docs=docs))
