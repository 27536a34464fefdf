"""The WebSocket clients: one persistent socket per client, requests pipelined over it as protobuf frames.

The socket is opened on first use at `ws://host:port/` offering Jina's sub-protocol `bytes`: each
request is one binary frame holding a serialized `DataRequestProto`, each response one too, and a
reader (thread or task) hands every response to the post() waiting for its request id, as the
gRPC client does with its stream. Several post() calls, from several threads or tasks, share the
socket. Closing the client sends Jina's one-byte end-of-input frame `b"\\x00"` before closing.

A socket closed by the gateway with code 1011 (it could not reach an executor) fails the posts
waiting on it with `InternalNetworkError`, any other close with `ConnectionError`; the next
post() opens a new socket.
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
import weakref
from typing import Any

from google.protobuf.message import DecodeError
from websockets.asyncio.client import ClientConnection as AsyncConnection
from websockets.asyncio.client import connect as async_connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as sync_connect
from websockets.typing import Subprotocol

from jina.clients.hosts import Address
from jina.clients.http import response_from_body
from jina.clients.posting import AsyncPostingClient, PostingClient, SharedConnection
from jina.clients.transport import ClientTransport, handshake_hint
from jina.excepts import BadClient, BadServer, InternalNetworkError
from jina.proto import jina_pb2
from jina.serve.options import message_limits
from jina.wire import END_OF_INPUT

#: Jina's sub-protocol for protobuf frames (its other one, `json`, is what browsers use)
SUBPROTOCOL = Subprotocol("bytes")
#: the close code a Jina gateway uses when it cannot reach an executor
GATEWAY_FAILURE = 1011


def connect_options(transport: ClientTransport | None = None, secure: bool = False) -> dict[str, Any]:
    """What both clients pass to `websockets`' connect()."""
    transport = transport or ClientTransport()
    receive_limit = transport.max_message_bytes or message_limits()[1]
    options: dict[str, Any] = {"ssl": transport.ssl_context()} if secure else {}
    headers = transport.http_headers()
    if headers:
        options["additional_headers"] = headers
    return options | {
        "subprotocols": [SUBPROTOCOL],
        # the same per-message limit as the gRPC channel's (-1: none)
        "max_size": None if receive_limit < 0 else receive_limit,
        # protobuf frames compress poorly, and Jina's client does not compress either
        "compression": None,
        # like Jina's client: a proxy from the environment must not capture a local Flow
        "proxy": None,
        "close_timeout": 2,
    }


def closed_error(url: str, exc: ConnectionClosed) -> ConnectionError:
    """What an unexpected close means for the posts waiting on the socket."""
    received = exc.rcvd
    if received is not None and received.code == GATEWAY_FAILURE:
        return InternalNetworkError(f"the gateway at {url} failed: {received.reason or 'internal error'}")
    return ConnectionError(f"the WebSocket to {url} closed: {exc}")


def open_error(url: str, err: BaseException) -> BadClient | ConnectionError:
    if isinstance(err, InvalidStatus) and err.response.status_code == 404:
        return BadClient(f"no WebSocket endpoint at {url} (HTTP 404)")
    hint = handshake_hint(url.startswith("wss:") and not isinstance(err, InvalidStatus))
    return ConnectionError(f"cannot open a WebSocket to {url}: {type(err).__name__}: {err}{hint}")


def decode_frame(message: bytes | str) -> jina_pb2.DataRequestProto:
    """A response frame: protobuf, or Jina's JSON when a gateway ignored the `bytes` sub-protocol."""
    if isinstance(message, str):
        try:
            body = json.loads(message)
        except ValueError:
            raise BadServer(f"the gateway sent a text frame that is not JSON: {message[:200]!r}") from None
        return response_from_body(body)
    try:
        return jina_pb2.DataRequestProto.FromString(message)
    except DecodeError:
        raise BadServer(f"the gateway sent a frame that is not a DataRequestProto ({len(message)} bytes)") from None


