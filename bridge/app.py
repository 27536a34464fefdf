"""The bridge as an ASGI application: HTTP routes and the WebSocket, transcoded onto the gateway."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import grpc
from jina_mesh.bridge import mounts, openapi
from jina_mesh.bridge.access import with_token
from jina_mesh.bridge.bodies import ClientGone, read_body
from jina_mesh.bridge.config import BridgeConfig
from jina_mesh.bridge.descriptors import MessageTypes, compiled_files, http_bindings, load_files
from jina_mesh.bridge.errors import HTTPError
from jina_mesh.bridge.gateway import GatewayLink
from jina_mesh.bridge.origins import with_cors
from jina_mesh.bridge.responses import error_response, json_response
from jina_mesh.bridge.routes import NoRoute, Route, RouteTable, build_routes
from jina_mesh.bridge.transcode import build_message, render_message
from jina_mesh.bridge.websocket import serve_websocket
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from jina.httpjson import BodyError, JsonError, failed_request_json, loads, request_from_json, response_to_json
from jina.proto import jina_pb2
from jina.serve import grpc_timeout
from jina.serve.compression import parse_compression
from jina.serve.grpc_timeout import bound_deadline
from jina.serve.net import wait_listening
from jina.serve.sanitize import sanitize
from jina.wire import NETWORK_ERROR, describe_error

_logger = logging.getLogger("jina.bridge")

_JSON_TYPES = ("application/json", "text/json")
#: seconds past a request's deadline the bridge waits for the gateway's own deadline error
ANSWER_GRACE = 1.0
#: seconds between attempts to connect to a gateway that is not there
RECONNECT_POLL = 0.5


async def _unless_the_client_leaves(request: Request, call: grpc.aio.UnaryUnaryCall) -> Any:
    """The call's answer; a client that disconnects first cancels the call, and with it the work in
    the gateway and the executors (raises ClientGone: there is nobody to answer)."""
    answer = asyncio.ensure_future(call)
    left = asyncio.ensure_future(_disconnect(request))
    try:
        await asyncio.wait({answer, left}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        left.cancel()
    if not answer.done():
        call.cancel()
        answer.cancel()
        raise ClientGone
    return answer.result()


async def _disconnect(request: Request) -> None:
    """Returns when the client has gone (the body has been read: the next ASGI message is the disconnect)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass


def _deadline(request: Request) -> float | None:
    """Seconds the caller gives the request (its `Grpc-Timeout` header), or None; 400 if malformed."""
    value = request.headers.get(grpc_timeout.HEADER)
    if value is None:
        return None
    try:
        return grpc_timeout.parse(value)
    except grpc_timeout.BadTimeout as exc:
        raise HTTPError(400, str(exc)) from None


