"""The asyncio gRPC client: `Client(asyncio=True)`; `post()` is an async generator of results.

Like the synchronous client it keeps one channel and one long-lived `JinaRPC.Call` stream,
shared by every `post()` (also concurrent ones) and demultiplexed by request id. Both are made
in the running event loop on first use, and again if the client is used from another loop.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import grpc
from google.protobuf import empty_pb2

from jina.clients.grpc import DEFAULT_WINDOW, connection_error
from jina.clients.hosts import Address
from jina.clients.inputs import InputType, build_requests
from jina.clients.results import Callback, ResultCollector
from jina.proto import jina_pb2
from jina.serve.options import channel_options

_CALL = "/jina.JinaRPC/Call"
_DRY_RUN = "/jina.JinaGatewayDryRunRPC/dry_run"


class _AsyncCallStream:
    def __init__(self, channel: grpc.aio.Channel, address: Address):
        self._address = address
        self._call = channel.stream_stream(
            _CALL,
            request_serializer=jina_pb2.DataRequestProto.SerializeToString,
            response_deserializer=jina_pb2.DataRequestProto.FromString,
        )()
        self._inboxes: dict[str, asyncio.Queue] = {}
        self._write_lock = asyncio.Lock()
        self.broken: BaseException | None = None
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        error: BaseException
        try:
            async for response in self._call:
                inbox = self._inboxes.get(response.header.request_id)
                if inbox is not None:
                    inbox.put_nowait(response)
            error = ConnectionError(f"the gateway at {self._address.target} ended the stream")
        except grpc.aio.AioRpcError as err:
            error = connection_error(self._address, err)
        except asyncio.CancelledError:
            error = ConnectionError("the client was closed")
        self.broken = error
        for inbox in self._inboxes.values():
            inbox.put_nowait(error)

    async def send(self, request: jina_pb2.DataRequestProto, inbox: asyncio.Queue) -> None:
        if self.broken is not None:
            raise self.broken
        self._inboxes[request.header.request_id] = inbox
        try:
            async with self._write_lock:
                await self._call.write(request)
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as err:
            raise self.broken or connection_error(self._address, err) from None

    def forget(self, request_ids) -> None:
        for request_id in request_ids:
            self._inboxes.pop(request_id, None)

    async def close(self) -> None:
        if self.broken is None:
            try:
                async with self._write_lock:
                    await self._call.done_writing()
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                pass
        self._call.cancel()
        self._reader.cancel()


class AsyncGRPCClient:
    """Asynchronous client for a Flow's gRPC gateway (what `Client(asyncio=True)` returns)."""

    def __init__(self, address: Address, *, prefetch: int | None = None):
        self.address = address
        self.prefetch = prefetch
        self._channel: grpc.aio.Channel | None = None
        self._stream: _AsyncCallStream | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _connect(self) -> grpc.aio.Channel:
        loop = asyncio.get_running_loop()
        if self._channel is None or self._loop is not loop:
            # a channel belongs to the loop it was made in; a new loop needs a new one
            self._loop = loop
            self._stream = None
            if self.address.tls:
                self._channel = grpc.aio.secure_channel(
                    self.address.target, grpc.ssl_channel_credentials(), options=channel_options()
                )
            else:
                self._channel = grpc.aio.insecure_channel(self.address.target, options=channel_options())
        return self._channel

    def _current_stream(self) -> _AsyncCallStream:
        channel = self._connect()
        if self._stream is None or self._stream.broken is not None:
            self._stream = _AsyncCallStream(channel, self.address)
        return self._stream

    async def post(
        self,
        on: str = "/",
        inputs: InputType = None,
        parameters: dict[str, Any] | None = None,
        request_size: int = 100,
        target_executor: str | None = None,
        on_done: Callback = None,
        on_error: Callback = None,
        on_always: Callback = None,
        return_responses: bool = False,
        results_in_order: bool = False,
        prefetch: int | None = None,
        continue_on_error: bool = False,
        **_ignored: Any,
    ):
        """Yield, per response, its DocumentArray (or the Response with `return_responses=True`)."""
        collector = ResultCollector(
            on_done=on_done,
            on_error=on_error,
            on_always=on_always,
            return_responses=True,
            continue_on_error=continue_on_error,
        )
        requests = build_requests(
            inputs, on=on, parameters=parameters, request_size=request_size, target_executor=target_executor
        )
        window = prefetch or self.prefetch or DEFAULT_WINDOW
        inbox: asyncio.Queue = asyncio.Queue()
        stream = self._current_stream()
        in_flight: set[str] = set()
        order: deque[str] = deque()
        held: dict[str, jina_pb2.DataRequestProto] = {}
        exhausted = False
        try:
            while True:
                while not exhausted and len(in_flight) < window:
                    request = next(requests, None)
                    if request is None:
                        exhausted = True
                        break
                    in_flight.add(request.header.request_id)
                    if results_in_order:
                        order.append(request.header.request_id)
                    try:
                        await stream.send(request, inbox)
                    except ConnectionError as err:
                        collector.fail(err)
                        return
                if not in_flight:
                    return
                item = await inbox.get()
                if isinstance(item, BaseException):
                    collector.fail(item)
                    return
                in_flight.discard(item.header.request_id)
                ready = [item]
                if results_in_order:
                    held[item.header.request_id] = item
                    ready = []
                    while order and order[0] in held:
                        ready.append(held.pop(order.popleft()))
                for proto in ready:
                    response = collector.add(proto)
                    yield response if return_responses else response.docs
        finally:
            if in_flight:
                stream.forget(in_flight)

    async def is_flow_ready(self, timeout: float | None = 5.0) -> bool:
        call = self._connect().unary_unary(
            _DRY_RUN,
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=jina_pb2.StatusProto.FromString,
        )
        try:
            status = await call(empty_pb2.Empty(), timeout=timeout)
        except grpc.aio.AioRpcError:
            return False
        return status.code == jina_pb2.StatusProto.SUCCESS

    async def close(self) -> None:
        if self._stream is not None:
            await self._stream.close()
            self._stream = None
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def __aenter__(self) -> AsyncGRPCClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