# -- synchronous -----------------------------------------------------------------------------


class _Socket(SharedConnection):
    """One open socket: requests sent from any thread, responses routed by request id by a reader thread."""

    def __init__(self, connection: ClientConnection, url: str):
        super().__init__()
        self._connection = connection
        self._url = url
        self._send_lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, name="jina-ws-client-reader", daemon=True)
        self._reader.start()

    @property
    def connection(self) -> ClientConnection:
        return self._connection

    def _read(self) -> None:
        error: BaseException
        try:
            while True:
                self._deliver(decode_frame(self._connection.recv()))
        except ConnectionClosed as exc:
            error = closed_error(self._url, exc)
        except BadServer as exc:
            error = ConnectionError(f"the WebSocket to {self._url} is unusable: {exc}")
            self._connection.close()
        except Exception as exc:  # any other failure of the socket must still wake the waiting posts
            error = ConnectionError(f"the WebSocket to {self._url} failed: {type(exc).__name__}: {exc}")
            self._connection.close()
        self._break(error)

    def send(self, request: jina_pb2.DataRequestProto, inbox: queue.SimpleQueue) -> None:
        self._expect(request, inbox)
        frame = request.SerializeToString()
        try:
            with self._send_lock:
                self._connection.send(frame)
        except ConnectionClosed as exc:
            # the reader sees the same close; its error (e.g. 1011) is the one to report
            self._reader.join(timeout=2.0)
            raise self.broken or closed_error(self._url, exc) from None

    def close(self) -> None:
        try:
            with self._send_lock:
                self._connection.send(END_OF_INPUT)
        except ConnectionClosed:
            pass  # already closed: nothing to end
        self._connection.__exit__(None, None, None)
        self._reader.join(timeout=2.0)


def _release(sockets: list[_Socket]) -> None:
    for socket in sockets:
        socket.close()


class WebSocketClient(PostingClient):
    """Synchronous client of a Flow's WebSocket endpoint (what `Client(protocol='websocket')` returns)."""

    scheme = "ws"

    def __init__(self, address: Address, *, prefetch: int | None = None, transport: ClientTransport | None = None):
        super().__init__(address, prefetch=prefetch, transport=transport)
        self._lock = threading.Lock()
        self._sockets: list[_Socket] = []  # the current socket is the last one
        self._finalizer = weakref.finalize(self, _release, self._sockets)

    def _open(self) -> _Socket:
        with self._lock:
            if not self._sockets or self._sockets[-1].broken is not None:
                for old in self._sockets:
                    old.close()
                self._sockets.clear()
                url = f"{self.url}/"
                try:
                    connection = sync_connect(url, **connect_options(self.transport, self.address.tls))
                except (OSError, TimeoutError, WebSocketException) as err:
                    raise open_error(url, err) from None
                # entered as its context manager, which the socket's close() exits: the form
                # websockets 17 wants for a connection kept open (a bare connect() is deprecated)
                self._sockets.append(_Socket(connection.__enter__(), url))
            return self._sockets[-1]

    def _dry_run(self, timeout: float | None) -> jina_pb2.StatusProto:
        """Jina's WebSocket `/dry_run`: an empty request through the whole Flow, answered with a status."""
        url = f"{self.url}/dry_run"
        try:
            with sync_connect(
                url, open_timeout=timeout, **connect_options(self.transport, self.address.tls)
            ) as connection:
                connection.send(b"")
                frame = connection.recv(timeout=timeout)
        except ConnectionClosed as exc:
            raise closed_error(url, exc) from None
        except (OSError, TimeoutError, WebSocketException) as err:
            raise open_error(url, err) from None
        return _status_from_frame(frame, url)

    def close(self) -> None:
        self._finalizer()
        self._sockets = []
        self._finalizer = weakref.finalize(self, _release, self._sockets)


