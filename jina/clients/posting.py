"""Jina's `post()` written once, for every client, over a connection that carries requests.

A client only says how it opens (or reuses) its connection: a gRPC stream, a WebSocket, or an
HTTP client's requests. The connection's `send(request, inbox)` puts, later, the pair
`(request id, response)` into `inbox`, or an exception when the request or the whole connection
failed; `forget(request_ids)` drops requests nobody waits for any more. The pair names the request
explicitly because a server may answer with another id (real Jina's HTTP gateway does).

As in httpx (`BaseClient`, `Client`, `AsyncClient`): `BaseClient` holds a client's configuration
and what it decides without I/O; `PostingClient` and `AsyncPostingClient` do the I/O, in the
calling thread or in the running event loop, and each protocol's pair derives from them.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterator
from typing import Any, ClassVar, Protocol, TypeVar

from jina.clients.hosts import Address
from jina.clients.inputs import InputType, build_requests
from jina.clients.profiling import latency_report, print_report
from jina.clients.response import Response
from jina.clients.results import Callback, ResultCollector
from jina.clients.transport import ClientTransport
from jina.documents import Document, DocumentArray
from jina.excepts import BadClient, BadServer, NoAnswer, RequestTooLarge
from jina.proto import jina_pb2

#: most requests of one post() in flight when no prefetch is given (the gateway's default)
DEFAULT_WINDOW = 1000

#: what a failed connection or request raises; post() hands these to on_error when given
FAILURES = (ConnectionError, BadServer, BadClient)
#: seconds a post(timeout=...) waits for an answer beyond its deadline (the gateway's error is due by then)
ANSWER_GRACE = 1.0

#: what a connection puts into a post()'s inbox
Answer = tuple[str, jina_pb2.DataRequestProto] | BaseException

_logger = logging.getLogger("jina.client")


class Connection(Protocol):
    """An open connection of a synchronous client (see the module docstring)."""

    def send(self, request: jina_pb2.DataRequestProto, inbox: queue.SimpleQueue) -> None:
        """Send `request`; its Answer goes to `inbox`. Raises one of FAILURES when already broken."""

    def forget(self, request_ids: list[str]) -> None:
        """Nobody waits for these requests' answers any more."""


class AsyncConnection(Protocol):
    """An open connection of an asyncio client: the same, with `send` a coroutine."""

    async def send(self, request: jina_pb2.DataRequestProto, inbox: asyncio.Queue) -> None: ...

    def forget(self, request_ids: list[str]) -> None: ...


class SharedConnection:
    """A connection every post() of a client shares (a gRPC stream, a WebSocket): its reader hands each
    response to the inbox of the post() that sent the request, and a failure to all of them.

    Thread-safe, for the synchronous clients' reader threads; inboxes are `queue.SimpleQueue`s or
    `asyncio.Queue`s (both have `put_nowait`).
    """

    def __init__(self) -> None:
        self._inboxes: dict[str, queue.SimpleQueue | asyncio.Queue] = {}
        self._inboxes_lock = threading.Lock()
        self.broken: BaseException | None = None

    def _expect(self, request: jina_pb2.DataRequestProto, inbox: queue.SimpleQueue | asyncio.Queue) -> None:
        """Route `request`'s response to `inbox`; raises the connection's failure when it already broke."""
        with self._inboxes_lock:
            if self.broken is not None:
                raise self.broken
            self._inboxes[request.header.request_id] = inbox

    def _deliver(self, response: jina_pb2.DataRequestProto) -> None:
        request_id = response.header.request_id
        # one answer per request: a delivered id is dropped, so that a long-lived client does not
        # keep every id it ever sent, and a duplicate answer is not taken for another result
        with self._inboxes_lock:
            inbox = self._inboxes.pop(request_id, None)
        if inbox is not None:
            inbox.put_nowait((request_id, response))
        else:
            _logger.debug("dropping a response nobody waits for: %s", request_id)

    def _break(self, error: BaseException) -> None:
        """The connection failed: every post() waiting on it gets `error`, and later sends raise it."""
        with self._inboxes_lock:
            self.broken = error
            inboxes = list(self._inboxes.values())
        for inbox in inboxes:
            inbox.put_nowait(error)

    def forget(self, request_ids: list[str]) -> None:
        with self._inboxes_lock:
            for request_id in request_ids:
                self._inboxes.pop(request_id, None)


