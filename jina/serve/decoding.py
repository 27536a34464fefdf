"""Request decoding for servers: bytes that are not the expected message are a client's mistake.

grpcio answers a request deserializer that raises with UNKNOWN and a text naming the internal
message type. Decoded through `tolerant(Message)`, such bytes become an `Undecodable` instead,
which the handler answers with INVALID_ARGUMENT (`reject`) in words a client can act on.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import grpc
from google.protobuf.message import DecodeError

from jina.wire import split_path

#: what a client is told (no internal type names)
INVALID_REQUEST = "the request is not a valid Jina DataRequestProto (its bytes could not be decoded)"


class Undecodable:
    """Bytes that did not decode; `size` for the log."""

    __slots__ = ("size",)

    def __init__(self, size: int):
        self.size = size


def tolerant(message_class: Any) -> Callable[[bytes], Any]:
    """A request deserializer that returns an `Undecodable` rather than raising."""

    def decode(data: bytes) -> Any:
        try:
            return message_class.FromString(data)
        except (DecodeError, ValueError):
            return Undecodable(len(data))

    return decode


def tolerant_handler(path: str, behaviour: Callable, request_class: Any, response_class: Any) -> Any:
    """A grpc generic handler for one method path whose requests decode through `tolerant`:
    a stream when `behaviour` is an async generator function (Call), else unary-unary."""
    options = {"request_deserializer": tolerant(request_class), "response_serializer": response_class.SerializeToString}
    if inspect.isasyncgenfunction(behaviour):
        handler = grpc.stream_stream_rpc_method_handler(behaviour, **options)
    else:
        handler = grpc.unary_unary_rpc_method_handler(behaviour, **options)
    service, method = split_path(path)
    return grpc.method_handlers_generic_handler(service, {method: handler})


async def reject(context: grpc.aio.ServicerContext) -> None:
    """End the call with INVALID_ARGUMENT (raises, as `context.abort` does)."""
    await context.abort(grpc.StatusCode.INVALID_ARGUMENT, INVALID_REQUEST)


class UndecodableRequest(Exception):
    """A stream carried an undecodable request: raised by `checked_stream`, answered by `rejecting`."""


async def checked_stream(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """The requests of a stream, until the first undecodable one (UndecodableRequest).

    It raises rather than aborting the call itself: it runs in the stream's reader task, and an
    abort there races the handler writing the answers of the requests before it (seen as calls
    that hang or end INTERNAL); `rejecting` aborts from the handler, once those answers are out.
    """
    async for request in requests:
        if isinstance(request, Undecodable):
            raise UndecodableRequest(f"{request.size} bytes")
        yield request


async def rejecting(responses: AsyncIterator[Any], context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
    """The responses of a stream served from `checked_stream`; an undecodable request then ends the
    call with INVALID_ARGUMENT."""
    try:
        async for response in responses:
            yield response
    except UndecodableRequest:
        await reject(context)


__all__ = [
    "INVALID_REQUEST",
    "Undecodable",
    "UndecodableRequest",
    "checked_stream",
    "reject",
    "rejecting",
    "tolerant",
    "tolerant_handler",
]
