"""Many requests over one persistent `JinaRPC.Call` stream, each answer handed back by its request id.

A unary call costs both sides a new HTTP/2 stream and its bookkeeping per request; messages on
an open stream cost about a third of that. So the gateway keeps one Call stream per executor
replica, and the asyncio client one per gateway, and sends its requests over it. The message
class is the caller's (the gateway's `PassthroughRequest`, the client's `DataRequestProto`): any
message with `header.request_id`, which the other side echoes in its answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Generic, TypeVar

import grpc
from google.protobuf.message import Message as ProtoMessage

from jina.wire import CALL

Message = TypeVar("Message", bound=ProtoMessage)

#: the details grpc.aio gives a call it failed itself because a message could not be written
#: (the connection broke under it): no status came from the other side
_LOCAL_WRITE_FAILURE = "Internal error from Core"


def failure_of(err: grpc.aio.AioRpcError, peer: str) -> tuple[grpc.StatusCode, str]:
    """(code, details) of a failed call to `peer`; a write that failed on a broken connection is UNAVAILABLE.

    grpc.aio reports such a write as INTERNAL, and so does the stream's reader afterwards; left
    so, requests in flight when an executor dies would not be retried on another replica.
    """
    code, details = err.code(), err.details() or ""
    if code == grpc.StatusCode.INTERNAL and details == _LOCAL_WRITE_FAILURE:
        return grpc.StatusCode.UNAVAILABLE, f"the connection to the {peer} broke"
    return code, details


class StreamBroken(Exception):
    """The shared stream ended, or one request got no answer in time: the gRPC status that stands for,
    and the error that ended the call or a write, when there was one."""

    def __init__(self, code: grpc.StatusCode, details: str, cause: BaseException | None = None):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.cause = cause


#: told once: the response to a request, or the StreamBroken that ended the stream before it came
Answer = Callable[[Message | StreamBroken], None]


class CallMultiplexer(Generic[Message]):
    """One `JinaRPC.Call` from `local` to `peer` (their names word the statuses of a broken stream)."""

    def __init__(self, channel: grpc.aio.Channel, message: type[Message], *, local: str, peer: str):
        self._call = channel.stream_stream(
            CALL, request_serializer=message.SerializeToString, response_deserializer=message.FromString
        )()
        self._local = local
        self._peer = peer
        self._logger = logging.getLogger(f"jina.{local}")
        self._waiting: dict[str, Answer[Message]] = {}
        self._write_lock = asyncio.Lock()
        self.broken: StreamBroken | None = None
        self._reader = asyncio.ensure_future(self._read())

    def busy_with(self, request_id: str) -> bool:
        """Whether a request with this id waits for its answer (a second one could get the first's)."""
        return request_id in self._waiting

    async def _read(self) -> None:
        try:
            async for response in self._call:
                request_id = response.header.request_id
                answer = self._waiting.pop(request_id, None)
                if answer is not None:
                    answer(response)
                else:
                    self._logger.debug("dropping a response nobody waits for: %s", request_id)
            broken = StreamBroken(grpc.StatusCode.UNAVAILABLE, f"the {self._peer} ended the stream")
        except grpc.aio.AioRpcError as err:
            broken = StreamBroken(*failure_of(err, self._peer), cause=err)
        except asyncio.CancelledError:
            broken = StreamBroken(grpc.StatusCode.CANCELLED, f"the {self._local} closed the stream")
        self.broken = broken
        waiting, self._waiting = self._waiting, {}
        for answer in waiting.values():
            answer(broken)

    def _drop(self, request_id: str, answer: Answer[Message]) -> None:
        if self._waiting.get(request_id) is answer:  # not a later request's with the same id
            del self._waiting[request_id]

    async def send(self, request: Message, answer: Answer[Message]) -> None:
        """Write `request`; `answer` is told its response, or the StreamBroken that ended the stream first.

        Raises StreamBroken when the stream is broken already or the write fails (`answer` may have
        been told the same meanwhile).
        """
        if self.broken is not None:
            raise self.broken
        request_id = request.header.request_id
        self._waiting[request_id] = answer
        try:
            async with self._write_lock:
                await self._call.write(request)
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as err:
            self._drop(request_id, answer)
            raise self.broken or StreamBroken(grpc.StatusCode.UNAVAILABLE, str(err), cause=err) from None

    def forget(self, request_id: str) -> None:
        """Nobody waits for this request's answer any more."""
        self._waiting.pop(request_id, None)

    async def call(self, request: Message, timeout: float | None) -> Message:
        """The response to `request`; StreamBroken when the stream breaks first or `timeout` seconds pass."""
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        # the caller may be gone (cancelled) when the stream breaks: its error is then seen by nobody
        future.add_done_callback(lambda done: done.cancelled() or done.exception())

        def answer(result: Message | StreamBroken) -> None:
            if future.done():  # the caller left, or gave up waiting
                return
            if isinstance(result, StreamBroken):
                future.set_exception(result)
            else:
                future.set_result(result)

        try:
            await self.send(request, answer)
        except StreamBroken:
            if future.done():
                future.exception()  # told already by the reader; mark it as seen
            else:
                future.cancel()
            raise
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            self._drop(request.header.request_id, answer)
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
