"""How a join merges the documents of its parallel branches (on protobuf messages, no docarray).

The rule, per document id, given the documents as they were before the branches split (the
*base*) and each branch's result, taken in the order of the join's `needs`:

* every field a branch changed (compared with the base) is taken from that branch; when two
  branches changed the same field, the later one in `needs` wins;
* `tags`, `scores` and `evaluations` merge key by key the same way (a key a branch removed is
  removed);
* `chunks` and `matches` merge by document id with this same rule, recursively, so matches
  added by different branches all survive;
* a document one branch added is kept; a document is dropped only when every branch dropped it;
* order: the base's documents first, then new ones in branch order.

Jina's own reduce keeps only the first branch's fields and appends chunks/matches, so a tag set
by the second branch is lost; here every branch's change reaches the join.
"""

from __future__ import annotations

from collections.abc import Sequence

from jina.proto import docarray_pb2, jina_pb2

DocumentProto = docarray_pb2.DocumentProto

_KEYED = ("tags", "scores", "evaluations")
_NESTED = ("chunks", "matches")
_CONTENT = ("blob", "tensor", "text")


def _same_content(a: DocumentProto, b: DocumentProto) -> bool:
    which = a.WhichOneof("content")
    return which == b.WhichOneof("content") and (which is None or getattr(a, which) == getattr(b, which))


def _map(message, name: str):
    """The map behind a keyed field: a Struct's `fields`, or the map field itself."""
    value = getattr(message, name)
    return value.fields if name == "tags" else value


def _merge_keyed(target, base, version) -> None:
    """Key-wise merge of two maps of messages (base may be None)."""
    for key in list(base.keys()) if base is not None else []:
        if key not in version and key in target:
            del target[key]
    for key in version.keys():
        if base is None or key not in base or base[key] != version[key]:
            target[key].CopyFrom(version[key])


def merge_document(base: DocumentProto | None, versions: Sequence[DocumentProto]) -> DocumentProto:
    result = DocumentProto()
    result.CopyFrom(base if base is not None else versions[0])
    for version in versions:
        if base is None or not _same_content(base, version):
            which = version.WhichOneof("content")
            if which is None:
                result.ClearField("content")
            elif which == "tensor":
                result.tensor.CopyFrom(version.tensor)
            else:
                setattr(result, which, getattr(version, which))
        for field in DocumentProto.DESCRIPTOR.fields:
            name = field.name
            if name in _CONTENT:
                continue
            if name in _KEYED:
                _merge_keyed(_map(result, name), _map(base, name) if base is not None else None, _map(version, name))
            elif name in _NESTED:
                merged = merge_documents(
                    list(getattr(base, name)) if base is not None else [],
                    [list(getattr(version, name)) for version in versions],
                )
                del getattr(result, name)[:]
                getattr(result, name).extend(merged)
            elif base is None or getattr(base, name) != getattr(version, name):
                if field.label == field.LABEL_REPEATED:
                    del getattr(result, name)[:]
                    getattr(result, name).extend(getattr(version, name))
                elif field.message_type is not None:
                    getattr(result, name).CopyFrom(getattr(version, name))
                else:
                    setattr(result, name, getattr(version, name))
    return result


def merge_documents(base: Sequence[DocumentProto], branches: Sequence[Sequence[DocumentProto]]) -> list[DocumentProto]:
    base_by_id = {doc.id: doc for doc in base}
    versions: dict[str, list[DocumentProto]] = {}
    order: list[str] = []
    for doc in base:
        if any(doc.id == other.id for branch in branches for other in branch):
            order.append(doc.id)
    for branch in branches:
        for doc in branch:
            if doc.id not in versions:
                versions[doc.id] = []
                if doc.id not in order:
                    order.append(doc.id)
            versions[doc.id].append(doc)
    return [merge_document(base_by_id.get(doc_id), versions[doc_id]) for doc_id in order]


def _documents(content_bytes: bytes) -> list[DocumentProto]:
    content = jina_pb2.DataRequestProto.DataContentProto.FromString(content_bytes)
    if content.WhichOneof("documents") == "docs_bytes":
        return list(docarray_pb2.DocumentArrayProto.FromString(content.docs_bytes).docs)
    return list(content.docs.docs)


def merge_contents(base: bytes, branches: Sequence[bytes]) -> bytes:
    """Serialized DataContentProtos of the branches → the merged one (see the module's rule)."""
    merged = jina_pb2.DataRequestProto.DataContentProto()
    merged.docs.docs.extend(merge_documents(_documents(base), [_documents(b) for b in branches]))
    return merged.SerializeToString()
