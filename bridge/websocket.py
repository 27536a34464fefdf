"""Jina's WebSocket protocol at `/`, onto one gateway `JinaRPC.Call` stream per connection.

Sub-protocol `json` (the default): each text frame is a `/post`-shaped JSON object, answered by
a text frame of Jina's response JSON; `{}` ends the input. Sub-protocol `bytes`: each binary
frame is a serialized DataRequestProto, answered by one; the one-byte frame `b"\\x00"` ends
the input. Requests and responses flow independently (full duplex, matched by request id), so
the gateway's prefetch limit, which applies per stream and therefore per connection, only slows
reading and can never deadlock the answers (Jina #4990). A frame the bridge cannot read gets an
error frame in-band; the connection goes on. A gateway failure closes the socket with 1011 and a
reason of at most 123 bytes (RFC 6455 §5.5); a client leaving at any time cancels its stream.
A handshake from a browser origin that `cors` does not allow is refused with HTTP 403 (`origins`).
"""

from __future__ import annotations

import asyncio
import json
import logging

import grpc
from google.protobuf import empty_pb2
from google.protobuf.message import DecodeError
from jina_mesh.bridge.config import BridgeConfig
from jina_mesh.bridge.errors import HTTPError
from jina_mesh.bridge.gateway import GatewayLink
from jina_mesh.bridge.origins import websocket_refusal
from starlette.responses import Response
from starlette.websockets import WebSocket, WebSocketDisconnect

from jina.httpjson import DEFAULT_MAX_JSON_DEPTH, BodyError, JsonError, loads, request_from_json, response_to_json
from jina.proto import jina_pb2
from jina.serve import grpc_timeout
from jina.serve.grpc_timeout import bound_deadline
from jina.serve.sanitize import sanitize
from jina.wire import DRY_RUN, END_OF_INPUT, NETWORK_ERROR, PREFETCH_KEY, error_status

_logger = logging.getLogger("jina.bridge")

#: RFC 6455 §5.5: a close frame's payload is at most 125 bytes, 2 of which hold the code
MAX_CLOSE_REASON = 123


def close_reason(text: str) -> str:
    """Cut to 123 UTF-8 bytes without splitting a character."""
    data = text.encode()
    if len(data) <= MAX_CLOSE_REASON:
        return text
    return data[: MAX_CLOSE_REASON - 3].decode(errors="ignore") + "..."


