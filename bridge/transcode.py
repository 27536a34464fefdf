"""The generic google.api.http mapping: HTTP request → request message, response message → JSON.

Per google/api/http.proto: path variables bind fields by field path; `body: "*"` maps the whole
JSON body onto the request, `body: "field"` that field; every field not bound by path or body
may come from the query string (`?a.b=1&tags=x&tags=y`). JSON uses proto field names,
integers for enums, and prints fields left at their defaults (`null` for absent messages), as
Jina's `/dry_run` does.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message
from jina_mesh.bridge.errors import HTTPError

from jina.httpjson import DEFAULT_MAX_JSON_DEPTH, JsonError, loads

_INTEGER_TYPES = {
    FieldDescriptor.TYPE_INT32,
    FieldDescriptor.TYPE_INT64,
    FieldDescriptor.TYPE_UINT32,
    FieldDescriptor.TYPE_UINT64,
    FieldDescriptor.TYPE_SINT32,
    FieldDescriptor.TYPE_SINT64,
    FieldDescriptor.TYPE_FIXED32,
    FieldDescriptor.TYPE_FIXED64,
    FieldDescriptor.TYPE_SFIXED32,
    FieldDescriptor.TYPE_SFIXED64,
}
_FLOAT_TYPES = {FieldDescriptor.TYPE_FLOAT, FieldDescriptor.TYPE_DOUBLE}


def _field_at(descriptor: Descriptor, path: str) -> FieldDescriptor:
    field = None
    for part in path.split("."):
        if descriptor is None:
            raise HTTPError(400, f"{path!r} does not name a field of the request")
        field = descriptor.fields_by_name.get(part)
        if field is None:
            raise HTTPError(400, f"{path!r} does not name a field of the request")
        descriptor = field.message_type
    assert field is not None
    return field


def _scalar(field: FieldDescriptor, raw: str, where: str) -> Any:
    """A query/path string as the JSON value proto3 JSON parsing expects for this field."""
    if field.type == FieldDescriptor.TYPE_BOOL:
        if raw.lower() not in ("true", "false", "1", "0"):
            raise HTTPError(400, f"{where}: expected true or false, got {raw!r}")
        return raw.lower() in ("true", "1")
    if field.type in _INTEGER_TYPES:
        return raw  # proto3 JSON accepts integers as strings
    if field.type in _FLOAT_TYPES:
        try:
            return float(raw)
        except ValueError:
            raise HTTPError(400, f"{where}: expected a number, got {raw!r}") from None
    return raw


def _assign(target: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def build_message(
    message_cls: type[Message],
    *,
    body: str,
    raw_body: bytes,
    path_values: dict[str, str],
    query: list[tuple[str, str]],
    max_depth: int = DEFAULT_MAX_JSON_DEPTH,
) -> Message:
    descriptor = message_cls.DESCRIPTOR
    data: dict[str, Any] = {}
    if body:
        try:
            parsed = loads(raw_body, max_depth) if raw_body.strip() else {}
        except JsonError as exc:
            raise HTTPError(400, f"the body {exc}") from None
        if body == "*":
            if not isinstance(parsed, dict):
                raise HTTPError(422, "the body must be a JSON object")
            data = parsed
        else:
            _field_at(descriptor, body)
            _assign(data, body, parsed)
    if body != "*":
        grouped: dict[str, list[str]] = {}
        for key, value in query:
            if key not in path_values:
                grouped.setdefault(key, []).append(value)
        for key, values in grouped.items():
            field = _field_at(descriptor, key)
            if field.message_type is not None and not field.message_type.GetOptions().map_entry:
                raise HTTPError(400, f"query parameter {key!r} names a message; name one of its fields")
            converted = [_scalar(field, v, key) for v in values]
            if field.label == FieldDescriptor.LABEL_REPEATED:
                _assign(data, key, converted)
            elif len(converted) > 1:
                raise HTTPError(400, f"query parameter {key!r} given {len(converted)} times")
            else:
                _assign(data, key, converted[0])
    for key, value in path_values.items():
        _assign(data, key, _scalar(_field_at(descriptor, key), value, key))
    message = message_cls()
    try:
        json_format.ParseDict(data, message)
    except json_format.ParseError as exc:
        raise HTTPError(422, str(exc)) from None
    return message


def render_message(message: Message, response_body: str = "") -> Any:
    if response_body:
        for part in response_body.split("."):
            message = getattr(message, part)
    out = json_format.MessageToDict(
        message,
        preserving_proto_field_name=True,
        use_integers_for_enums=True,
        always_print_fields_with_no_presence=True,
    )
    if isinstance(out, dict) and isinstance(message, Message):
        for field in message.DESCRIPTOR.fields:
            if field.message_type is not None and field.label != FieldDescriptor.LABEL_REPEATED:
                out.setdefault(field.name, None)
    return out