class _Window:
    """One post()'s requests in flight, and (results_in_order) the responses held back for earlier ones."""

    def __init__(self, requests: Iterator[jina_pb2.DataRequestProto], size: int, results_in_order: bool):
        self._requests = requests
        self._size = size
        self._exhausted = False
        self.in_flight: set[str] = set()
        self._order: deque[str] | None = deque() if results_in_order else None  # request ids in sending order
        self._held: dict[str, jina_pb2.DataRequestProto] = {}

    def to_send(self) -> Iterator[jina_pb2.DataRequestProto]:
        """The next requests while the window has room, pulled from the inputs only then (they may be endless)."""
        while not self._exhausted and len(self.in_flight) < self._size:
            request = next(self._requests, None)
            if request is None:
                self._exhausted = True
                return
            # counted before it is sent, so that a failed send is forgotten with the rest
            self.in_flight.add(request.header.request_id)
            if self._order is not None:
                self._order.append(request.header.request_id)
            yield request

    def arrived(self, request_id: str, response: jina_pb2.DataRequestProto) -> list[jina_pb2.DataRequestProto]:
        """The responses due now: this one, or (results_in_order) those no earlier request holds up any more."""
        self.in_flight.discard(request_id)
        if self._order is None:
            return [response]
        self._held[request_id] = response
        ready = []
        while self._order and self._order[0] in self._held:
            ready.append(self._held.pop(self._order.popleft()))
        return ready


def _answer_wait(timeout: float | None) -> float | None:
    """How long a post() waits for its next answer: unbounded, or its deadline and a grace second."""
    return None if timeout is None else timeout + ANSWER_GRACE


def _no_answer(url: str, timeout: float) -> NoAnswer:
    return NoAnswer(f"no answer from {url} within timeout={timeout:g}s (+{ANSWER_GRACE:g}s)")


def _failed(collector: ResultCollector, error: BaseException) -> None:
    # a failed connection or request goes to on_error when given; anything else is a bug, raised as it is
    if not isinstance(error, FAILURES):
        raise error
    collector.fail(error)


def _profile(response: Response, roundtrip_ms: float, show_table: bool) -> dict[str, float]:
    report = latency_report(response.routes, roundtrip_ms)
    if show_table:
        print_report(report)
    return report


def _collector(
    on_done: Callback, on_error: Callback, on_always: Callback, return_responses: bool, continue_on_error: bool
) -> ResultCollector:
    return ResultCollector(
        on_done=on_done,
        on_error=on_error,
        on_always=on_always,
        return_responses=return_responses,
        continue_on_error=continue_on_error,
    )


def _shortcut(endpoint: str):
    """Jina's CRUD shortcut: `client.index(inputs, ...)` is `client.post('/index', inputs, ...)`."""

    def shortcut(self, inputs: InputType = None, *args: Any, **kwargs: Any):
        return self.post(endpoint, inputs, *args, **kwargs)

    shortcut.__name__ = shortcut.__qualname__ = endpoint.strip("/")
    shortcut.__doc__ = f"`post({endpoint!r}, inputs, ...)` (on an asyncio client, an async generator as post() is)."
    return shortcut


def _deprecated_dry_run() -> None:
    # Jina's wording: dry_run() is is_flow_ready() under its old name
    warnings.warn(
        "`dry_run` is renamed to `is_flow_ready` with the same usage, please use the latter instead",
        DeprecationWarning,
        stacklevel=3,
    )


def _readiness(status: jina_pb2.StatusProto) -> tuple[bool, str]:
    if status.code == jina_pb2.StatusProto.SUCCESS:
        return True, "the Flow is ready"
    return False, f"not ready: {status.description or status.exception.name or 'the dry run failed'}"


def _logged(url: str, ready: bool, why: str) -> bool:
    # Jina logs why a Flow is not ready (as an error); here at INFO, as readiness is often polled
    if not ready:
        _logger.info("the Flow at %s: %s", url, why)
    return ready


_Client = TypeVar("_Client", bound="PostingClient")
_AsyncClient = TypeVar("_AsyncClient", bound="AsyncPostingClient")


