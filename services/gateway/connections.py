"""Persistent gRPC channels from the gateway to each executor replica, and what a failed call to one means.

Rules, per request to one executor group (`ExecutorClient.send`):

* every failed attempt is either *not delivered* (it certainly never reached the Executor) or
  *maybe delivered*; `resendable` decides, from what gRPC tells (no sockets involved):

  - not delivered: gRPC could not connect for it (UNAVAILABLE "failed to connect to all
    addresses", connection refused, name resolution); it was never written to the replica's
    shared stream (the stream was broken already, its write failed, or it was still queued behind
    other writes when the stream broke); or the executor ended the stream itself, which it only
    does after answering every request it read (a graceful stop);
  - maybe delivered: any other UNAVAILABLE once the request was handed to the connection
    ("Socket closed", "Connection reset by peer"): the process died with the request in its
    socket or in its hands, and nothing on the wire tells which. One shared stream carries many
    requests, so a broken stream is such a loss for every request written on it.

* a not-delivered request goes to another replica that is up; when every replica failed, it
  waits for one to come back and goes out then. That wait is bounded by the call's `timeout`
  (the router passes the caller's remaining deadline, or `timeout_send`), by RESTART_WAIT
  seconds from the request's start, and by RESTART_WAIT seconds after the replica stopped
  answering; a group none of whose replicas ever answered (an external executor that is not
  up), or whose replicas were lost longer ago than that, gets only the RETRY_BACKOFF rounds:
  requests to it fail fast. A request is never sent twice: it waits, it does not repeat.
* a maybe-delivered request goes once more to *another* replica that is up, if there is one (a
  replica killed under load, by the OOM killer or an eviction, then costs no request, as in
  Jina); never to the replica it was lost on, which is restarting, and never a third time: a
  request that makes its executor exit takes down at most two processes, and the Flow restarts
  them. Without another replica it fails with `ExecutorLost`, code INTERNAL (UNAVAILABLE would
  tell clients, retry policies and the ANY-shard fallback that trying again is safe): the one
  replica would have to run it again right after it exited. An executor with side effects should
  therefore tolerate a request twice when it has replicas. A call that timed out
  (DEADLINE_EXCEEDED, i.e. `timeout_send`) is likewise tried once more on another replica that
  is up, with a fresh timeout.
* a replica whose connection failed is *down*: the balancer passes it over (least loaded among
  the others, ties rotate) and a watcher knocks on its port with plain TCP, every
  WATCH_INTERVALS, and puts it back as soon as the port accepts (renewing a gRPC channel stuck
  in its reconnect back-off, which would add up to `max_reconnect_backoff_ms`). A health probe
  that is answered puts it back too; one that cannot connect marks it down.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable

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

_logger = logging.getLogger("jina.gateway")

#: gRPC codes after which a request that was not delivered may be sent again
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE})
#: pauses between the rounds of a request whose every replica failed: all the waiting a group gets
#: when none of its replicas ever answered (or they were lost more than RESTART_WAIT ago)
RETRY_BACKOFF = (0.05, 0.2, 0.5)
#: seconds a request may wait for a replica that stopped answering to come back, counted from the
#: request's start and from the loss (the Flow restarts a process in 2-3 s; a container engine,
#: which backs off up to minutes, is not waited for that long: the request fails and says why)
RESTART_WAIT = 15.0
#: seconds a request waiting for a restart sleeps at most before it re-resolves the group's names
RESTART_POLL = 1.0
#: pauses between a watcher's knocks on a down replica's port (the last one repeats while the
#: replica is expected back, within RESTART_WAIT of it going down), then WATCH_SLOW
WATCH_INTERVALS = (0.05, 0.1, 0.2, 0.25)
WATCH_SLOW = 1.0
#: seconds one knock may take
KNOCK_TIMEOUT = 1.0
#: seconds the calls on a renewed channel's predecessor get before it is closed
RENEW_GRACE = 5.0
#: requests larger than this go as their own unary call rather than over the shared stream
STREAM_MAX_BYTES = 1 << 20
#: what gRPC says (lower case) of a call that never got a connection: it cannot have reached the
#: executor (pick_first's "failed to connect to all addresses", round_robin's "connections to all
#: backends failing", the resolver's failures)
NOT_CONNECTED = (
    "failed to connect to all addresses",
    "connections to all backends failing",
    "connection refused",
    "dns resolution failed",
    "name resolution",
    "empty address list",
)


def resendable(code: grpc.StatusCode, details: str, *, written: bool = True, peer_ended: bool = False) -> bool:
    """Whether a failed attempt certainly did not reach the Executor, so that it may go again (see the
    module's rules): `written` says whether the request was handed to the connection (a unary call
    always is; on the shared stream, once its write completed), `peer_ended` whether the executor
    ended the shared stream itself (having answered all it read)."""
    if code not in RETRYABLE:
        return False
    if not written or peer_ended:
        return True
    lowered = details.lower()
    return any(marker in lowered for marker in NOT_CONNECTED)


def wait_limit(
    now: float, *, started: float, timeout_end: float, rounds: int, lost_at: Iterable[float]
) -> float | None:
    """Until when a request whose every replica failed may wait for one to come back (None: it fails now).

    `rounds`: how many rounds it waited already; `lost_at`: when each replica that had answered
    before stopped answering. The RETRY_BACKOFF rounds are always granted (within the timeout and
    RESTART_WAIT from the start); after them, only while a replica is expected back.
    """
    limit = min(timeout_end, started + RESTART_WAIT)
    if rounds >= len(RETRY_BACKOFF):
        limit = min(limit, max((lost + RESTART_WAIT for lost in lost_at), default=-math.inf))
    return limit if limit > now else None


def watch_pause(step: int, down_for: float) -> float:
    """The pause before a watcher's `step`-th knock, `down_for` seconds after the replica went down."""
    if step < len(WATCH_INTERVALS):
        return WATCH_INTERVALS[step]
    return WATCH_INTERVALS[-1] if down_for < RESTART_WAIT else WATCH_SLOW


