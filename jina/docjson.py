"""Documents as JSON, the way Jina's HTTP and WebSocket APIs show them, without docarray.

Jina renders a document as docarray's pydantic model: every field present, `null` when empty,
`blob` in base64, `tensor`/`embedding` as nested lists, scores as `{value, op_name,
description, ref_id}`. This module maps that JSON straight to and from
`docarray.DocumentProto`, so the HTTP bridge needs neither docarray nor pydantic, and a real
Jina client reads what it writes. Malformed input raises `DocumentJsonError` naming where.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
from typing import Any

from jina.proto import docarray_pb2
from jina.wire import dict_to_struct, struct_to_dict

#: the keys of a document, in the order Jina writes them
FIELDS = (
    "id",
    "parent_id",
    "granularity",
    "adjacency",
    "blob",
    "tensor",
    "mime_type",
    "text",
    "weight",
    "uri",
    "tags",
    "offset",
    "location",
    "embedding",
    "modality",
    "evaluations",
    "scores",
    "chunks",
    "matches",
)
_STRINGS = ("id", "parent_id", "mime_type", "text", "uri", "modality")
_INTEGERS = ("granularity", "adjacency")
_FLOATS = ("weight", "offset")
_SCORE_FIELDS = ("value", "op_name", "description", "ref_id")


class DocumentJsonError(ValueError):
    """A document in a request is not what Jina's JSON allows; `location` says where."""

    def __init__(self, location: str, message: str):
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


# -- proto → JSON ----------------------------------------------------------------------------


def document_to_json(doc: docarray_pb2.DocumentProto) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(FIELDS)
    for name in _STRINGS + _INTEGERS + _FLOATS:
        value = getattr(doc, name)
        if value:
            out[name] = value
    if doc.HasField("blob"):
        out["blob"] = base64.b64encode(doc.blob).decode("ascii")
    for name in ("tensor", "embedding"):
        if doc.HasField(name):
            out[name] = _ndarray_to_list(getattr(doc, name))
    if doc.tags:
        out["tags"] = struct_to_dict(doc.tags)
    if doc.location:
        out["location"] = list(doc.location)
    for name in ("scores", "evaluations"):
        scores = getattr(doc, name)
        if scores:
            out[name] = {key: _score_to_json(score) for key, score in scores.items()}
    for name in ("chunks", "matches"):
        children = getattr(doc, name)
        if children:
            out[name] = [document_to_json(child) for child in children]
    return out


def documents_to_json(docs: docarray_pb2.DocumentArrayProto) -> list[dict[str, Any]]:
    return [document_to_json(doc) for doc in docs.docs]


def _score_to_json(score: docarray_pb2.NamedScoreProto) -> dict[str, Any]:
    return {name: (getattr(score, name) or None) for name in _SCORE_FIELDS}


def _ndarray_to_list(array: docarray_pb2.NdArrayProto) -> Any:
    import numpy as np

    which = array.WhichOneof("content")
    if which == "dense":
        dense = array.dense
        values = np.frombuffer(dense.buffer, dtype=dense.dtype or "float64")
        return values.reshape(tuple(dense.shape)).tolist()
    if which == "sparse":
        sparse = array.sparse
        shape = tuple(sparse.shape)
        indices = np.frombuffer(sparse.indices.buffer, dtype=sparse.indices.dtype).reshape(tuple(sparse.indices.shape))
        values = np.frombuffer(sparse.values.buffer, dtype=sparse.values.dtype)
        full = np.zeros(shape, dtype=values.dtype)
        # coordinates are stored one column per dimension or one row per dimension
        coords = indices if indices.shape[0] == len(shape) else indices.T
        full[tuple(coords)] = values
        return full.tolist()
    return None


# -- JSON → proto ----------------------------------------------------------------------------


def documents_from_json(items: Any, location: str = "data") -> docarray_pb2.DocumentArrayProto:
    """A list of documents (or Jina's older `{"docs": [...]}` form) → DocumentArrayProto."""
    if isinstance(items, dict) and set(items) == {"docs"}:
        items, location = items["docs"], f"{location}.docs"
    if items is None:
        return docarray_pb2.DocumentArrayProto()
    if not isinstance(items, list):
        raise DocumentJsonError(location, "expected a list of documents")
    out = docarray_pb2.DocumentArrayProto()
    for index, item in enumerate(items):
        out.docs.append(document_from_json(item, f"{location}[{index}]"))
    return out


