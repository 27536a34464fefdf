"""Documents on the wire: DataContentProto ↔ DocumentArray (the only module that needs docarray)."""

from __future__ import annotations

from collections.abc import Iterable

from docarray import Document, DocumentArray

from jina.proto import docarray_pb2, jina_pb2

__all__ = ["Document", "DocumentArray", "docs_from_content", "set_docs", "to_document_array"]


def docs_from_content(content: jina_pb2.DataRequestProto.DataContentProto) -> DocumentArray:
    """Decode the documents of a request.

    `docs_bytes` must hold a serialized `docarray.DocumentArrayProto` (protobuf). Jina would
    unpickle that field; unpickling bytes from the network runs arbitrary code, so this project
    never does.
    """
    which = content.WhichOneof("documents")
    if which == "docs":
        return DocumentArray.from_protobuf(content.docs)
    if which == "docs_bytes":
        proto = docarray_pb2.DocumentArrayProto()
        try:
            proto.ParseFromString(content.docs_bytes)
        except Exception as exc:  # protobuf raises its own DecodeError
            raise ValueError("docs_bytes must be a serialized docarray.DocumentArrayProto") from exc
        return DocumentArray.from_protobuf(proto)
    return DocumentArray()


def set_docs(content: jina_pb2.DataRequestProto.DataContentProto, docs: DocumentArray) -> None:
    content.docs.CopyFrom(docs.to_protobuf())


def to_document_array(value: object) -> DocumentArray:
    """Accept what an Executor or a caller may hand over: a DocumentArray, a Document, or Documents."""
    if isinstance(value, DocumentArray):
        return value
    if isinstance(value, Document):
        return DocumentArray([value])
    if isinstance(value, Iterable) and not isinstance(value, (str, bytes, dict)):
        items = list(value)
        if all(isinstance(d, Document) for d in items):
            return DocumentArray(items)
    raise TypeError(f"expected a DocumentArray, a Document or Documents, got {type(value).__name__}")
