"""Documents on the wire: DataContentProto ↔ DocumentArray (the only module that needs docarray).

docarray 0.21 converts every field of every Document through generic, reflective code; for the
documents most requests carry (ids, texts, blobs, tags, a few scalars) that generic path is 3-4x
slower than the transport itself. `encode` / `decode` here handle those fields directly and
hand every other document (tensors, embeddings, chunks, matches, scores, uris, ...) to docarray
unchanged, so the result is always exactly what docarray would produce; tests compare both
paths on generated documents.
"""

from __future__ import annotations

from collections.abc import Iterable

from docarray import Document, DocumentArray
from docarray.document.data import DocumentData

from jina.proto import docarray_pb2, jina_pb2
from jina.wire import struct_to_dict

__all__ = [
    "Document",
    "DocumentArray",
    "decode",
    "docs_from_content",
    "encode",
    "set_docs",
]

# scalar fields and the value docarray treats as "empty" for each (empty fields are not sent)
_SCALARS = {
    "id": None,
    "parent_id": "",
    "granularity": 0,
    "adjacency": 0,
    "blob": b"",
    "text": "",
    "weight": 0.0,
    "offset": 0.0,
    "modality": "",
}
# fields whose presence sends a document down docarray's own path
_DOCARRAY_ONLY = ("tensor", "embedding", "chunks", "matches", "scores", "evaluations", "_metadata", "uri", "mime_type")
_ARRAYS = frozenset({"tensor", "embedding"})
# proto fields the fast decoder understands; any other one present → docarray's decoder
_FAST_PROTO_FIELDS = frozenset(_SCALARS) | {"tags", "location"}


def _encode_document(doc: Document) -> docarray_pb2.DocumentProto:
    data = doc._data
    for name in _DOCARRAY_ONLY:
        value = getattr(data, name)
        # arrays are "set" whenever not None; docarray ignores empty strings and containers
        if value is not None and (name in _ARRAYS or value):
            return doc.to_protobuf()
    fields = {}
    for name, empty in _SCALARS.items():
        value = getattr(data, name)
        if value is not None and value != empty:
            fields[name] = value
    if data.location:
        fields["location"] = data.location
    proto = docarray_pb2.DocumentProto(**fields)
    if data.tags:
        proto.tags.update(data.tags)
    return proto


def _decode_document(proto: docarray_pb2.DocumentProto) -> Document:
    fields = {}
    for descriptor, value in proto.ListFields():
        name = descriptor.name
        if name not in _FAST_PROTO_FIELDS:
            return Document.from_protobuf(proto)
        if name == "tags":
            fields[name] = struct_to_dict(value)
        elif name == "location":
            fields[name] = list(value)
        else:
            fields[name] = value
    # What Document(**fields) ends with for these fields, without its generic set-up.
    doc = Document.__new__(Document)
    object.__setattr__(doc, "_data", DocumentData(doc, **fields))
    return doc


def encode(docs: Iterable[Document]) -> docarray_pb2.DocumentArrayProto:
    return docarray_pb2.DocumentArrayProto(docs=[_encode_document(doc) for doc in docs])


def decode(proto: docarray_pb2.DocumentArrayProto) -> DocumentArray:
    return DocumentArray([_decode_document(doc) for doc in proto.docs])


def docs_from_content(content: jina_pb2.DataRequestProto.DataContentProto) -> DocumentArray:
    """Decode the documents of a request.

    `docs_bytes` must hold a serialized `docarray.DocumentArrayProto` (protobuf). Jina would
    unpickle that field; unpickling bytes from the network runs arbitrary code, so this project
    never does.
    """
    which = content.WhichOneof("documents")
    if which == "docs":
        return decode(content.docs)
    if which == "docs_bytes":
        proto = docarray_pb2.DocumentArrayProto()
        try:
            proto.ParseFromString(content.docs_bytes)
        except Exception as exc:  # protobuf raises its own DecodeError
            raise ValueError("docs_bytes must be a serialized docarray.DocumentArrayProto") from exc
        return decode(proto)
    return DocumentArray()


def set_docs(content: jina_pb2.DataRequestProto.DataContentProto, docs: Iterable[Document]) -> None:
    content.docs.CopyFrom(encode(docs))
