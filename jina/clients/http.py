"""The HTTP clients: each request of a `post()` is one `POST /post` with Jina's JSON body, over one pooled client.

A request goes out as `{"header", "parameters", "data", "execEndpoint", "targetExecutor"}` (what
Jina's HTTP gateway and this project's bridge read) and comes back as Jina's response JSON, which
is turned back into a `DataRequestProto` so that `ResultCollector` treats it exactly like a gRPC
response. The JSON both ways is `jina.httpjson`'s; what an HTTP answer means is decided here, by
pure functions (the WebSocket clients reuse `response_from_body` for JSON frames).

Errors: a body carrying Jina's header is a response (an error status raises `ExecutorError` as
over gRPC, whatever the HTTP status); 404 is `BadClient`; 503/504 are `InternalNetworkError`;
any other failure is `BadServer`, and an unreachable gateway is a `ConnectionError`. Failures
that produced no response go to `on_error` when given, like a broken gRPC stream does.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import queue
import threading
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import httpx

from jina.clients.hosts import Address
from jina.clients.posting import FAILURES, Answer, AsyncPostingClient, PostingClient
from jina.clients.response import Response
from jina.clients.results import ResultCollector
from jina.clients.transport import ClientTransport, handshake_hint
from jina.excepts import BadClient, BadServer, InternalNetworkError
from jina.httpjson import BodyError, request_to_json, response_from_json, status_from_json
from jina.proto import jina_pb2
from jina.serve import grpc_timeout

#: requests of one synchronous post() in flight at once: each needs a thread and a connection,
#: and a handful already keeps a gateway busy (the async client is bounded by prefetch only)
HTTP_WORKERS = 8

# Executors may take as long as they need (the gRPC client has no deadline either); only
# opening a connection is bounded, so that a wrong address fails instead of hanging.
_TIMEOUT = httpx.Timeout(None, connect=10.0)

_MAX_BODY_IN_MESSAGE = 300


# -- what an answer means (pure) -------------------------------------------------------------


def encode_json(body: dict[str, Any]) -> bytes:
    # compact, and NaN allowed as Jina's client (aiohttp's json.dumps) sends it
    return json.dumps(body, separators=(",", ":")).encode()


def response_from_body(body: Any) -> jina_pb2.DataRequestProto:
    """Jina's response JSON from a gateway → DataRequestProto; anything else is a BadServer saying what is wrong."""
    if not isinstance(body, dict):
        raise BadServer(f"the gateway's answer is not a JSON object: {_excerpt(body)}")
    try:
        return response_from_json(body)
    except BodyError as exc:
        raise BadServer(f"the gateway's answer is not Jina's response JSON: {exc}") from None


def has_error_header(body: Any) -> bool:
    """Whether a body is Jina's response carrying an error status (which then speaks for itself)."""
    if not isinstance(body, dict):
        return False
    header = body.get("header")
    status = header.get("status") if isinstance(header, dict) else None
    if not isinstance(status, dict):
        return False
    code = status.get("code")
    return code in (jina_pb2.StatusProto.ERROR, "ERROR")


def error_message(body: Any, text: str) -> str:
    """The most specific message of an error body: Jina's status description, the bridge's `error`, or the text."""
    if isinstance(body, dict):
        header = body.get("header")
        status = header.get("status") if isinstance(header, dict) else None
        if isinstance(status, dict) and status.get("description"):
            return str(status["description"])
        error = body.get("error")
        if isinstance(error, dict):
            error = error.get("message") or error.get("description") or json.dumps(error)
        if error:
            return str(error)
        if body.get("detail"):
            return str(body["detail"])
    return _excerpt(text)


def parse_reply(status: int, content: bytes, url: str) -> jina_pb2.DataRequestProto:
    """Map one HTTP answer to a response or raise what it stands for (see the module docstring)."""
    try:
        body: Any = json.loads(content) if content else None
    except ValueError:
        body = None
    text = content.decode("utf-8", "replace")
    if status == 404:
        raise BadClient(f"no such endpoint {url} (HTTP 404): {error_message(body, text)}")
    if status in (503, 504):
        response = None
        if isinstance(body, dict) and "header" in body:
            try:
                response = Response(response_from_body(body))
            except BadServer:
                pass
        raise InternalNetworkError(
            # the message says what: an executor, the gateway behind the bridge, or a deadline
            f"{url} could not answer (HTTP {status}): {error_message(body, text)}",
            response=response,
        )
    if 200 <= status < 300 or has_error_header(body):
        # an error status inside Jina's body is the executor's error, reported like over gRPC
        if body is None:
            raise BadServer(f"{url} answered HTTP {status} with a body that is not JSON: {_excerpt(text)}")
        return response_from_body(body)
    raise BadServer(f"{url} answered HTTP {status}: {error_message(body, text)}")


