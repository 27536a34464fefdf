"""The asyncio gRPC client: `Client(asyncio=True)`; `post()` is an async generator of results.

Like the synchronous client it keeps one channel and one long-lived `JinaRPC.Call` stream,
shared by every `post()` (also concurrent ones) and demultiplexed by request id (by
`jina.serve.multiplex`, as the gateway's streams to its executors are). Both are made in the
running event loop on first use, and again if the client is used from another loop.
"""

from __future__ import annotations

import asyncio

import grpc
from google.protobuf import empty_pb2

from jina.clients.grpc import connection_error
from jina.clients.hosts import Address
from jina.clients.posting import AsyncPostingClient
from jina.clients.transport import ClientTransport
from jina.proto import jina_pb2
from jina.serve.multiplex import CallMultiplexer, StreamBroken
from jina.wire import DRY_RUN


class _AsyncCallStream:
    """The client's end of the shared stream: each answer goes to the inbox of the post() that sent the request."""

    def __init__(self, channel: grpc.aio.Channel, address: Address):
        self._address = address
        self._call = CallMultiplexer(
            channel, jina_pb2.DataRequestProto, local="client", peer=f"gateway at {address.target}"
        )

    @property
    def broken(self) -> ConnectionError | None:
        broken = self._call.broken
        return None if broken is None else self._error(broken)

    def _error(self, broken: StreamBroken) -> ConnectionError:
        """What a post() raises for a broken stream: the gRPC error as the synchronous client words it."""
        if broken.cause is not None:
            return connection_error(self._address, broken.cause)
        if broken.code == grpc.StatusCode.CANCELLED:
            return ConnectionError("the client was closed")
        return ConnectionError(broken.details)  # the gateway ended the stream

    async def send(self, request: jina_pb2.DataRequestProto, inbox: asyncio.Queue) -> None:
        request_id = request.header.request_id

        def answer(result: jina_pb2.DataRequestProto | StreamBroken) -> None:
            inbox.put_nowait(self._error(result) if isinstance(result, StreamBroken) else (request_id, result))

        try:
            await self._call.send(request, answer)
        except StreamBroken as broken:
            raise self._error(broken) from None

    def forget(self, request_ids: list[str]) -> None:
        for request_id in request_ids:
            self._call.forget(request_id)

    async def close(self) -> None:
        await self._call.close()


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
            DRY_RUN,
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