class _Connection:
    def __init__(
        self,
        websocket: WebSocket,
        mode: str,
        with_stacks: bool,
        max_json_depth: int = DEFAULT_MAX_JSON_DEPTH,
        timeout_ms: int | None = None,
    ):
        self.with_stacks = with_stacks
        #: the connection's deadline for each request (from its handshake's Grpc-Timeout), if any
        self.timeout_ms = timeout_ms
        #: requests in flight that carry a deadline: past it, such a request fails alone
        self.deadlined: set[str] = set()
        self.max_json_depth = max_json_depth
        self.websocket = websocket
        self.mode = mode
        self._send_lock = asyncio.Lock()

    async def send_frame(self, payload: bytes | str) -> None:
        async with self._send_lock:
            if isinstance(payload, bytes):
                await self.websocket.send_bytes(payload)
            else:
                await self.websocket.send_text(payload)

    async def send_error(self, error: HTTPError, request_id: str = "") -> None:
        if self.mode == "json":
            await self.send_frame(json.dumps(error.to_json()))
            return
        response = jina_pb2.DataRequestProto()
        response.header.request_id = request_id
        error_status(response.header.status, name="BadRequest", description=error.message, args=[error.message])
        await self.send_frame(response.SerializeToString())

    def to_request(self, message: dict) -> bytes | None:
        """The gRPC message for a client frame; None for end-of-input. Raises HTTPError."""
        if self.mode == "json":
            text = message.get("text")
            if text is None:
                raise HTTPError(400, "this connection speaks the `json` sub-protocol: send text frames")
            try:
                body = loads(text, self.max_json_depth)
            except JsonError as exc:
                raise HTTPError(400, f"the frame {exc}") from None
            if body == {}:
                return None
            try:
                request = request_from_json(body)
            except BodyError as exc:
                raise HTTPError.unprocessable(exc.location, exc.message) from None
            bound_deadline(request, self.timeout_ms)
            self._note_deadline(request)
            return request.SerializeToString()
        data = message.get("bytes")
        if data is None:
            raise HTTPError(400, "this connection speaks the `bytes` sub-protocol: send binary frames")
        if data == END_OF_INPUT:
            return None
        try:
            request = jina_pb2.DataRequestProto.FromString(data)  # refuse garbage here, not on the shared stream
        except DecodeError:
            raise HTTPError(400, "the frame is not a serialized jina.DataRequestProto") from None
        # a frame's own deadline stands when it is the earlier one
        changed = bound_deadline(request, self.timeout_ms)
        self._note_deadline(request)
        return request.SerializeToString() if changed else data

    def _note_deadline(self, request: jina_pb2.DataRequestProto) -> None:
        if request.header.timeout:
            self.deadlined.add(request.header.request_id)

    def ends_socket(self, header: jina_pb2.HeaderProto) -> bool:
        """Whether this answer's error ends the socket: the gateway could not reach an executor (as
        Jina closes, with 1011), unless the request ran out of its own deadline (it fails alone)."""
        had_deadline = header.request_id in self.deadlined
        self.deadlined.discard(header.request_id)
        status = header.status
        if status.code != jina_pb2.StatusProto.ERROR or status.exception.name != NETWORK_ERROR:
            return False
        return not (had_deadline and "DEADLINE_EXCEEDED" in status.exception.args)

    def to_frame(self, response: bytes) -> bytes | str:
        if self.mode == "bytes":
            return response
        parsed = jina_pb2.DataRequestProto.FromString(response)
        return json.dumps(response_to_json(parsed, with_stacks=self.with_stacks))


async def _pump_requests(connection: _Connection, call) -> None:
    """Client frames → the gateway stream, until end-of-input or the client leaves."""
    websocket = connection.websocket
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        try:
            request = connection.to_request(message)
        except HTTPError as error:
            await connection.send_error(error)
            continue
        try:
            if request is None:
                await call.done_writing()
                return
            await call.write(request)
        except (asyncio.InvalidStateError, grpc.aio.AioRpcError):
            # the call ended under us (the gateway went away): the answers' side closes with 1011
            return


def _handshake_timeout_ms(websocket: WebSocket) -> int | None:
    """The connection's deadline per request: the handshake's Grpc-Timeout header, or its
    `?grpc-timeout=` query parameter (browsers cannot set WebSocket headers). BadTimeout if malformed."""
    value = websocket.headers.get(grpc_timeout.HEADER) or websocket.query_params.get(grpc_timeout.QUERY_PARAMETER)
    return grpc_timeout.to_milliseconds(grpc_timeout.parse(value)) if value else None


async def _serve_data(link: GatewayLink | None, websocket: WebSocket, with_stacks: bool, max_json_depth: int) -> None:
    try:
        timeout_ms = _handshake_timeout_ms(websocket)
    except grpc_timeout.BadTimeout as exc:
        await refuse_handshake(websocket, HTTPError(400, str(exc)))
        return
    offered = websocket.scope.get("subprotocols") or []
    mode = "bytes" if "bytes" in offered else "json"
    await websocket.accept(subprotocol=mode if mode in offered else None)
    connection = _Connection(websocket, mode, with_stacks, max_json_depth, timeout_ms)
    assert link is not None
    metadata = []
    prefetch = websocket.query_params.get("prefetch")
    if prefetch and prefetch.isdigit():
        metadata.append((PREFETCH_KEY, prefetch))
    call = link.raw_call(metadata=metadata or None)
    reader = asyncio.ensure_future(_pump_requests(connection, call))
    answers = asyncio.ensure_future(_pump_answers(connection, call))
    try:
        done, _ = await asyncio.wait({reader, answers}, return_when=asyncio.FIRST_COMPLETED)
        if reader in done and reader.exception() is None:
            # end of input (or the call ended under the reader): the rest of the answers, then the close
            await asyncio.wait({answers})
        failed = answers.exception() if answers.done() else None
        if failed is None and reader.done() and not reader.cancelled():
            failed = reader.exception()  # a write the gateway refused: it is gone (or was never there)
        if answers.done() and answers.exception() is None:
            await websocket.close(1000)
        elif isinstance(failed, grpc.aio.AioRpcError):
            err = failed
            if err.code() != grpc.StatusCode.CANCELLED:
                details = sanitize(err.details() or "", debug=with_stacks)
                await websocket.close(1011, close_reason(f"gateway error: {err.code().name}: {details}".rstrip(": ")))
        elif answers.done() and isinstance(answers.exception(), GatewayFailure):
            await websocket.close(1011, close_reason(sanitize(str(answers.exception()), debug=with_stacks)))
        # otherwise the client left (the reader failed): nothing to send, just let go below
    except (WebSocketDisconnect, RuntimeError, OSError, grpc.aio.AioRpcError):
        pass  # the client left while answers were being sent
    finally:
        call.cancel()  # the gateway stops working for a client that is gone
        for task in (reader, answers):
            task.cancel()
        for task in (reader, answers):
            try:
                await task
            except (
                asyncio.CancelledError,
                WebSocketDisconnect,
                grpc.aio.AioRpcError,
                GatewayFailure,
                RuntimeError,
                OSError,
            ):
                pass


