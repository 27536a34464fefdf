"""Persistent gRPC channels from the gateway to each executor replica."""

from __future__ import annotations

import asyncio
import itertools
import time

import grpc
from google.protobuf import empty_pb2

from jina.executor import DEFAULT_ENDPOINT_PUBLIC
from jina.proto import jina_pb2
from jina.serve.net import wait_listening
from jina.serve.options import channel_options
from jina.topology import ExecutorNode
from services.gateway.multiplex import MultiplexedCall, StreamBroken
from services.gateway.passthrough_pb2 import PassthroughRequest

_PROCESS = "/jina.JinaSingleDataRequestRPC/process_single_data"
_DISCOVER = "/jina.JinaDiscoverEndpointsRPC/endpoint_discovery"
_STATUS = "/jina.JinaInfoRPC/_status"

#: gRPC codes after which the same request may be sent again (it never reached the Executor)
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})
#: pauses before the retries of a call to an unavailable executor
RETRY_BACKOFF = (0.05, 0.2, 0.5)
#: seconds a replica that could not be reached is passed over
DOWN_SECONDS = 1.0
#: requests larger than this go as their own unary call rather than over the shared stream
STREAM_MAX_BYTES = 1 << 20


class HopError(Exception):
    """One attempt to reach a replica failed at the gRPC level."""

    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details


class ExecutorUnreachable(Exception):
    """A call to an executor failed at the gRPC level (not inside the Executor)."""

    def __init__(self, executor: str, address: str, code: grpc.StatusCode, details: str, timeout: float | None = None):
        if code == grpc.StatusCode.DEADLINE_EXCEEDED and timeout is not None:
            message = (
                f"executor {executor!r} at {address} did not answer within timeout_send={timeout * 1000:.0f} ms; "
                "raise timeout_send (Flow(timeout_send=...) or the YAML `with:` block) if it needs longer"
            )
        else:
            message = f"executor {executor!r} at {address}: {code.name}: {details}"
        super().__init__(message)
        self.executor = executor
        self.address = address
        self.code = code
        self.details = details


class ReplicaConnection:
    """One channel to one executor replica, with raw-bytes stubs (documents are never decoded)."""

    def __init__(self, address: str, compression: grpc.Compression | None = None):
        self.address = address
        self.channel = grpc.aio.insecure_channel(address, options=channel_options(), compression=compression)
        self.process = self.channel.unary_unary(
            _PROCESS,
            request_serializer=PassthroughRequest.SerializeToString,
            response_deserializer=PassthroughRequest.FromString,
        )
        self.discover = self.channel.unary_unary(
            _DISCOVER,
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=jina_pb2.EndpointsProto.FromString,
        )
        self.status = self.channel.unary_unary(
            _STATUS,
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=jina_pb2.JinaInfoProto.FromString,
        )
        self._stream: MultiplexedCall | None = None
        #: requests sent and not yet answered (least-loaded balancing)
        self.in_flight = 0
        #: monotonic time before which this replica is passed over, after it was unreachable
        self.down_until = 0.0

    async def send(self, request: PassthroughRequest, timeout: float | None) -> PassthroughRequest:
        """Over the shared stream when it can, else as a unary call; failures raise HopError."""
        self.in_flight += 1
        try:
            return await self._send(request, timeout)
        finally:
            self.in_flight -= 1

    async def _send(self, request: PassthroughRequest, timeout: float | None) -> PassthroughRequest:
        try:
            if request.ByteSize() <= STREAM_MAX_BYTES:
                stream = self._stream
                if stream is None or stream.broken is not None:
                    stream = self._stream = MultiplexedCall(self.channel)
                if not stream.busy_with(request.header.request_id):
                    return await stream.send(request, timeout)
            return await self.process(request, timeout=timeout)
        except StreamBroken as err:
            raise HopError(err.code, err.details) from None
        except grpc.aio.AioRpcError as err:
            raise HopError(err.code(), err.details() or "") from None

    async def wait_listening(self, timeout: float) -> bool:
        return await wait_listening(self.address, timeout)

    async def close(self) -> None:
        if self._stream is not None:
            await self._stream.close()
        await self.channel.close()