def _status_from_frame(frame: bytes | str, url: str) -> jina_pb2.StatusProto:
    if isinstance(frame, str):
        frame = frame.encode()
    try:
        return jina_pb2.StatusProto.FromString(frame)
    except DecodeError:
        raise BadServer(f"{url} answered with something that is not a status") from None


# -- asyncio ---------------------------------------------------------------------------------


class _AsyncSocket(SharedConnection):
    def __init__(self, connection: AsyncConnection, url: str):
        super().__init__()
        self._connection = connection
        self._url = url
        self._reader = asyncio.ensure_future(self._read())

    @property
    def connection(self) -> AsyncConnection:
        return self._connection

    async def _read(self) -> None:
        error: BaseException
        try:
            while True:
                self._deliver(decode_frame(await self._connection.recv()))
        except ConnectionClosed as exc:
            error = closed_error(self._url, exc)
        except asyncio.CancelledError:
            error = ConnectionError("the client was closed")
        except BadServer as exc:
            error = ConnectionError(f"the WebSocket to {self._url} is unusable: {exc}")
            await self._connection.close()
        except Exception as exc:  # any other failure of the socket must still wake the waiting posts
            error = ConnectionError(f"the WebSocket to {self._url} failed: {type(exc).__name__}: {exc}")
            await self._connection.close()
        self._break(error)

    async def send(self, request: jina_pb2.DataRequestProto, inbox: asyncio.Queue) -> None:
        self._expect(request, inbox)
        try:
            await self._connection.send(request.SerializeToString())
        except ConnectionClosed as exc:
            # the reader sees the same close; its error (e.g. 1011) is the one to report
            await asyncio.wait([self._reader], timeout=2.0)
            raise self.broken or closed_error(self._url, exc) from None

    async def close(self) -> None:
        try:
            await self._connection.send(END_OF_INPUT)
        except ConnectionClosed:
            pass  # already closed: nothing to end
        await self._connection.close()
        await asyncio.wait([self._reader], timeout=2.0)
        self._reader.cancel()


class AsyncWebSocketClient(AsyncPostingClient):
    """Asynchronous client of a Flow's WebSocket endpoint (`Client(protocol='websocket', asyncio=True)`).

    Like the synchronous one it keeps one socket for every post(), made in the running event
    loop on first use (and again if the client is used from another loop).
    """

    scheme = "ws"

    def __init__(self, address: Address, *, prefetch: int | None = None, transport: ClientTransport | None = None):
        super().__init__(address, prefetch=prefetch, transport=transport)
        self._socket: _AsyncSocket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: asyncio.Lock | None = None

    async def _open(self) -> _AsyncSocket:
        loop = asyncio.get_running_loop()
        if self._loop is not loop or self._opening is None:
            # a socket belongs to the loop it was opened in; a new loop needs a new one
            self._loop = loop
            self._socket = None
            self._opening = asyncio.Lock()
        async with self._opening:  # concurrent first posts open one socket, not one each
            if self._socket is None or self._socket.broken is not None:
                if self._socket is not None:
                    await self._socket.close()
                url = f"{self.url}/"
                try:
                    connection = await async_connect(url, **connect_options(self.transport, self.address.tls))
                except (OSError, TimeoutError, WebSocketException) as err:
                    raise open_error(url, err) from None
                self._socket = _AsyncSocket(connection, url)
            return self._socket

    async def _dry_run(self, timeout: float | None) -> jina_pb2.StatusProto:
        url = f"{self.url}/dry_run"
        try:
            async with async_connect(
                url, open_timeout=timeout, **connect_options(self.transport, self.address.tls)
            ) as connection:
                await connection.send(b"")
                frame = await asyncio.wait_for(connection.recv(), timeout)
        except ConnectionClosed as exc:
            raise closed_error(url, exc) from None
        except (OSError, TimeoutError, WebSocketException) as err:
            raise open_error(url, err) from None
        return _status_from_frame(frame, url)

    async def close(self) -> None:
        socket, self._socket = self._socket, None
        if socket is not None and self._loop is asyncio.get_running_loop():
            await socket.close()