def _excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= _MAX_BODY_IN_MESSAGE else text[:_MAX_BODY_IN_MESSAGE] + "..."


def _transport_error(url: str, err: httpx.TransportError) -> ConnectionError:
    # a server that wants a client certificate closes the connection at the handshake, unexplained
    cut = isinstance(err, (httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError))
    hint = handshake_hint(url.startswith("https:") and cut)
    return ConnectionError(f"HTTP request to {url} failed: {type(err).__name__}: {err or 'no details'}{hint}")


def _reply_to_proto(reply: httpx.Response, url: str) -> jina_pb2.DataRequestProto:
    return parse_reply(reply.status_code, reply.content, url)


_HEADERS = {"content-type": "application/json", "accept": "application/json"}


def _headers(request: jina_pb2.DataRequestProto) -> dict[str, str]:
    """A request's deadline (the header's `timeout`, milliseconds) goes as `Grpc-Timeout`: the JSON
    body has no header to carry it."""
    if not request.header.timeout:
        return _HEADERS
    return {**_HEADERS, grpc_timeout.HEADER: grpc_timeout.format_milliseconds(request.header.timeout)}


def _dry_run_status(reply: httpx.Response, url: str) -> jina_pb2.StatusProto:
    if reply.status_code != 200:
        raise BadServer(f"{url} answered HTTP {reply.status_code}: {_excerpt(reply.text)}")
    try:
        return status_from_json(reply.json())
    except ValueError as exc:  # not JSON, or a BodyError
        raise BadServer(f"{url} answered with something that is not a status: {exc}") from None


class _Requests:
    """One post()'s `POST /post` calls as a connection (see jina.clients.posting), running elsewhere.

    Each call's answer is put into the inbox under the id of the request it answers: real Jina's
    gateway answers with a new request id, and the server's id stays in the response as it came.
    """

    def __init__(self, base: str):
        self.url = f"{base}/post"
        self._running: dict[str, Future | asyncio.Task] = {}

    def _track(self, request_id: str, running: Future | asyncio.Task, put: Callable[[Answer], None]) -> None:
        self._running[request_id] = running
        running.add_done_callback(lambda done: self._deliver(request_id, done, put))

    def _deliver(self, request_id: str, done: Future | asyncio.Task, put: Callable[[Answer], None]) -> None:
        self._running.pop(request_id, None)
        if done.cancelled():
            return  # forgotten
        # retrieved here, so that a request abandoned after an earlier failure logs no "never retrieved"
        error = done.exception()
        put(error if error is not None else (request_id, done.result()))

    def forget(self, request_ids: list[str]) -> None:
        # requests already on the wire finish where they run; their answers are dropped
        for request_id in request_ids:
            running = self._running.pop(request_id, None)
            if running is not None:
                running.cancel()


# -- synchronous -----------------------------------------------------------------------------


class _PooledRequests(_Requests):
    """The calls of a synchronous post(): each one in the client's thread pool."""

    def __init__(self, base: str, http: httpx.Client, pool: ThreadPoolExecutor):
        super().__init__(base)
        self._http = http
        self._pool = pool

    def call(self, request: jina_pb2.DataRequestProto) -> jina_pb2.DataRequestProto:
        """One request's round trip, in the calling thread."""
        try:
            reply = self._http.post("/post", content=encode_json(request_to_json(request)), headers=_headers(request))
        except httpx.TransportError as err:
            raise _transport_error(self.url, err) from None
        return _reply_to_proto(reply, self.url)

    def send(self, request: jina_pb2.DataRequestProto, inbox: queue.SimpleQueue) -> None:
        self._track(request.header.request_id, self._pool.submit(self.call, request), inbox.put)


def _release(http: httpx.Client, pool: ThreadPoolExecutor) -> None:
    pool.shutdown(wait=False, cancel_futures=True)
    http.close()