class BaseClient:
    """What every client holds, synchronous or asyncio: where it connects, how, and how many requests a
    post() keeps in flight; and what a post() decides without I/O. The subclasses do the I/O."""

    #: the URL scheme of the protocol; TLS adds an "s" (https, wss, grpcs)
    scheme: ClassVar[str] = "grpc"

    #: the deadline (seconds) of each request of a post() that gives none (`Client(timeout=...)`)
    timeout: float | None = None

    def __init__(self, address: Address, *, prefetch: int | None = None, transport: ClientTransport | None = None):
        self.address = address
        self.prefetch = prefetch
        self.transport = transport or ClientTransport()

    @property
    def host(self) -> str:
        return self.address.host

    @property
    def port(self) -> int:
        return self.address.port

    @property
    def url(self) -> str:
        return f"{self.scheme}{'s' if self.address.tls else ''}://{self.address.target}"

    index = _shortcut("/index")
    search = _shortcut("/search")
    update = _shortcut("/update")
    delete = _shortcut("/delete")

    def _window(self, prefetch: int | None) -> int:
        """How many requests one post() keeps in flight: its own prefetch, the client's, or the default."""
        return prefetch or self.prefetch or DEFAULT_WINDOW

    def _check_size(self, request: jina_pb2.DataRequestProto) -> None:
        """Refuse a request the server would refuse (RESOURCE_EXHAUSTED / 413) before it is sent: on a
        shared stream an oversize message would end the stream for every other request on it."""
        size, limit = request.ByteSize(), self.transport.send_limit
        if 0 < limit < size:
            raise RequestTooLarge(
                f"a request of {size:,} bytes is over the {limit:,}-byte message limit (the server would answer "
                "RESOURCE_EXHAUSTED / HTTP 413); send fewer documents per request (request_size) or raise "
                "max_message_bytes (JINA_GRPC_SEND_BYTES) on both sides"
            )