def document_from_json(item: Any, location: str = "document") -> docarray_pb2.DocumentProto:
    if isinstance(item, str):
        item = {"text": item}
    if not isinstance(item, dict):
        raise DocumentJsonError(location, "expected a document (a JSON object)")
    doc = docarray_pb2.DocumentProto()
    for key, value in item.items():
        if value is None:
            continue
        where = f"{location}.{key}"
        if key in _STRINGS:
            setattr(doc, key, _expect(value, str, where, "a string"))
        elif key in _INTEGERS:
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise DocumentJsonError(where, "expected a non-negative integer")
            setattr(doc, key, value)
        elif key in _FLOATS:
            setattr(doc, key, _number(value, where))
        elif key == "blob":
            doc.blob = _base64(value, where)
        elif key in ("tensor", "embedding"):
            getattr(doc, key).CopyFrom(_list_to_ndarray(value, where))
        elif key in ("tags", "_metadata"):
            _expect(value, dict, where, "an object")
            try:
                dict_to_struct(value, getattr(doc, key))
            except ValueError as exc:
                raise DocumentJsonError(where, str(exc)) from None
        elif key == "location":
            _expect(value, list, where, "a list of numbers")
            doc.location.extend(_number(v, f"{where}[{i}]") for i, v in enumerate(value))
        elif key in ("scores", "evaluations"):
            _expect(value, dict, where, "an object of named scores")
            for name, score in value.items():
                _score_from_json(score, getattr(doc, key)[name], f"{where}.{name}")
        elif key in ("chunks", "matches"):
            _expect(value, list, where, "a list of documents")
            for index, child in enumerate(value):
                getattr(doc, key).append(document_from_json(child, f"{where}[{index}]"))
        # other keys (e.g. docarray's `content`) are ignored, as Jina's model ignores them
    if not doc.id:
        doc.id = os.urandom(16).hex()  # what docarray gives a document created without an id
    return doc


def _score_from_json(score: Any, target: docarray_pb2.NamedScoreProto, where: str) -> None:
    if isinstance(score, (int, float)) and not isinstance(score, bool):
        score = {"value": score}
    _expect(score, dict, where, "a named score {value, op_name, description, ref_id}")
    for name, value in score.items():
        if value is None:
            continue
        if name == "value":
            target.value = _number(value, f"{where}.value")
        elif name in _SCORE_FIELDS:
            setattr(target, name, _expect(value, str, f"{where}.{name}", "a string"))
        else:
            raise DocumentJsonError(f"{where}.{name}", "unknown field of a named score")


def _list_to_ndarray(value: Any, where: str) -> docarray_pb2.NdArrayProto:
    """Nested lists of numbers → a dense numpy-typed array (as docarray's `np.array(value)`)."""
    import numpy as np

    try:
        array = np.array(value)
    except ValueError:
        raise DocumentJsonError(where, "expected a (nested) list of numbers with a regular shape") from None
    if array.dtype.kind not in "biuf":
        raise DocumentJsonError(where, "expected a (nested) list of numbers with a regular shape")
    if array.dtype.kind == "b":
        array = array.astype("int64")
    out = docarray_pb2.NdArrayProto(cls_name="numpy")
    out.dense.buffer = array.tobytes()
    out.dense.shape.extend(array.shape)
    out.dense.dtype = array.dtype.str
    return out


def _expect(value: Any, kind: type, where: str, what: str) -> Any:
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise DocumentJsonError(where, f"expected {what}, got {_json_type(value)}")
    return value


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise DocumentJsonError(where, f"expected a number, got {_json_type(value)}")
    return float(value)


def _base64(value: Any, where: str) -> bytes:
    _expect(value, str, where, "a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DocumentJsonError(where, "expected a base64 string") from None


def _json_type(value: Any) -> str:
    return {
        type(None): "null",
        bool: "a boolean",
        str: "a string",
        int: "a number",
        float: "a number",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


__all__ = [
    "DocumentJsonError",
    "FIELDS",
    "document_from_json",
    "document_to_json",
    "documents_from_json",
    "documents_to_json",
]
