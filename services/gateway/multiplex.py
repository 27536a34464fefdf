"""Many requests over one persistent `JinaRPC.Call` stream to an executor, matched by request id.

A unary call costs both sides a new HTTP/2 stream and its bookkeeping per request; messages on
an open stream cost about a third of that. The gateway therefore keeps one Call stream per
executor replica and sends small requests over it. Requests too large to share a stream (a
size limit breach there would end the stream for every request on it) and requests whose id
is already in flight on the stream go as unary calls instead (see `ReplicaConnection.send`).
"""

from __future__ import annotations

import asyncio

import grpc
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest

_CALL = "/jina.JinaRPC/Call"
#: the details grpc.aio gives a call it failed itself because a message could not be written
#: (the connection broke under it): no status came from the executor
_LOCAL_WRITE_FAILURE = "Internal error from Core"


def failure_of(err: grpc.aio.AioRpcError) -> tuple[grpc.StatusCode, str]:
    """(code, details) of a failed call; a write that failed on a broken connection is UNAVAILABLE.

    grpc.aio reports such a write as INTERNAL, and so does the stream's reader afterwards; left
    so, requests in flight when an executor dies would not be retried on another replica.
    """
    code, details = err.code(), err.details() or ""
    if code == grpc.StatusCode.INTERNAL and details == _LOCAL_WRITE_FAILURE:
        return grpc.StatusCode.UNAVAILABLE, "the connection to the executor broke"
    return code, details


class StreamBroken(Exception):
    """The shared stream ended; carries the gRPC status it ended with."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class MultiplexedCall:
    def __init__(self, channel: grpc.aio.Channel):
        self._call = channel.stream_stream(
            _CALL,
            request_serializer=PassthroughRequest.SerializeToString,
            response_deserializer=PassthroughRequest.FromString,
        )()
        self._waiting: dict[str, asyncio.Future[PassthroughRequest]] = {}
        self._write_lock = asyncio.Lock()
        self.broken: StreamBroken | None = None
        self._reader = asyncio.ensure_future(self._read())

    def busy_with(self, request_id: str) -> bool:
        return request_id in self._waiting

    async def _read(self) -> None:
        try:
            async for response in self._call:
                future = self._waiting.pop(response.header.request_id, None)
                if future is not None and not future.done():
                    future.set_result(response)
            broken = StreamBroken(grpc.StatusCode.UNAVAILABLE, "the executor ended the stream")
        except grpc.aio.AioRpcError as err:
            broken = StreamBroken(*failure_of(err))
        except asyncio.CancelledError:
            broken = StreamBroken(grpc.StatusCode.CANCELLED, "the gateway closed the stream")
        self._fail_all(broken)

    def _fail_all(self, broken: StreamBroken) -> None:
        self.broken = broken
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(broken)

    async def send(self, request: PassthroughRequest, timeout: float | None) -> PassthroughRequest:
        if self.broken is not None:
            raise self.broken
        request_id = request.header.request_id
        future: asyncio.Future[PassthroughRequest] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        try:
            async with self._write_lock:
                await self._call.write(request)
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as err:
            self._waiting.pop(request_id, None)
            if future.done():
                future.exception()  # the reader already failed it; mark it as seen
            else:
                future.cancel()
            raise self.broken or StreamBroken(grpc.StatusCode.UNAVAILABLE, str(err)) from None
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            self._waiting.pop(request_id, None)
            raise StreamBroken(grpc.StatusCode.DEADLINE_EXCEEDED, "no answer in time") from None

    async def close(self) -> None:
        if self.broken is None:
            try:
                async with self._write_lock:
                    await self._call.done_writing()
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                pass
        self._call.cancel()
        self._reader.cancel()
        try:
            await self._reader
        except asyncio.CancelledError:
            pass