class PostingClient(BaseClient, ABC):
    """A synchronous client: Jina's post() over the connection `_open()` gives, and is_flow_ready()."""

    @abstractmethod
    def _open(self) -> Connection:
        """The connection for the next post(): the open one, or a new one when there is none or it broke."""

    @abstractmethod
    def _dry_run(self, timeout: float | None) -> jina_pb2.StatusProto:
        """The Flow's answer to an empty request through all of it; FAILURES when there is none."""

    @abstractmethod
    def close(self) -> None: ...

    def post(
        self,
        on: str = "/",
        inputs: InputType = None,
        on_done: Callback = None,
        on_error: Callback = None,
        on_always: Callback = None,
        parameters: dict[str, Any] | None = None,
        target_executor: str | None = None,
        request_size: int = 100,
        continue_on_error: bool = False,
        return_responses: bool = False,
        results_in_order: bool = False,
        prefetch: int | None = None,
        timeout: float | None = None,
        **_ignored: Any,
    ) -> DocumentArray | list | None:
        """Send documents to endpoint `on` of the Flow and return what came back (see Jina's post());
        `timeout` (seconds) is each request's deadline: the gateway answers by then, with an error if it must."""
        collector = _collector(on_done, on_error, on_always, return_responses, continue_on_error)
        timeout = self.timeout if timeout is None else timeout
        requests = build_requests(inputs, on, parameters, request_size, target_executor, timeout)
        window = self._window(prefetch)
        try:
            connection = self._open()
        except FAILURES as err:
            collector.fail(err)
            return collector.result()
        self._exchange(connection, requests, window, results_in_order, collector, timeout)
        return collector.result()

    def _exchange(
        self,
        connection: Connection,
        requests: Iterator[jina_pb2.DataRequestProto],
        window: int,
        results_in_order: bool,
        collector: ResultCollector,
        timeout: float | None = None,
    ) -> None:
        """Keep up to `window` requests in flight and collect every response, until the last or a failure."""
        inbox: queue.SimpleQueue[Answer] = queue.SimpleQueue()
        flight = _Window(requests, window, results_in_order)
        try:
            while True:
                for request in flight.to_send():
                    try:
                        self._check_size(request)
                        connection.send(request, inbox)
                    except FAILURES as err:
                        collector.fail(err)
                        return
                if not flight.in_flight:
                    return
                try:
                    answer = inbox.get(timeout=_answer_wait(timeout))
                except queue.Empty:
                    answer = _no_answer(self.url, timeout)  # type: ignore[arg-type]
                if isinstance(answer, BaseException):
                    _failed(collector, answer)
                    return
                for response in flight.arrived(*answer):
                    collector.add(response)
        finally:
            if flight.in_flight:
                connection.forget(list(flight.in_flight))

    def readiness(self, timeout: float | None = 5.0) -> tuple[bool, str]:
        """(ready?, why): what is_flow_ready() answers, with what the gateway said or what failed."""
        try:
            return _readiness(self._dry_run(timeout))
        except FAILURES as err:
            return False, str(err)

    def is_flow_ready(self, timeout: float | None = 5.0, **_ignored: Any) -> bool:
        """True when the gateway and every executor behind it answer an empty request (Jina's dry run)."""
        return _logged(self.url, *self.readiness(timeout))

    def dry_run(self, timeout: float | None = 5.0, **kwargs: Any) -> bool:
        """Jina's old name of is_flow_ready() (a DeprecationWarning, as in Jina)."""
        _deprecated_dry_run()
        return self.is_flow_ready(timeout, **kwargs)

    def profiling(self, show_table: bool = True) -> dict[str, float]:
        """Send one empty Document to '/' and report where its time went, in ms (see jina.clients.profiling)."""
        start = time.perf_counter()
        responses = self.post("/", Document(), return_responses=True)
        roundtrip = (time.perf_counter() - start) * 1000
        return _profile(responses[0], roundtrip, show_table)

    def __enter__(self: _Client) -> _Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncPostingClient(BaseClient, ABC):
    """An asyncio client: post() is an async generator over the connection `_open()` gives."""

    @abstractmethod
    async def _open(self) -> AsyncConnection:
        """The connection for the next post(), in the running event loop (a new loop needs a new one)."""

    @abstractmethod
    async def _dry_run(self, timeout: float | None) -> jina_pb2.StatusProto: ...

    @abstractmethod
    async def close(self) -> None: ...

    async def post(
        self,
        on: str = "/",
        inputs: InputType = None,
        on_done: Callback = None,
        on_error: Callback = None,
        on_always: Callback = None,
        parameters: dict[str, Any] | None = None,
        target_executor: str | None = None,
        request_size: int = 100,
        continue_on_error: bool = False,
        return_responses: bool = False,
        results_in_order: bool = False,
        prefetch: int | None = None,
        timeout: float | None = None,
        **_ignored: Any,
    ):
        """Yield, per response, its DocumentArray (or the Response with `return_responses=True`)."""
        # post() yields each response itself; the collector only keeps Responses, never copying their documents
        collector = _collector(on_done, on_error, on_always, return_responses=True, continue_on_error=continue_on_error)
        timeout = self.timeout if timeout is None else timeout
        requests = build_requests(inputs, on, parameters, request_size, target_executor, timeout)
        window = self._window(prefetch)
        try:
            connection = await self._open()
        except FAILURES as err:
            collector.fail(err)
            return
        inbox: asyncio.Queue[Answer] = asyncio.Queue()
        flight = _Window(requests, window, results_in_order)
        try:
            while True:
                for request in flight.to_send():
                    try:
                        self._check_size(request)
                        await connection.send(request, inbox)
                    except FAILURES as err:
                        collector.fail(err)
                        return
                if not flight.in_flight:
                    return
                try:
                    answer = await asyncio.wait_for(inbox.get(), _answer_wait(timeout))
                except asyncio.TimeoutError:
                    answer = _no_answer(self.url, timeout)  # type: ignore[arg-type]
                if isinstance(answer, BaseException):
                    _failed(collector, answer)
                    return
                for proto in flight.arrived(*answer):
                    response = collector.add(proto)
                    yield response if return_responses else response.docs
        finally:
            if flight.in_flight:
                connection.forget(list(flight.in_flight))

    async def readiness(self, timeout: float | None = 5.0) -> tuple[bool, str]:
        """(ready?, why): what is_flow_ready() answers, with what the gateway said or what failed."""
        try:
            return _readiness(await self._dry_run(timeout))
        except FAILURES as err:
            return False, str(err)

    async def is_flow_ready(self, timeout: float | None = 5.0, **_ignored: Any) -> bool:
        """True when the gateway and every executor behind it answer an empty request (Jina's dry run)."""
        return _logged(self.url, *(await self.readiness(timeout)))

    async def dry_run(self, timeout: float | None = 5.0, **kwargs: Any) -> bool:
        """Jina's old name of is_flow_ready() (a DeprecationWarning, as in Jina)."""
        _deprecated_dry_run()
        return await self.is_flow_ready(timeout, **kwargs)

    async def profiling(self, show_table: bool = True) -> dict[str, float]:
        """Send one empty Document to '/' and report where its time went, in ms (see jina.clients.profiling)."""
        start = time.perf_counter()
        async for response in self.post("/", Document(), return_responses=True):
            roundtrip = (time.perf_counter() - start) * 1000
            return _profile(response, roundtrip, show_table)
        raise BadServer("the Flow answered the profiling request with nothing")

    async def __aenter__(self: _AsyncClient) -> _AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
