"""The gRPC client: one persistent channel and one long-lived `JinaRPC.Call` stream per Client.

Every `post()` sends its requests over the same stream and picks its responses out by request
id, so a sequence of small `post()` calls pays neither a connection nor a stream set-up each
time (Jina opens a new channel for every `post()`). Several threads may post at once.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Iterator

import grpc
from google.protobuf import empty_pb2

from jina.clients.hosts import Address
from jina.clients.posting import PostingClient, SharedConnection
from jina.clients.transport import ClientTransport
from jina.proto import jina_pb2
from jina.wire import CALL, DRY_RUN

# what gRPC's TLS failures look like → what to do about them
_TLS_HINTS = (
    ("CERTIFICATE_VERIFY_FAILED", "the server's certificate is not trusted: pass Client(ca_certs='ca.pem')"),
    ("WRONG_VERSION_NUMBER", "the server does not speak TLS: drop tls=True / the grpcs:// scheme"),
    ("Ssl handshake failed", "the TLS handshake failed"),
)


def connection_error(address: Address, err: BaseException) -> ConnectionError:
    if isinstance(err, grpc.RpcError):
        code = err.code()  # type: ignore[attr-defined]
        details = err.details() or ""  # type: ignore[attr-defined]
        hints = [hint for marker, hint in _TLS_HINTS if marker in details][:1]
        if not hints and not address.tls and code == grpc.StatusCode.UNAVAILABLE:
            hints = ["if the gateway serves TLS, use Client(tls=True) or host='grpcs://...'"]
        suffix = f" ({hints[0]})" if hints else ""
        return ConnectionError(f"gRPC call to {address.target} failed: {code.name}: {details}{suffix}")
    return ConnectionError(f"gRPC stream to {address.target} failed: {err}")


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
            transport = self.transport
            options, compression = transport.grpc_options(), transport.grpc_compression()
            if self.address.tls:
                self._channel = grpc.secure_channel(
                    self.address.target, transport.grpc_credentials(), options=options, compression=compression
                )
            else:
                self._channel = grpc.insecure_channel(self.address.target, options=options, compression=compression)
            self._finalizer = weakref.finalize(self, _release, self._channel, self._streams)
        return self._channel

    def _open(self) -> _CallStream:
        with self._lock:
            channel = self._connect()
            if not self._streams or self._streams[-1].broken is not None:
                for old in self._streams:
                    old.close()
                self._streams.clear()
                self._streams.append(_CallStream(channel, self.address))
            return self._streams[-1]

    def dry_run(self, timeout: float | None = 5.0) -> jina_pb2.StatusProto:
        call = self._connect().unary_unary(
            DRY_RUN,
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=jina_pb2.StatusProto.FromString,
        )
        try:
            return call(empty_pb2.Empty(), timeout=timeout)
        except grpc.RpcError as err:
            raise connection_error(self.address, err) from None

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._channel = None
        self._streams = []