def _check_json_type(request: Request) -> None:
    """415 unless the body is declared JSON (a body without a content-type is read as JSON too)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in _JSON_TYPES and not content_type.endswith("+json"):
        raise HTTPError(415, f"send JSON (content-type: application/json), not {content_type}")


class Bridge:
    """State shared by every request: the gateway link and the route table built from its protos."""

    def __init__(self, config: BridgeConfig):
        self.config = config
        self.link: GatewayLink | None = None
        self.table: RouteTable = build_routes(config, [])
        self.types: MessageTypes | None = None
        self.descriptor_source = "none"
        self._watcher: asyncio.Task | None = None
        self._openapi: dict | None = None
        self.mounts = mounts.mounted(config)

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self.link = GatewayLink(
            self.config.gateway, parse_compression(self.config.compression), token=self.config.access_token
        )
        # the gateway usually starts next to the bridge: wait for it before the first gRPC call
        if await wait_listening(self.config.gateway, self.config.descriptor_timeout):
            await self.load_routes(self.config.descriptor_timeout)
        else:
            # Not up (started later, as containers may be): serve Jina's own routes now, answer
            # 503 on the health route, and read the gateway's routes once it is there.
            _logger.info("gateway %s does not listen yet; its routes are read when it does", self.config.gateway)
            self._use_files(compiled_files(), "compiled")
        self._watcher = asyncio.ensure_future(self._reload_on_reconnect())

    async def load_routes(self, timeout: float) -> None:
        assert self.link is not None
        self._use_files(*await load_files(self.link.channel, timeout))

    def _use_files(self, files: list, source: str) -> None:
        self.types = MessageTypes(files)
        self.table = build_routes(self.config, http_bindings(files))
        self.descriptor_source = source
        self._openapi = None
        _logger.info("routes from %s descriptors: %s", source, self.table.describe())

    async def _reload_on_reconnect(self) -> None:
        """Read the gateway's descriptors again whenever the channel becomes ready after a break.

        While not connected, the channel is asked to connect every RECONNECT_POLL seconds: the
        gateway's routes then arrive as soon as it is up, whether or not HTTP traffic comes.
        """
        assert self.link is not None
        channel = self.link.channel
        ready = grpc.ChannelConnectivity.READY
        previous = channel.get_state(try_to_connect=False)
        while True:
            state = channel.get_state(try_to_connect=True)
            if state == ready and previous != ready:
                try:
                    await self.load_routes(self.config.descriptor_timeout)
                except Exception:  # never let a reload failure stop the bridge
                    _logger.exception("reloading the gateway's descriptors failed")
            previous = state
            try:
                await asyncio.wait_for(channel.wait_for_state_change(state), None if state == ready else RECONNECT_POLL)
            except asyncio.TimeoutError:
                pass

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
        if self.link is not None:
            await self.link.close()

    # -- HTTP -------------------------------------------------------------------------------

    async def handle_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            response = await self._respond(request)
        except HTTPError as error:
            response = error_response(error)
        except ClientGone:
            return
        except Exception as exc:  # a bug must cost one request, never the bridge
            _logger.exception("unexpected error on %s %s", request.method, request.url.path)
            response = error_response(HTTPError(500, f"internal error in the bridge: {type(exc).__name__}"))
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        path, verb = request.url.path, request.method
        mount = mounts.find(self.mounts, verb, path)
        if mount is not None:
            answer = await mount.respond(request, self)
            if answer is not None:
                return answer
        try:
            route, bound = self.table.match(verb, path)
        except NoRoute as missing:
            if missing.allowed:
                raise HTTPError(
                    405,
                    f"{verb} is not allowed on {path}; use {', '.join(missing.allowed)}",
                    headers={"Allow": ", ".join(missing.allowed)},
                ) from None
            raise HTTPError(404, f"no route for {verb} {path}; see /docs for the routes") from None
        if route.kind == "health":
            return await self._health()
        deadline = _deadline(request)
        raw = await self._read_body(request) if route.body else b""
        if route.kind == "jina":
            body = self._json(raw, request, self.config.max_json_depth)
            return await self._jina(route, body, deadline, request)
        return await self._rpc(route, bound, raw, request, deadline)

    def is_open(self, verb: str, path: str) -> bool:
        """Served without the access token (`bridge/access.py`): the health route, open mounts."""
        mount = mounts.find(self.mounts, verb, path)
        if mount is not None:
            return mount.open
        if verb not in ("GET", "HEAD"):
            return False
        try:
            route, _ = self.table.match(verb, path)
        except NoRoute:
            return False
        return route.kind == "health"

    def openapi_document(self) -> dict[str, Any]:
        if self._openapi is None:
            extra = [m.openapi() for m in self.mounts if m.openapi is not None]
            self._openapi = openapi.build(self.config, self.table, self.types, self.descriptor_source, extra)
        return self._openapi

    async def _read_body(self, request: Request) -> bytes:
        return await read_body(request, self.config.max_body_bytes)

    @staticmethod
    def _json(raw: bytes, request: Request, max_depth: int) -> Any:
        _check_json_type(request)
        if not raw.strip():
            return None
        try:
            return loads(raw, max_depth)
        except JsonError as exc:
            raise HTTPError(400, f"the body {exc}") from None

    async def _health(self) -> Response:
        assert self.link is not None
        serving, said = await self.link.serving()
        if not serving:
            where = f" at {self.config.gateway}" if self.config.debug else ""
            raise HTTPError(503, f"the gateway{where} is not serving: {sanitize(said, debug=self.config.debug)}")
        return json_response({})

    def _grpc_error(self, err: grpc.aio.AioRpcError) -> HTTPError:
        return HTTPError.from_grpc(
            err.code(), err.details() or "", debug=self.config.debug, trailing_metadata=err.trailing_metadata()
        )

    async def _jina(self, route: Route, body: Any, deadline: float | None, request: Request) -> Response:
        assert self.link is not None
        try:
            data_request = request_from_json(body, route.exec_endpoint)
        except BodyError as exc:
            raise HTTPError.unprocessable(exc.location, exc.message) from None
        # the gateway answers by the deadline (with its error if it must); the call waits a little
        # longer for that answer, so that the caller learns which executor was late
        bound_deadline(data_request, grpc_timeout.to_milliseconds(deadline) if deadline else None)
        try:
            call = self.link.process(data_request, timeout=deadline and deadline + ANSWER_GRACE)
            response = await _unless_the_client_leaves(request, call)
        except grpc.aio.AioRpcError as err:
            error = self._grpc_error(err)
            name = NETWORK_ERROR if error.status in (503, 504) else err.code().name
            error.body = failed_request_json(data_request, name, error.message)
            raise error from None
        rendered = response_to_json(response, with_stacks=self.config.debug)
        if response.header.status.code == jina_pb2.StatusProto.ERROR:
            name = response.header.status.exception.name
            status = 503 if name == NETWORK_ERROR else 500
            raise HTTPError(
                status,
                describe_error(response.header.status),
                grpc_status=grpc.StatusCode.UNAVAILABLE if status == 503 else grpc.StatusCode.UNKNOWN,
                body=rendered,
            )
        return json_response(rendered)

    async def _rpc(
        self, route: Route, bound: dict[str, str], raw: bytes, request: Request, deadline: float | None
    ) -> Response:
        assert self.link is not None and self.types is not None and route.rpc is not None
        request_cls = self.types.get(route.rpc.input_type)
        response_cls = self.types.get(route.rpc.output_type)
        if raw:
            _check_json_type(request)
        message = build_message(
            request_cls,
            body=route.body,
            raw_body=raw,
            path_values=bound,
            query=list(request.query_params.multi_items()),
            max_depth=self.config.max_json_depth,
        )
        try:
            reply = await self.link.unary(route.rpc.path, request_cls, response_cls)(message, timeout=deadline)
        except grpc.aio.AioRpcError as err:
            raise self._grpc_error(err) from None
        return json_response(render_message(reply, route.response_body))


class BridgeApp:
    """ASGI entry point: lifespan starts/stops the Bridge; HTTP and WebSocket go to it."""

    def __init__(self, config: BridgeConfig):
        self.bridge = Bridge(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self.bridge.handle_http(scope, receive, send)
        elif kind == "websocket":
            await serve_websocket(self.bridge.link, scope, receive, send, config=self.bridge.config)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.bridge.start()
                except Exception as exc:
                    await send({"type": "lifespan.startup.failed", "message": f"{type(exc).__name__}: {exc}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.bridge.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(config: BridgeConfig):
    app = BridgeApp(config)
    return with_cors(with_token(app, config.access_token, app.bridge.is_open), config.cors), app
