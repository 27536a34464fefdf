"""Persistent gRPC channels from the gateway to each executor replica (plaintext, or TLS with the system roots)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable

import grpc
from google.protobuf import empty_pb2
from grpc_health.v1 import health_pb2
from jina_mesh.services.gateway.discovery import Resolver, resolve_all, split_address
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest, PassthroughRequestList
from jina_mesh.services.gateway.replica_set import DEFAULT_RESOLVE_INTERVAL, ReplicaSet

from jina.executor import DEFAULT_ENDPOINT_PUBLIC
from jina.proto import jina_pb2
from jina.serve.multiplex import CallMultiplexer, StreamBroken, failure_of
from jina.serve.net import wait_listening
from jina.serve.options import channel_options
from jina.topology import ExecutorNode
from jina.wire import ENDPOINT_DISCOVERY, HEALTH_CHECK, PROCESS_DATA, PROCESS_SINGLE_DATA, STATUS

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


def describe(executor: str, shard: int | None = None) -> str:
    """How messages name an executor, or one shard of it."""
    return f"executor {executor!r}" if shard is None else f"executor {executor!r} shard {shard}"


class ExecutorUnreachable(Exception):
    """A call to an executor failed at the gRPC level (not inside the Executor)."""

    def __init__(
        self,
        executor: str,
        address: str,
        code: grpc.StatusCode,
        details: str,
        timeout: float | None = None,
        shard: int | None = None,
    ):
        who = describe(executor, shard)
        if code == grpc.StatusCode.DEADLINE_EXCEEDED and timeout is not None:
            message = (
                f"{who} at {address} did not answer within timeout_send={timeout * 1000:.0f} ms; "
                "raise timeout_send (Flow(timeout_send=...) or the YAML `with:` block) if it needs longer"
            )
        else:
            message = f"{who} at {address}: {code.name}: {details}"
        super().__init__(message)
        self.executor = executor
        self.shard = shard
        self.address = address
        self.code = code
        self.details = details


#: what one call to an executor carries: one request, or the parts of a join (process_data)
Outgoing = PassthroughRequest | PassthroughRequestList


def open_channel(address: str, compression: grpc.Compression | None, tls: bool) -> grpc.aio.Channel:
    """A channel to an executor; with `tls`, verified against the system roots (gRPC reads
    GRPC_DEFAULT_SSL_ROOTS_FILE_PATH first, so a private CA is given there)."""
    if tls:
        credentials = grpc.ssl_channel_credentials()
        return grpc.aio.secure_channel(address, credentials, options=channel_options(), compression=compression)
    return grpc.aio.insecure_channel(address, options=channel_options(), compression=compression)


class ReplicaConnection:
    """One channel to one executor replica, with raw-bytes stubs (documents are never decoded)."""

    def __init__(self, address: str, compression: grpc.Compression | None = None, tls: bool = False):
        self.address = address
        self.channel = open_channel(address, compression, tls)
        self.process = self.channel.unary_unary(
            PROCESS_SINGLE_DATA,
            request_serializer=PassthroughRequest.SerializeToString,
            response_deserializer=PassthroughRequest.FromString,
        )
        self.process_parts = self.channel.unary_unary(
            PROCESS_DATA,
            request_serializer=PassthroughRequestList.SerializeToString,
            response_deserializer=PassthroughRequest.FromString,
        )
        self.discover = self.channel.unary_unary(
            ENDPOINT_DISCOVERY,
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=jina_pb2.EndpointsProto.FromString,
        )
        self.status = self.channel.unary_unary(
            STATUS,
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=jina_pb2.JinaInfoProto.FromString,
        )
        self.health = self.channel.unary_unary(
            HEALTH_CHECK,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        #: the shared stream (see jina.serve.multiplex); requests too large to share it (a size limit
        #: breach there would end it for every request on it) and requests whose id is already in
        #: flight on it go as unary calls instead
        self._stream: CallMultiplexer[PassthroughRequest] | None = None
        #: requests sent and not yet answered (least-loaded balancing)
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        #: monotonic time before which this replica is passed over, after it was unreachable
        self.down_until = 0.0
        self._closed = False

    async def send(self, request: Outgoing, timeout: float | None) -> PassthroughRequest:
        """Over the shared stream when it can, else as a unary call (the parts of a join always:
        process_data); failures raise HopError."""
        self.in_flight += 1
        self._idle.clear()
        try:
            return await self._send(request, timeout)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def _send(self, request: Outgoing, timeout: float | None) -> PassthroughRequest:
        try:
            if isinstance(request, PassthroughRequestList):
                return await self.process_parts(request, timeout=timeout)
            if request.ByteSize() <= STREAM_MAX_BYTES:
                stream = self._stream
                if stream is None or stream.broken is not None:
                    stream = self._stream = CallMultiplexer(
                        self.channel, PassthroughRequest, local="gateway", peer="executor"
                    )
                if not stream.busy_with(request.header.request_id):
                    return await stream.call(request, timeout)
            return await self.process(request, timeout=timeout)
        except StreamBroken as err:
            raise HopError(err.code, err.details) from None
        except grpc.aio.AioRpcError as err:
            raise HopError(*failure_of(err, "executor")) from None

    async def wait_listening(self, timeout: float) -> bool:
        return await wait_listening(self.address, timeout)

    async def wait_idle(self, timeout: float) -> None:
        """Until no request is in flight here, for at most `timeout` seconds."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    async def probe(self, timeout: float) -> bool | None:
        """True: the replica answers SERVING; False: it cannot be reached or does not serve;
        None: it did not answer in time (busy, or the network is slow: no verdict)."""
        if self._closed:
            return None  # retired while the probe was on its way: it no longer counts
        if self.channel.get_state(try_to_connect=False) != grpc.ChannelConnectivity.READY:
            # Not connected: knock with plain TCP first, so that probing a replica that is not up
            # yet does not push the channel into gRPC's reconnect back-off (see wait_listening).
            if not await _accepts_tcp(self.address, timeout):
                return False
        try:
            reply = await self.health(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.aio.UsageError:
            return None  # closed (retired) meanwhile
        except grpc.aio.AioRpcError as err:
            if err.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return None
            if err.code() != grpc.StatusCode.UNIMPLEMENTED:
                return False
            try:  # an executor without the health service: endpoint discovery answers instead
                await self.discover(empty_pb2.Empty(), timeout=timeout)
            except grpc.aio.AioRpcError as again:
                return None if again.code() == grpc.StatusCode.DEADLINE_EXCEEDED else False
            return True
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._stream is not None:
            await self._stream.close()
        await self.channel.close()


async def _accepts_tcp(address: str, timeout: float) -> bool:
    host, port = split_address(address)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


class ExecutorClient:
    """All replicas of one executor: least-loaded choice, failover and retries, endpoint cache.

    Each request goes to the replica with the fewest requests in flight (ties rotate). A replica
    that cannot be reached is passed over for DOWN_SECONDS and the request is sent to the next
    one; when every replica failed, the names behind the group are resolved again (a replica
    may have moved) and the request waits RETRY_BACKOFF and tries again. The replicas come
    from a ReplicaSet, which follows DNS names as they re-resolve.
    """

    def __init__(
        self,
        node: ExecutorNode,
        compression: grpc.Compression | None = None,
        *,
        shard: int | None = None,
        resolver: Resolver = resolve_all,
        resolve_interval: float = DEFAULT_RESOLVE_INTERVAL,
    ):
        self.name = node.name
        #: which shard of the executor this group is (None: the executor is not sharded)
        self.shard = shard
        #: the addresses as configured (names not resolved)
        self.addresses = node.addresses if shard is None else node.groups[shard]
        self._replica_set: ReplicaSet[ReplicaConnection] = ReplicaSet(
            self.addresses,
            lambda address: ReplicaConnection(address, compression, node.tls),
            resolver=resolver,
            resolve_interval=resolve_interval,
            label=describe(node.name, shard),
        )
        self._rotation = itertools.count()
        self._endpoints: frozenset[str] | None = None
        self._discovery: asyncio.Task | None = None
        #: told (name, reachable?) after each request: the gateway's readiness listens here
        self.on_reachability: Callable[[str, bool], None] | None = None

    @property
    def group(self) -> str:
        """This group's name in readiness: the executor's, or `name/shard-N` (Jina's spelling)."""
        return self.name if self.shard is None else f"{self.name}/shard-{self.shard}"

    @property
    def replicas(self) -> list[ReplicaConnection]:
        """The replicas new requests may go to (changes as DNS names re-resolve)."""
        return self._replica_set.members

    async def start(self) -> None:
        """Resolve the DNS names among the addresses and keep following them (no-op for IP literals)."""
        await self._replica_set.start()

    async def warm_up(self, timeout: float) -> None:
        """Wait until the replicas listen, then learn the endpoints."""
        await self.start()
        await asyncio.gather(*(r.wait_listening(timeout) for r in self.replicas))
        await self.endpoints()

    def _pick(self, tried: set[ReplicaConnection]) -> ReplicaConnection:
        now = time.monotonic()
        replicas = self.replicas
        shift = next(self._rotation) % len(replicas)
        ordered = replicas[shift:] + replicas[:shift]
        fresh = [r for r in ordered if r not in tried]
        candidates = [r for r in fresh if r.down_until <= now] or fresh or ordered
        return min(candidates, key=lambda r: r.in_flight)

    def _report(self, reachable: bool) -> None:
        if self.on_reachability is not None:
            self.on_reachability(self.group, reachable)

    def probes(self) -> dict[str, Callable[[float], Awaitable[bool | None]]]:
        """The readiness groups behind this client and how to probe each."""
        return {self.group: self.probe}

    @property
    def idle_score(self) -> tuple[bool, int]:
        """How good a choice this group is for one more request now (lower is better): whether
        every replica is passed over after a failure, then the fewest requests in flight."""
        now = time.monotonic()
        replicas = self.replicas
        return (all(r.down_until > now for r in replicas), min((r.in_flight for r in replicas), default=0))

    async def send(self, request: Outgoing, timeout: float | None = None) -> PassthroughRequest:
        if not self._replica_set.started:
            await self.start()
        tried: set[ReplicaConnection] = set()
        rounds = 0
        timed_out_once = False
        while True:
            replica = self._pick(tried)
            try:
                response = await replica.send(request, timeout)
            except HopError as err:
                if err.code == grpc.StatusCode.DEADLINE_EXCEEDED and not timed_out_once and len(self.replicas) > 1:
                    # a replica too slow this time: one more try on another one, then give up
                    timed_out_once = True
                    tried.add(replica)
                    continue
                if err.code not in RETRYABLE:
                    raise ExecutorUnreachable(
                        self.name, replica.address, err.code, err.details, timeout, self.shard
                    ) from None
                replica.down_until = time.monotonic() + DOWN_SECONDS
                tried.add(replica)
                if any(r not in tried for r in self.replicas):
                    continue  # fail over to a replica not tried yet
                if rounds == len(RETRY_BACKOFF):
                    self._report(False)
                    raise ExecutorUnreachable(
                        self.name, replica.address, err.code, err.details, shard=self.shard
                    ) from None
                # every replica failed: the group may have moved (rescheduled pods get new IPs)
                await self._replica_set.refresh()
                await asyncio.sleep(RETRY_BACKOFF[rounds])
                rounds += 1
                tried.clear()
            else:
                self._report(True)
                return response

    @property
    def known_endpoints(self) -> frozenset[str] | None:
        """The endpoints learnt so far (None: not yet), without asking."""
        return self._endpoints

    async def endpoints(self) -> frozenset[str] | None:
        """The endpoints this executor binds (cached), or None when it cannot tell yet."""
        if self._endpoints is not None:
            return self._endpoints
        if self._discovery is None or self._discovery.done():
            self._discovery = asyncio.ensure_future(self._discover())
        return await asyncio.shield(self._discovery)

    async def _discover(self) -> frozenset[str] | None:
        for replica in list(self.replicas):
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

    async def probe(self, timeout: float) -> bool | None:
        """Whether at least one replica answers its health check (None: none answered in time)."""
        if not self._replica_set.started:
            await self.start()
        answers = await asyncio.gather(*(r.probe(timeout) for r in list(self.replicas)))
        if any(answer is True for answer in answers):
            return True
        if all(answer is False for answer in answers):
            # none there: perhaps they moved; the next probe sees the new addresses
            await self._replica_set.refresh()
            return False
        return None

    async def check(self, timeout: float) -> str | None:
        """None when every replica answers `_status`, else what went wrong."""
        for replica in list(self.replicas):
            try:
                await replica.status(empty_pb2.Empty(), timeout=timeout)
            except grpc.aio.AioRpcError as err:
                return f"{self.group} at {replica.address}: {err.code().name} {err.details() or ''}".strip()
        return None

    async def close(self) -> None:
        if self._discovery is not None:
            self._discovery.cancel()
        await self._replica_set.close()
