"""A request's parameters: a `google.protobuf.Struct` on the wire, a JSON-like dict in Python."""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2

#: parameters key under which executors' returned dicts travel back, keyed by executor name
RESULTS_KEY = "__results__"


def struct_to_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    return {key: _plain(value) for key, value in struct.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, struct_pb2.Struct):
        return struct_to_dict(value)
    if isinstance(value, struct_pb2.ListValue):
        return [_plain(v) for v in value]
    return value


def dict_to_struct(data: dict[str, Any], target: struct_pb2.Struct | None = None) -> struct_pb2.Struct:
    """Fill (or create) a Struct from a JSON-like dict; anything else is a ValueError naming the key."""
    struct = struct_pb2.Struct() if target is None else target
    try:
        struct.update(data)
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError(f"parameters must be JSON-like (str, number, bool, None, list, dict): {exc}") from exc
    return struct