class GatewayFailure(Exception):
    """The gateway could not reach an executor (or it timed out): the socket closes with 1011."""


async def _pump_answers(connection: _Connection, call) -> None:
    """Gateway answers → client frames, until the gateway ends the stream."""
    async for response in call:
        await connection.send_frame(connection.to_frame(response))
        header = jina_pb2.DataRequestProtoWoData.FromString(response).header
        if connection.ends_socket(header):
            raise GatewayFailure(header.status.description)


async def _serve_dry_run(link: GatewayLink | None, websocket: WebSocket, debug: bool = False) -> None:
    """Jina's `/dry_run` socket: any frame is answered with the gateway's dry-run StatusProto."""
    await websocket.accept()
    assert link is not None
    call = link.unary(DRY_RUN, empty_pb2.Empty, jina_pb2.StatusProto)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            try:
                status = await call(empty_pb2.Empty())
            except grpc.aio.AioRpcError as err:
                description = sanitize(err.details() or "", debug=debug)
                status = jina_pb2.StatusProto(code=jina_pb2.StatusProto.ERROR, description=description)
            await websocket.send_bytes(status.SerializeToString())
    except (WebSocketDisconnect, RuntimeError, OSError):
        return


async def refuse_handshake(websocket: WebSocket, error: HTTPError) -> None:
    """Refuse the handshake: `error` as an HTTP response with the one error shape where the server can
    send one (uvicorn's denial-response extension), else close code 1008 (policy violation)."""
    if "websocket.http.response" in websocket.scope.get("extensions", {}):
        body = json.dumps(error.to_json()).encode()
        response = Response(body, status_code=error.status, headers=error.headers, media_type="application/json")
        await websocket.send_denial_response(response)
        return
    await websocket.accept()
    await websocket.close(1008, close_reason(error.message))


async def serve_websocket(link: GatewayLink | None, scope, receive, send, *, config: BridgeConfig) -> None:
    """One WebSocket connection, onto the gateway behind `link` (None until the bridge started: the
    connection then fails, and is logged), from an origin `config.cors` allows (`origins`)."""
    websocket = WebSocket(scope, receive, send)
    path = scope.get("path", "/")
    try:
        refusal = websocket_refusal(config.cors, websocket.headers.get("origin"), websocket.headers.get("host", ""))
        if refusal is not None:
            _logger.info("%s", refusal)
            await refuse_handshake(websocket, HTTPError(403, refusal, grpc_status=grpc.StatusCode.PERMISSION_DENIED))
        elif path == "/":
            await _serve_data(link, websocket, config.debug, config.max_json_depth)
        elif path == "/dry_run":
            await _serve_dry_run(link, websocket, config.debug)
        else:
            await websocket.close(1008)  # refuses the handshake: there is no such socket
    except Exception:  # whatever a client does, the bridge stays up
        _logger.exception("WebSocket connection failed")