class HopError(Exception):
    """One attempt to reach a replica failed at the gRPC level; `resendable`: it certainly did not reach it."""

    def __init__(self, code: grpc.StatusCode, details: str, *, resendable: bool = False):
        super().__init__(f"{code.name}: {details}")
        self.code = code
        self.details = details
        self.resendable = resendable


def _call_failure(err: grpc.aio.AioRpcError) -> HopError:
    code, details = failure_of(err, "executor")
    return HopError(code, details, resendable=resendable(code, details))


def _stream_failure(broken: StreamBroken, written: bool) -> HopError:
    """A request on the shared stream failed: what broke it, and whether the request may go again."""
    if isinstance(broken.cause, grpc.aio.AioRpcError):
        code, details = failure_of(broken.cause, "executor")
    else:
        code, details = broken.code, broken.details
    # no error, UNAVAILABLE: the executor's end of the stream returned (CANCELLED: our own end closed it)
    peer_ended = broken.cause is None and broken.code == grpc.StatusCode.UNAVAILABLE
    return HopError(code, details, resendable=resendable(code, details, written=written, peer_ended=peer_ended))


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
        *,
        message: str | None = None,
    ):
        who = describe(executor, shard)
        if message is not None:
            pass
        elif code == grpc.StatusCode.DEADLINE_EXCEEDED and timeout is not None:
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


class ExecutorLost(ExecutorUnreachable):
    """The replica's connection broke after the request was handed to it (its process exited while
    handling it, most likely), and no other replica may take it (see the module's rules)."""

    def __init__(self, executor: str, address: str, details: str, shard: int | None = None, *, resent: bool = False):
        what = "and so did the replica it was sent to next" if resent else "the request was not sent again"
        message = (
            f"{describe(executor, shard)} exited or lost its connection while handling this request "
            f"({details}); {what}: it may have run already, or be what made the executor exit"
        )
        super().__init__(executor, address, grpc.StatusCode.INTERNAL, details, shard=shard, message=message)


#: what one call to an executor carries: one request, or the parts of a join (process_data)
Outgoing = PassthroughRequest | PassthroughRequestList


def open_channel(address: str, compression: grpc.Compression | None, tls: bool) -> grpc.aio.Channel:
    """A channel to an executor; with `tls`, verified against the system roots (gRPC reads
    GRPC_DEFAULT_SSL_ROOTS_FILE_PATH first, so a private CA is given there).

    Its own subchannel (not gRPC's process-wide pool): a fresh channel must not inherit the
    reconnect back-off of the one it replaces (see ReplicaConnection._unstick)."""
    options = [*channel_options(), ("grpc.use_local_subchannel_pool", 1)]
    if tls:
        credentials = grpc.ssl_channel_credentials()
        return grpc.aio.secure_channel(address, credentials, options=options, compression=compression)
    return grpc.aio.insecure_channel(address, options=options, compression=compression)


