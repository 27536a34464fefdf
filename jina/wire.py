"""Helpers on the Jina wire messages that need no documents: ids, parameters, statuses, routes."""

from __future__ import annotations

import traceback
import uuid
from typing import Any

from google.protobuf import struct_pb2

from jina.proto import jina_pb2

#: parameters key under which executors' returned dicts travel back, keyed by executor name
RESULTS_KEY = "__results__"


def new_request_id() -> str:
    return uuid.uuid4().hex


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


def set_error(
    status: jina_pb2.StatusProto,
    exc: BaseException,
    *,
    executor: str = "",
    with_stacks: bool = False,
) -> None:
    """Record an exception in a status: name, args, executor (stack frames only when asked)."""
    status.code = jina_pb2.StatusProto.ERROR
    status.description = repr(exc)
    status.exception.name = type(exc).__name__
    del status.exception.args[:]
    status.exception.args.extend(str(a) for a in exc.args)
    status.exception.executor = executor
    del status.exception.stacks[:]
    if with_stacks:
        status.exception.stacks.extend(traceback.format_exception(type(exc), exc, exc.__traceback__))


def describe_error(status: jina_pb2.StatusProto) -> str:
    """One readable sentence for an error status, e.g. for an exception message."""
    exc = status.exception
    if exc.name == "InternalNetworkError":
        return f"The gateway could not reach an executor: {', '.join(exc.args) or status.description}"
    where = f"Executor {exc.executor!r}" if exc.executor else "The Flow"
    if exc.name:
        detail = f"{exc.name}: {', '.join(exc.args)}" if exc.args else exc.name
        return f"{where} raised {detail}"
    return f"{where} failed: {status.description or 'unknown error'}"