class ExecutorClient:
    """All replicas of one executor: least-loaded choice, failover and retries, endpoint cache.

    Each request goes to the replica with the fewest requests in flight (ties rotate). A replica
    that cannot be reached is passed over for DOWN_SECONDS and the request is sent to the next
    one; when every replica failed, the request waits RETRY_BACKOFF and tries again.
    """

    def __init__(self, node: ExecutorNode, compression: grpc.Compression | None = None):
        self.name = node.name
        self.replicas = [ReplicaConnection(address, compression) for address in node.addresses]
        self._rotation = itertools.count()
        self._endpoints: frozenset[str] | None = None
        self._discovery: asyncio.Task | None = None

    async def warm_up(self, timeout: float) -> None:
        """Wait until the replicas listen, then learn the endpoints."""
        await asyncio.gather(*(r.wait_listening(timeout) for r in self.replicas))
        await self.endpoints()

    def _pick(self, tried: set[int]) -> int:
        now = time.monotonic()
        shift = next(self._rotation)
        indexes = [(shift + i) % len(self.replicas) for i in range(len(self.replicas))]
        fresh = [i for i in indexes if i not in tried]
        candidates = [i for i in fresh if self.replicas[i].down_until <= now] or fresh or indexes
        return min(candidates, key=lambda i: self.replicas[i].in_flight)

    async def send(self, request: PassthroughRequest, timeout: float | None = None) -> PassthroughRequest:
        tried: set[int] = set()
        rounds = 0
        timed_out_once = False
        while True:
            index = self._pick(tried)
            replica = self.replicas[index]
            try:
                return await replica.send(request, timeout)
            except HopError as err:
                if err.code == grpc.StatusCode.DEADLINE_EXCEEDED and not timed_out_once and len(self.replicas) > 1:
                    # a replica too slow this time: one more try on another one, then give up
                    timed_out_once = True
                    tried.add(index)
                    continue
                if err.code not in RETRYABLE:
                    raise ExecutorUnreachable(self.name, replica.address, err.code, err.details, timeout) from None
                replica.down_until = time.monotonic() + DOWN_SECONDS
                tried.add(index)
                if len(tried) < len(self.replicas):
                    continue  # fail over to a replica not tried yet
                if rounds == len(RETRY_BACKOFF):
                    raise ExecutorUnreachable(self.name, replica.address, err.code, err.details) from None
                await asyncio.sleep(RETRY_BACKOFF[rounds])
                rounds += 1
                tried.clear()

    async def endpoints(self) -> frozenset[str] | None:
        """The endpoints this executor binds (cached), or None when it cannot tell yet."""
        if self._endpoints is not None:
            return self._endpoints
        if self._discovery is None or self._discovery.done():
            self._discovery = asyncio.ensure_future(self._discover())
        return await asyncio.shield(self._discovery)

    async def _discover(self) -> frozenset[str] | None:
        for replica in self.replicas:
            try:
                found = await replica.discover(empty_pb2.Empty(), timeout=5.0)
            except grpc.aio.AioRpcError:
                continue
            self._endpoints = frozenset(found.endpoints)
            return self._endpoints
        return None

    def binds(self, endpoints: frozenset[str] | None, endpoint: str) -> bool:
        if endpoints is None:
            return True  # unknown: send, and let the executor decide
        return endpoint in endpoints or DEFAULT_ENDPOINT_PUBLIC in endpoints

    async def check(self, timeout: float) -> str | None:
        """None when every replica answers `_status`, else what went wrong."""
        for replica in self.replicas:
            try:
                await replica.status(empty_pb2.Empty(), timeout=timeout)
            except grpc.aio.AioRpcError as err:
                return f"{self.name} at {replica.address}: {err.code().name} {err.details() or ''}".strip()
        return None

    async def close(self) -> None:
        if self._discovery is not None:
            self._discovery.cancel()
        for replica in self.replicas:
            await replica.close()
