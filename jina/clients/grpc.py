"""The gRPC client: one persistent channel and one long-lived `JinaRPC.Call` stream per Client.

Every `post()` sends its requests over the same stream and picks its responses out by request
id, so a sequence of small `post()` calls pays neither a connection nor a stream set-up each
time (Jina opens a new channel for every `post()`). Several threads may post at once.
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections import deque
from collections.abc import Iterator
from typing import Any

import grpc
from google.protobuf import empty_pb2

from jina.clients.hosts import Address
from jina.clients.inputs import InputType, build_requests
from jina.clients.results import Callback, ResultCollector
from jina.documents import DocumentArray
from jina.proto import jina_pb2
from jina.serve.options import channel_options

_CALL = "/jina.JinaRPC/Call"
_DRY_RUN = "/jina.JinaGatewayDryRunRPC/dry_run"

#: most requests of one post() in flight when no prefetch is given (the gateway's default)
DEFAULT_WINDOW = 1000

_logger = logging.getLogger("jina.client")


def connection_error(address: Address, err: BaseException) -> ConnectionError:
    if isinstance(err, grpc.RpcError):
        code = err.code()  # type: ignore[attr-defined]
        details = err.details()  # type: ignore[attr-defined]
        return ConnectionError(f"gRPC call to {address.target} failed: {code.name}: {details}")
    return ConnectionError(f"gRPC stream to {address.target} failed: {err}")


class _CallStream:
    """One `JinaRPC.Call`: requests queued from any thread, responses routed by request id."""

    def __init__(self, channel: grpc.Channel, address: Address):
        self._address = address
        self._outbox: queue.SimpleQueue[jina_pb2.DataRequestProto | None] = queue.SimpleQueue()
        self._inboxes: dict[str, queue.SimpleQueue] = {}
        self._lock = threading.Lock()
        self.broken: BaseException | None = None
        call = channel.stream_stream(
            _CALL,
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
                with self._lock:
                    inbox = self._inboxes.get(response.header.request_id)
                if inbox is not None:
                    inbox.put(response)
                else:
                    _logger.debug("dropping a response nobody waits for: %s", response.header.request_id)
            error = ConnectionError(f"the gateway at {self._address.target} ended the stream")
        except grpc.RpcError as err:
            error = connection_error(self._address, err)
        with self._lock:
            self.broken = error
            inboxes = list(self._inboxes.values())
        for inbox in inboxes:
            inbox.put(error)

    def send(self, request: jina_pb2.DataRequestProto, inbox: queue.SimpleQueue) -> None:
        with self._lock:
            if self.broken is not None:
                raise self.broken
            self._inboxes[request.header.request_id] = inbox
        self._outbox.put(request)

    def forget(self, request_ids: list[str]) -> None:
        with self._lock:
            for request_id in request_ids:
                self._inboxes.pop(request_id, None)

    def close(self) -> None:
        self._outbox.put(None)
        self._reader.join(timeout=2.0)
        if self._reader.is_alive():
            self._responses.cancel()


def _release(channel: grpc.Channel, streams: list[_CallStream]) -> None:
    for stream in streams:
        stream.close()
    channel.close()


class GRPCClient:
    """Synchronous client for a Flow's gRPC gateway (what `Client(protocol='grpc')` returns)."""

    def __init__(self, address: Address, *, prefetch: int | None = None):
        self.address = address
        self.prefetch = prefetch
        self._lock = threading.Lock()
        self._channel: grpc.Channel | None = None
        self._streams: list[_CallStream] = []  # the current stream is the last one
        self._finalizer: weakref.finalize | None = None

    @property
    def host(self) -> str:
        return self.address.host

    @property
    def port(self) -> int:
        return self.address.port

    def _connect(self) -> grpc.Channel:
        if self._channel is None:
            if self.address.tls:
                credentials = grpc.ssl_channel_credentials()
                self._channel = grpc.secure_channel(self.address.target, credentials, options=channel_options())
            else:
                self._channel = grpc.insecure_channel(self.address.target, options=channel_options())
            self._finalizer = weakref.finalize(self, _release, self._channel, self._streams)
        return self._channel

    def _stream(self) -> _CallStream:
        with self._lock:
            channel = self._connect()
            if not self._streams or self._streams[-1].broken is not None:
                for old in self._streams:
                    old.close()
                self._streams.clear()
                self._streams.append(_CallStream(channel, self.address))
            return self._streams[-1]

    def post(
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
    ) -> DocumentArray | list | None:
        """Send documents to endpoint `on` of the Flow and return what came back (see Jina's post())."""
        collector = ResultCollector(
            on_done=on_done,
            on_error=on_error,
            on_always=on_always,
            return_responses=return_responses,
            continue_on_error=continue_on_error,
        )
        requests = build_requests(
            inputs, on=on, parameters=parameters, request_size=request_size, target_executor=target_executor
        )
        window = prefetch or self.prefetch or DEFAULT_WINDOW
        inbox: queue.SimpleQueue = queue.SimpleQueue()
        stream = self._stream()
        in_flight: set[str] = set()
        order: deque[str] = deque()  # request ids in sending order, for results_in_order
        held: dict[str, jina_pb2.DataRequestProto] = {}
        exhausted = False
        try:
            while True:
                while not exhausted and len(in_flight) < window:
                    request = next(requests, None)
                    if request is None:
                        exhausted = True
                        break
                    request_id = request.header.request_id
                    in_flight.add(request_id)
                    if results_in_order:
                        order.append(request_id)
                    try:
                        stream.send(request, inbox)
                    except ConnectionError as err:
                        collector.fail(err)
                        return collector.result()
                if not in_flight:
                    break
                item = inbox.get()
                if isinstance(item, BaseException):
                    collector.fail(item)
                    return collector.result()
                in_flight.discard(item.header.request_id)
                if not results_in_order:
                    collector.add(item)
                    continue
                held[item.header.request_id] = item
                while order and order[0] in held:
                    collector.add(held.pop(order.popleft()))
        finally:
            if in_flight:
                stream.forget(list(in_flight))
        return collector.result()

    def dry_run(self, timeout: float | None = 5.0) -> jina_pb2.StatusProto:
        call = self._connect().unary_unary(
            _DRY_RUN,
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=jina_pb2.StatusProto.FromString,
        )
        try:
            return call(empty_pb2.Empty(), timeout=timeout)
        except grpc.RpcError as err:
            raise connection_error(self.address, err) from None

    def is_flow_ready(self, timeout: float | None = 5.0) -> bool:
        """True when the gateway and every executor behind it answer."""
        try:
            return self.dry_run(timeout).code == jina_pb2.StatusProto.SUCCESS
        except ConnectionError:
            return False

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._channel = None
        self._streams = []

    def __enter__(self) -> GRPCClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