class ReplicaConnection:
    """One channel to one executor replica, with raw-bytes stubs (documents are never decoded), and
    whether the replica is up (see the module's rules)."""

    def __init__(self, address: str, compression: grpc.Compression | None = None, tls: bool = False):
        self.address = address
        self._compression = compression
        self._tls = tls
        self._open()
        #: the shared stream (see jina.serve.multiplex); requests too large to share it (a size limit
        #: breach there would end it for every request on it) and requests whose id is already in
        #: flight on it go as unary calls instead
        self._stream: CallMultiplexer[PassthroughRequest] | None = None
        #: requests sent and not yet answered (least-loaded balancing)
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()
        #: it answered once (a request or a health check): when it stops, it is expected back
        self.answered = False
        #: monotonic time it stopped answering, having answered before (None: it answers, or never did)
        self.lost_at: float | None = None
        #: passed over by the balancer until its watcher finds its port open again
        self.down = False
        #: why it went down last
        self.last_failure: HopError | None = None
        self._back = asyncio.Event()
        self._back.set()
        self._watcher: asyncio.Task | None = None
        self._retiring: set[asyncio.Task] = set()
        self._closed = False

    def _open(self) -> None:
        self.channel = open_channel(self.address, self._compression, self._tls)
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

    # -- up and down --------------------------------------------------------------------------

    def _answering(self) -> None:
        self.answered = True
        self.lost_at = None
        self._mark_up()

    def mark_down(self, failure: HopError | None = None) -> None:
        """It could not be reached: pass it over until its port accepts again."""
        if self._closed:
            return
        if failure is not None:
            self.last_failure = failure
        if self.answered and self.lost_at is None:
            self.lost_at = time.monotonic()
        if not self.down:
            self.down = True
            self._back.clear()
        if self._watcher is None or self._watcher.done():
            self._watcher = asyncio.ensure_future(self._watch())

    def _mark_up(self) -> None:
        if self.down:
            self.down = False
            self._back.set()

    async def wait_back(self) -> None:
        """Until it is up (at once when it is)."""
        await self._back.wait()

    async def _watch(self) -> None:
        since = time.monotonic()
        for step in itertools.count():
            await asyncio.sleep(watch_pause(step, time.monotonic() - since))
            if self._closed or not self.down:
                return
            if await _accepts_tcp(self.address, KNOCK_TIMEOUT) and not self._closed:
                self._unstick()
                self._mark_up()
                return

    def _unstick(self) -> None:
        """A channel in TRANSIENT_FAILURE connects again only when gRPC's reconnect back-off ends (up
        to max_reconnect_backoff_ms): now that the port accepts, a fresh channel connects at once."""
        if self.channel.get_state(try_to_connect=False) != grpc.ChannelConnectivity.TRANSIENT_FAILURE:
            return
        _logger.debug("%s accepts again: a fresh channel (the old one waits out gRPC's back-off)", self.address)
        old_channel, old_stream = self.channel, self._stream
        self._open()
        self._stream = None
        task = asyncio.ensure_future(_retire_channel(old_channel, old_stream))
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)

    # -- requests -----------------------------------------------------------------------------

    async def send(self, request: Outgoing, timeout: float | None) -> PassthroughRequest:
        """Over the shared stream when it can, else as a unary call (the parts of a join always:
        process_data); failures raise HopError."""
        self.in_flight += 1
        self._idle.clear()
        try:
            response = await self._send(request, timeout)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()
        self._answering()
        return response

    async def _send(self, request: Outgoing, timeout: float | None) -> PassthroughRequest:
        if isinstance(request, PassthroughRequestList):
            return await self._unary(self.process_parts, request, timeout)
        # a request with its caller's deadline goes as a call of its own: gRPC carries the deadline
        # to the executor and, when the caller gives up, cancels the work there (one request of the
        # shared stream cannot be cancelled without the others)
        if request.ByteSize() <= STREAM_MAX_BYTES and not request.header.timeout:
            stream = self._stream
            if stream is None or stream.broken is not None:
                stream = self._stream = CallMultiplexer(
                    self.channel, PassthroughRequest, local="gateway", peer="executor"
                )
            if not stream.busy_with(request.header.request_id):
                return await self._over_stream(stream, request, timeout)
        return await self._unary(self.process, request, timeout)

    @staticmethod
    async def _unary(stub, request: Outgoing, timeout: float | None) -> PassthroughRequest:
        try:
            return await stub(request, timeout=timeout)
        except grpc.aio.AioRpcError as err:
            raise _call_failure(err) from None

    @staticmethod
    async def _over_stream(
        stream: CallMultiplexer[PassthroughRequest], request: PassthroughRequest, timeout: float | None
    ) -> PassthroughRequest:
        """One request on the shared stream; unlike CallMultiplexer.call, tells a request that was
        never written (it may go again) from one that was and lost its answer (it may not)."""
        answer: asyncio.Future[PassthroughRequest] = asyncio.get_running_loop().create_future()

        def told(result: PassthroughRequest | StreamBroken) -> None:
            if answer.done():  # the caller left, or gave up waiting
                return
            if isinstance(result, StreamBroken):
                answer.set_exception(result)
            else:
                answer.set_result(result)

        request_id = request.header.request_id
        try:
            await stream.send(request, told)
        except asyncio.CancelledError:
            stream.forget(request_id)  # the caller left while the request waited for its turn to be written
            raise
        except StreamBroken as broken:
            if answer.done():
                answer.exception()  # told already by the reader; mark it as seen
            else:
                answer.cancel()
            raise _stream_failure(broken, written=False) from None
        try:
            return await asyncio.wait_for(answer, timeout)
        except StreamBroken as broken:
            raise _stream_failure(broken, written=True) from None
        except asyncio.TimeoutError:
            stream.forget(request_id)
            raise HopError(grpc.StatusCode.DEADLINE_EXCEEDED, "no answer in time") from None
        except asyncio.CancelledError:
            stream.forget(request_id)  # the caller left (its deadline passed, or it closed)
            raise

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
                self.mark_down()
                return False
            self._unstick()
        answer = await self._health(timeout)
        if answer is True:
            self._answering()
        return answer

    async def _health(self, timeout: float) -> bool | None:
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
        self._back.set()  # nobody waits for a closed replica
        if self._watcher is not None:
            self._watcher.cancel()
        if self._stream is not None:
            await self._stream.close()
        await self.channel.close()
        for task in list(self._retiring):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _retire_channel(channel: grpc.aio.Channel, stream: CallMultiplexer | None) -> None:
    try:
        await channel.close(grace=RENEW_GRACE)
    finally:
        if stream is not None:
            await stream.close()


