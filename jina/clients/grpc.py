"""The gRPC clients: one persistent channel and one long-lived `JinaRPC.Call` stream per Client.

Every `post()` sends its requests over the same stream and picks its responses out by request
id, so a sequence of small `post()` calls pays neither a connection nor a stream set-up each
time (Jina opens a new channel for every `post()`). Several threads (`GRPCClient`) or tasks
(`AsyncGRPCClient`, whose `post()` is an async generator) may post at once. The asyncio client's
channel and stream are made in the running event loop on first use, and again if the client is
used from another loop.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import weakref
from collections.abc import Iterator
from types import ModuleType

import grpc
from google.protobuf import empty_pb2

from jina.clients.hosts import Address
from jina.clients.posting import AsyncPostingClient, PostingClient, SharedConnection
from jina.clients.transport import CLIENT_CERT_HINT, ClientTransport
from jina.proto import jina_pb2
from jina.serve.access_grpc import SyncTokenSender, async_token_senders
from jina.serve.multiplex import CallMultiplexer, StreamBroken
from jina.wire import CALL, DRY_RUN

# what gRPC's TLS failures look like → what to do about them
_TLS_HINTS = (
    ("CERTIFICATE_VERIFY_FAILED", "the server's certificate is not trusted: pass Client(ca_certs='ca.pem')"),
    ("WRONG_VERSION_NUMBER", "the server does not speak TLS: drop tls=True / the grpcs:// scheme"),
    ("Ssl handshake failed", "the TLS handshake failed"),
    ("access token", "pass Client(access_token=...)"),
)


def connection_error(address: Address, err: BaseException) -> ConnectionError:
    if isinstance(err, grpc.RpcError):
        code = err.code()  # type: ignore[attr-defined]
        details = err.details() or ""  # type: ignore[attr-defined]
        hints = [hint for marker, hint in _TLS_HINTS if marker in details][:1]
        if not hints and not address.tls and code == grpc.StatusCode.UNAVAILABLE:
            hints = ["if the gateway serves TLS, use Client(tls=True) or host='grpcs://...'"]
        if not hints and address.tls and code == grpc.StatusCode.UNAVAILABLE and "Socket closed" in details:
            hints = [CLIENT_CERT_HINT]
        suffix = f" ({hints[0]})" if hints else ""
        return ConnectionError(f"gRPC call to {address.target} failed: {code.name}: {details}{suffix}")
    return ConnectionError(f"gRPC stream to {address.target} failed: {err}")


def _channel(kind: ModuleType, address: Address, transport: ClientTransport):
    """A channel from `grpc` or `grpc.aio` (both take the same arguments), sending the access token
    with every call when there is one."""
    options, compression = transport.grpc_options(), transport.grpc_compression()
    extra = {"interceptors": async_token_senders(transport.access_token)} if kind is grpc.aio else {}
    if address.tls:
        credentials = transport.grpc_credentials()
        channel = kind.secure_channel(address.target, credentials, options=options, compression=compression, **extra)
    else:
        channel = kind.insecure_channel(address.target, options=options, compression=compression, **extra)
    if kind is grpc and transport.access_token:
        return grpc.intercept_channel(channel, SyncTokenSender(transport.access_token))
    return channel


def _dry_run_call(channel: grpc.Channel | grpc.aio.Channel):
    return channel.unary_unary(
        DRY_RUN,
        request_serializer=empty_pb2.Empty.SerializeToString,
        response_deserializer=jina_pb2.StatusProto.FromString,
    )


# -- synchronous -----------------------------------------------------------------------------


class _CallStream(SharedConnection):
    """One `JinaRPC.Call`: requests queued from any thread, responses routed by request id."""

    def __init__(self, channel: grpc.Channel, address: Address):
        super().__init__()
        self._address = address
        self._outbox: queue.SimpleQueue[jina_pb2.DataRequestProto | None] = queue.SimpleQueue()
        call = channel.stream_stream(
            CALL,
            request_serializer=jina_pb2.DataRequestProto.SerializeToString,
            response_deserializer=jina_pb2.DataRequestProto.FromString,
        )
        self._responses = call(self._requests())
        self._reader = threading.Thread(target=self._read, name="jina-client-reader", daemon=True)
        self._reader.start()

    def _requests(self) -> Iterator[jina_pb2.DataRequestProto]:
        while True:
            request = self._outbox.get()
            if request is None:
                return
            yield request

    def _read(self) -> None:
        error: BaseException
        try:
            for response in self._responses:
                self._deliver(response)
            error = ConnectionError(f"the gateway at {self._address.target} ended the stream")
        except grpc.RpcError as err:
            error = connection_error(self._address, err)
        self._break(error)

    def send(self, request: jina_pb2.DataRequestProto, inbox: queue.SimpleQueue) -> None:
        self._expect(request, inbox)
        self._outbox.put(request)

    def close(self) -> None:
        self._outbox.put(None)
        self._reader.join(timeout=2.0)
        if self._reader.is_alive():
            self._responses.cancel()


def _release(channel: grpc.Channel, streams: list[_CallStream]) -> None:
    for stream in streams:
        stream.close()
    channel.close()


class GRPCClient(PostingClient):
    """Synchronous client for a Flow's gRPC gateway (what `Client(protocol='grpc')` returns)."""

    def __init__(self, address: Address, *, prefetch: int | None = None, transport: ClientTransport | None = None):
        super().__init__(address, prefetch=prefetch, transport=transport)
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        self._streams: list[_CallStream] = []  # the current stream is the last one
        self._finalizer: weakref.finalize | None = None

    def _connect(self) -> grpc.Channel:
        if self._channel is None:
            self._channel = _channel(grpc, self.address, self.transport)
            self._finalizer = weakref.finalize(self, _release, self._channel, self._streams)
        return self._channel

    def _open(self) -> _CallStream:
        with self._lock:
            if self._streams and self._streams[-1].broken is not None:
                # a broken stream takes its channel along: grpcio's channel that failed to connect
                # may never connect again, even once the gateway is back (seen with a restarted one)
                self.close()
            channel = self._connect()
            if not self._streams:
                self._streams.append(_CallStream(channel, self.address))
            return self._streams[-1]

    def _dry_run(self, timeout: float | None) -> jina_pb2.StatusProto:
        try:
            return _dry_run_call(self._connect())(empty_pb2.Empty(), timeout=timeout)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.UNAVAILABLE:
                self.close()  # the next call connects afresh (see _open)
            raise connection_error(self.address, err) from None

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._channel = None
        self._streams = []


# -- asyncio ---------------------------------------------------------------------------------


class _AsyncCallStream:
    """The asyncio client's end of the shared stream (demultiplexed by `jina.serve.multiplex`, as the
    gateway's streams to its executors are): each answer goes to the inbox of the post() that sent it."""

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
            self._channel = _channel(grpc.aio, self.address, self.transport)
        return self._channel

    async def _open(self) -> _AsyncCallStream:
        if self._stream is not None and self._stream.broken is not None:
            await self.close()  # a broken stream takes its channel along (see GRPCClient._open)
        channel = self._connect()
        if self._stream is None:
            self._stream = _AsyncCallStream(channel, self.address)
        return self._stream

    async def _dry_run(self, timeout: float | None) -> jina_pb2.StatusProto:
        try:
            return await _dry_run_call(self._connect())(empty_pb2.Empty(), timeout=timeout)
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.UNAVAILABLE:
                await self.close()  # the next call connects afresh (see _open)
            raise connection_error(self.address, err) from None

    async def close(self) -> None:
        if self._stream is not None:
            await self._stream.close()
            self._stream = None
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
