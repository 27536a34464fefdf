"""The fast document codec gives exactly what docarray's own conversion gives."""

from __future__ import annotations

import numpy as np
from docarray import Document, DocumentArray
from hypothesis import given, settings
from hypothesis import strategies as st

from jina.documents import decode, docs_from_content, encode
from jina.proto import jina_pb2

json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(-(2**40), 2**40),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
floats32 = st.floats(allow_nan=False, allow_infinity=False, width=32)


@st.composite
def documents(draw, depth=0):
    fields = {}
    if draw(st.booleans()):
        fields["id"] = draw(st.text(min_size=1, max_size=10))
    content = draw(st.sampled_from(["none", "text", "blob", "tensor"]))
    if content == "text":
        fields["text"] = draw(st.text(max_size=20))
    elif content == "blob":
        fields["blob"] = draw(st.binary(max_size=20))
    elif content == "tensor":
        fields["tensor"] = np.arange(draw(st.integers(1, 4)), dtype="float32")
    optional = {
        "tags": st.dictionaries(st.text(max_size=5), json_value, max_size=4),
        "parent_id": st.text(max_size=5),
        "granularity": st.integers(0, 5),
        "adjacency": st.integers(0, 5),
        "weight": floats32,
        "offset": floats32,
        "modality": st.text(max_size=5),
        "location": st.lists(floats32, max_size=3),
        "uri": st.sampled_from(["a.png", "http://x/y.txt", "noext"]),
        "mime_type": st.sampled_from(["text/plain", "png", "weird"]),
    }
    for name, strategy in optional.items():
        if draw(st.integers(0, 3)) == 0:
            fields[name] = draw(strategy)
    if draw(st.integers(0, 5)) == 0:
        fields["embedding"] = np.ones(3)
    if depth < 1 and draw(st.integers(0, 5)) == 0:
        fields["chunks"] = draw(st.lists(documents(depth=depth + 1), max_size=2))
    if depth < 1 and draw(st.integers(0, 5)) == 0:
        fields["matches"] = draw(st.lists(documents(depth=depth + 1), max_size=2))
    doc = Document(**fields)
    if draw(st.integers(0, 6)) == 0:
        doc.scores["cosine"].value = draw(floats32)
    return doc


def same_document(a: Document, b: Document) -> bool:
    return a._data == b._data and a.tags == b.tags and vars(a).keys() == vars(b).keys() and type(a) is type(b)


@settings(max_examples=300, deadline=None)
@given(st.lists(documents(), max_size=5))
def test_encode_equals_docarrays_to_protobuf(docs):
    assert encode(docs) == DocumentArray(docs).to_protobuf()


@settings(max_examples=300, deadline=None)
@given(st.lists(documents(), max_size=5))
def test_decode_equals_docarrays_from_protobuf(docs):
    proto = DocumentArray(docs).to_protobuf()
    ours, theirs = decode(proto), DocumentArray.from_protobuf(proto)
    assert len(ours) == len(theirs)
    assert all(same_document(a, b) for a, b in zip(ours, theirs, strict=True))
    # and decoded documents behave like any other: they can be changed and sent again
    assert encode(ours) == theirs.to_protobuf()


def test_decoded_document_is_a_full_document():
    (doc,) = decode(encode([Document(text="hi", tags={"k": 1})]))
    doc.text = "changed"
    doc.tags["new"] = True
    doc.chunks.append(Document(text="chunk"))
    assert encode([doc]).docs[0].chunks[0].text == "chunk"
    assert doc.content_type == "text"


def test_empty_content_decodes_to_empty_array():
    assert len(docs_from_content(jina_pb2.DataRequestProto.DataContentProto())) == 0