async def _accepts_tcp(address: str, timeout: float) -> bool:
    host, port = split_address(address)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


class ExecutorClient:
    """All replicas of one executor: least-loaded choice, failover, waiting for restarts, endpoint cache.

    Each request goes to the replica with the fewest requests in flight among those up (ties
    rotate); what happens when one fails is the module's rules. The replicas come from a
    ReplicaSet, which follows DNS names as they re-resolve; when every replica failed, the names
    are resolved again before each round (a replica may have moved).
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

    def _pick(self, excluded: set[ReplicaConnection]) -> ReplicaConnection | None:
        """The least-loaded replica that is up and not excluded (ties rotate); None when there is none."""
        replicas = self.replicas
        shift = next(self._rotation) % len(replicas)
        ordered = replicas[shift:] + replicas[:shift]
        candidates = [r for r in ordered if not r.down and r not in excluded]
        return min(candidates, key=lambda r: r.in_flight) if candidates else None

    def _report(self, reachable: bool) -> None:
        if self.on_reachability is not None:
            self.on_reachability(self.group, reachable)

    def probes(self) -> dict[str, Callable[[float], Awaitable[bool | None]]]:
        """The readiness groups behind this client and how to probe each."""
        return {self.group: self.probe}

    @property
    def idle_score(self) -> tuple[bool, int]:
        """How good a choice this group is for one more request now (lower is better): whether
        every replica is down, then the fewest requests in flight."""
        replicas = self.replicas
        return (all(r.down for r in replicas), min((r.in_flight for r in replicas), default=0))

    async def send(self, request: Outgoing, timeout: float | None = None) -> PassthroughRequest:
        """The executor's answer; ExecutorLost / ExecutorUnreachable when there is none (module rules)."""
        if not self._replica_set.started:
            await self.start()
        started = time.monotonic()
        timeout_end = math.inf if timeout is None else started + timeout
        tried: set[ReplicaConnection] = set()  # failed (not delivered) in this round
        timed_out: set[ReplicaConnection] = set()  # had the request and did not answer in time
        lost: set[ReplicaConnection] = set()  # had the request and broke (maybe delivered)
        rounds = 0
        while True:
            replica = self._pick(tried | timed_out | lost)
            if replica is None:
                await self._wait_round(rounds, started, timeout_end, timeout)
                rounds += 1
                tried.clear()
                continue
            left = None if timeout is None else max(0.001, timeout_end - time.monotonic())
            try:
                response = await replica.send(request, left)
            except HopError as err:
                if err.resendable:
                    _logger.debug("%s: not delivered to %s (%s); sending it again", self.group, replica.address, err)
                    replica.mark_down(err)
                    tried.add(replica)
                    continue  # to another replica, or wait for one (see _wait_round)
                if (
                    err.code == grpc.StatusCode.DEADLINE_EXCEEDED
                    and not timed_out
                    and self._pick(tried | {replica}) is not None
                ):
                    # a replica too slow this time: one more try, with a fresh timeout, on another one
                    timed_out.add(replica)
                    assert timeout is not None  # no timeout, no DEADLINE_EXCEEDED
                    timeout_end = time.monotonic() + timeout
                    continue
                if err.code in RETRYABLE:  # maybe delivered
                    replica.mark_down(err)  # most likely it exited: the next requests go elsewhere
                    if not lost and self._pick(tried | timed_out | {replica}) is not None:
                        _logger.info("%s: lost on %s (%s); sent once more to another replica", self.group,
                                     replica.address, err)  # fmt: skip
                        lost.add(replica)
                        continue
                    raise ExecutorLost(self.name, replica.address, err.details, self.shard, resent=bool(lost)) from None
                raise ExecutorUnreachable(
                    self.name, replica.address, err.code, err.details, timeout, self.shard
                ) from None
            else:
                self._report(True)
                return response

    async def _wait_round(self, rounds: int, started: float, timeout_end: float, timeout: float | None) -> None:
        """Every replica failed or is down: wait until one is back (or a pause passed); raises when the
        request may wait no longer."""
        now = time.monotonic()
        if now >= timeout_end:
            assert timeout is not None
            raise self._unreachable(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"no replica could be reached within {timeout * 1000:.0f} ms (it may be restarting)",
            )
        limit = wait_limit(
            now,
            started=started,
            timeout_end=timeout_end,
            rounds=rounds,
            lost_at=[r.lost_at for r in self.replicas if r.lost_at is not None],
        )
        if limit is None:
            self._report(False)
            waited = now - started
            raise self._unreachable(suffix=f" (no replica came back within {waited:.1f} s)" if waited >= 1 else "")
        # the group may have moved (rescheduled pods get new IPs): new members are up at once
        await self._replica_set.refresh()
        pause = RETRY_BACKOFF[rounds] if rounds < len(RETRY_BACKOFF) else RESTART_POLL
        await self._wait_back(min(now + pause, limit) - time.monotonic())

    async def _wait_back(self, seconds: float) -> None:
        """Until a replica that is down comes back, for at most `seconds`."""
        if seconds <= 0:
            return
        waiters = [asyncio.ensure_future(r.wait_back()) for r in self.replicas if r.down]
        if not waiters:
            await asyncio.sleep(seconds)
            return
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _unreachable(
        self, code: grpc.StatusCode | None = None, details: str | None = None, suffix: str = ""
    ) -> ExecutorUnreachable:
        """The error of a request that found no replica: the last failure seen, by default."""
        failed = [r for r in self.replicas if r.last_failure is not None]
        replica = failed[0] if failed else self.replicas[0]
        last = replica.last_failure
        code = code or (last.code if last else grpc.StatusCode.UNAVAILABLE)
        details = details or (last.details if last else "no replica can be reached")
        return ExecutorUnreachable(self.name, replica.address, code, details + suffix, shard=self.shard)

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
