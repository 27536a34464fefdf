"""An in-process `JinaRPC.Call` server whose answers the requests' endpoints choose (for stream tests).

`/echo` is answered after `parameters["delay"]` seconds, `/never` never; `/end` ends the stream
and `/abort` fails it with RESOURCE_EXHAUSTED, whatever still waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import grpc

from jina.proto import jina_pb2
from jina.wire import CALL, split_path

_ABORT = object()


async def _call(requests, context) -> AsyncIterator[jina_pb2.DataRequestProto]:
    answers: asyncio.Queue = asyncio.Queue()
    echoing: set[asyncio.Task] = set()

    async def echo(request: jina_pb2.DataRequestProto) -> None:
        await asyncio.sleep(request.parameters["delay"] if "delay" in request.parameters else 0)
        await answers.put(request)

    async def read() -> None:
        async for request in requests:
            endpoint = request.header.exec_endpoint
            if endpoint == "/end":
                await answers.put(None)
                return
            if endpoint == "/abort":
                await answers.put(_ABORT)
                return
            if endpoint == "/echo":
                echoing.add(asyncio.ensure_future(echo(request)))
        await asyncio.gather(*echoing)
        await answers.put(None)

    reader = asyncio.ensure_future(read())
    try:
        while True:
            answer = await answers.get()
            if answer is None:
                return
            if answer is _ABORT:
                await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "too much")
            yield answer
    finally:
        reader.cancel()
        for task in echoing:
            task.cancel()


@contextlib.asynccontextmanager
async def call_server() -> AsyncIterator[str]:
    """Serve on a free loopback port; yields its address."""
    server = grpc.aio.server()
    service, method = split_path(CALL)
    handler = grpc.stream_stream_rpc_method_handler(
        _call,
        request_deserializer=jina_pb2.DataRequestProto.FromString,
        response_serializer=jina_pb2.DataRequestProto.SerializeToString,
    )
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(service, {method: handler})])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


def request(request_id: str, endpoint: str = "/echo", delay: float = 0.0) -> jina_pb2.DataRequestProto:
    message = jina_pb2.DataRequestProto()
    message.header.request_id = request_id
    message.header.exec_endpoint = endpoint
    if delay:
        message.parameters.update({"delay": delay})
    return message
