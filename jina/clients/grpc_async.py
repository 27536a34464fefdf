"""The asyncio gRPC client: `Client(asyncio=True)`; `post()` is an async generator of results.

Like the synchronous client it keeps one channel and one long-lived `JinaRPC.Call` stream,
shared by every `post()` (also concurrent ones) and demultiplexed by request id. Both are made
in the running event loop on first use, and again if the client is used from another loop.
"""

from __future__ import annotations

import asyncio

import grpc
from google.protobuf import empty_pb2

from jina.clients.grpc import connection_error
from jina.clients.hosts import Address
from jina.clients.posting import AsyncPostingClient, SharedConnection
from jina.clients.transport import ClientTransport
from jina.proto import jina_pb2

_CALL = "/jina.JinaRPC/Call"
_DRY_RUN = "/jina.JinaGatewayDryRunRPC/dry_run"


class _AsyncCallStream(SharedConnection):
    def __init__(self, channel: grpc.aio.Channel, address: Address):
        super().__init__()
        self._address = address
        self._call = channel.stream_stream(
            _CALL,
            request_serializer=jina_pb2.DataRequestProto.SerializeToString,
            response_deserializer=jina_pb2.DataRequestProto.FromString,
        )()
        self._write_lock = asyncio.Lock()
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        error: BaseException
        try:
            async for response in self._call:
                self._deliver(response)
            error = ConnectionError(f"the gateway at {self._address.target} ended the stream")
        except grpc.aio.AioRpcError as err:
            error = connection_error(self._address, err)
        except asyncio.CancelledError:
            error = ConnectionError("the client was closed")
        self._break(error)

    async def send(self, request: jina_pb2.DataRequestProto, inbox: asyncio.Queue) -> None:
        self._expect(request, inbox)
        try:
            async with self._write_lock:
                await self._call.write(request)
        except (grpc.aio.AioRpcError, asyncio.InvalidStateError) as err:
            raise self.broken or connection_error(self._address, err) from None

    async def close(self) -> None:
        if self.broken is None:
            try:
                async with self._write_lock:
                    await self._call.done_writing()
            except (grpc.aio.AioRpcError, asyncio.InvalidStateError):
                pass
        self._call.cancel()
        self._reader.cancel()


class AsyncGRPCClient(AsyncPostingClient):
    """Asynchronous client for a Flow's gRPC gateway (what `Client(asyncio=True)` returns)."""

    def __init__(self, address: Address, *, prefetch: int | None = None, transport: ClientTransport | None = None):
        super().__init__(address, prefetch=prefetch, transport=transport)
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
                    self.address.target,
                    self.transport.grpc_credentials(),
                    options=self.transport.grpc_options(),
                    compression=self.transport.grpc_compression(),
                )
            else:
                self._channel = grpc.aio.insecure_channel(
                    self.address.target,
                    options=self.transport.grpc_options(),
                    compression=self.transport.grpc_compression(),
                )
        return self._channel

    async def _open(self) -> _AsyncCallStream:
        channel = self._connect()
        if self._stream is None or self._stream.broken is not None:
            self._stream = _AsyncCallStream(channel, self.address)
        return self._stream

    async def dry_run(self, timeout: float | None = 5.0) -> jina_pb2.StatusProto:
        call = self._connect().unary_unary(
            _DRY_RUN,
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=jina_pb2.StatusProto.FromString,
        )
        try:
            return await call(empty_pb2.Empty(), timeout=timeout)
        except grpc.aio.AioRpcError as err:
            raise connection_error(self.address, err) from None

    async def close(self) -> None:
        if self._stream is not None:
            await self._stream.close()
            self._stream = None
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