class HTTPClient(PostingClient):
    """Synchronous client of a Flow's HTTP endpoint (what `Client(protocol='http')` returns).

    One `httpx.Client` (one keep-alive connection pool) serves every post(). A post() of one
    request, the usual case, sends it from the calling thread. A longer one sends up to
    `min(prefetch, HTTP_WORKERS)` requests at once from a small thread pool kept by the client:
    HTTP/1.1 answers one request per connection at a time, so only parallel connections overlap
    the gateway's work, and threads keep the calling code free of an event loop. The inputs are
    still pulled in the calling thread, one request ahead of the window, as over gRPC.
    """

    scheme = "http"

    def __init__(self, address: Address, *, prefetch: int | None = None, transport: ClientTransport | None = None):
        super().__init__(address, prefetch=prefetch, transport=transport)
        self._lock = threading.Lock()
        self._http: httpx.Client | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._finalizer: weakref.finalize | None = None

    def _connect(self) -> tuple[httpx.Client, ThreadPoolExecutor]:
        with self._lock:
            if self._http is None or self._pool is None:
                self._http = httpx.Client(
                    base_url=self.url,
                    timeout=_TIMEOUT,
                    limits=httpx.Limits(max_keepalive_connections=HTTP_WORKERS),
                    # like Jina's client: a proxy from the environment must not capture a local Flow
                    trust_env=False,
                    verify=self.transport.ssl_context(),
                    headers=self.transport.http_headers(),
                )
                self._pool = ThreadPoolExecutor(max_workers=HTTP_WORKERS, thread_name_prefix="jina-http-client")
                self._finalizer = weakref.finalize(self, _release, self._http, self._pool)
            return self._http, self._pool

    def _open(self) -> _PooledRequests:
        return _PooledRequests(self.url, *self._connect())

    def _exchange(
        self,
        connection: _PooledRequests,
        requests: Iterator[jina_pb2.DataRequestProto],
        window: int,
        results_in_order: bool,
        collector: ResultCollector,
        timeout: float | None = None,
    ) -> None:
        first = next(requests)
        second = next(requests, None)
        if second is None:
            # the usual post() of one request: no hand-off to the pool and back
            try:
                collector.add(connection.call(first))
            except FAILURES as err:
                collector.fail(err)
            return
        requests = itertools.chain((first, second), requests)
        super()._exchange(connection, requests, min(window, HTTP_WORKERS), results_in_order, collector, timeout)

    def _dry_run(self, timeout: float | None) -> jina_pb2.StatusProto:
        """Jina's `GET /dry_run`: an empty request through the whole Flow, answered with a status."""
        http, _ = self._connect()
        url = f"{self.url}/dry_run"
        try:
            reply = http.get("/dry_run", timeout=timeout)
        except httpx.TransportError as err:
            raise _transport_error(url, err) from None
        return _dry_run_status(reply, url)

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
        self._http = None
        self._pool = None


# -- asyncio ---------------------------------------------------------------------------------


class _TaskRequests(_Requests):
    """The calls of an asyncio post(): each one a task of the running loop."""

    def __init__(self, base: str, http: httpx.AsyncClient):
        super().__init__(base)
        self._http = http

    async def call(self, request: jina_pb2.DataRequestProto) -> jina_pb2.DataRequestProto:
        try:
            reply = await self._http.post(
                "/post", content=encode_json(request_to_json(request)), headers=_headers(request)
            )
        except httpx.TransportError as err:
            raise _transport_error(self.url, err) from None
        return _reply_to_proto(reply, self.url)

    async def send(self, request: jina_pb2.DataRequestProto, inbox: asyncio.Queue) -> None:
        self._track(request.header.request_id, asyncio.ensure_future(self.call(request)), inbox.put_nowait)


class AsyncHTTPClient(AsyncPostingClient):
    """Asynchronous client of a Flow's HTTP endpoint (`Client(protocol='http', asyncio=True)`).

    One `httpx.AsyncClient` serves every post(); it is made in the running event loop on first
    use, and again if the client is used from another loop. A post() keeps up to `prefetch`
    requests in flight as tasks (httpx opens as many pooled connections as they need).
    """

    scheme = "http"

    def __init__(self, address: Address, *, prefetch: int | None = None, transport: ClientTransport | None = None):
        super().__init__(address, prefetch=prefetch, transport=transport)
        self._http: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _connect(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._http is None or self._loop is not loop:
            # an AsyncClient's connections belong to the loop that opened them
            self._loop = loop
            self._http = httpx.AsyncClient(
                base_url=self.url,
                timeout=_TIMEOUT,
                trust_env=False,
                verify=self.transport.ssl_context(),
                headers=self.transport.http_headers(),
            )
        return self._http

    async def _open(self) -> _TaskRequests:
        return _TaskRequests(self.url, self._connect())

    async def _dry_run(self, timeout: float | None) -> jina_pb2.StatusProto:
        url = f"{self.url}/dry_run"
        try:
            reply = await self._connect().get("/dry_run", timeout=timeout)
        except httpx.TransportError as err:
            raise _transport_error(url, err) from None
        return _dry_run_status(reply, url)

    async def close(self) -> None:
        if self._http is not None:
            if self._loop is asyncio.get_running_loop():
                await self._http.aclose()
            self._http = None
