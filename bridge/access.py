"""The access token at the bridge's edge (rules: `jina.serve.access`): HTTP requests and WebSocket
handshakes without it get 401 with the one error shape and `WWW-Authenticate: Bearer`.

Open without it: the health route (`GET /`, what load balancers probe) and the API's description
(`/docs`, its assets, `/openapi.json`), which hold no data; Swagger UI's "Authorize" button then
adds the token to the calls it makes. It sits inside the CORS middleware, so a refusal still
carries CORS headers and a browser can read it, and a CORS preflight (which never carries
credentials) is answered before it.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import grpc
from jina_mesh.bridge.errors import HTTPError
from jina_mesh.bridge.websocket import refuse_handshake
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from jina.serve.access import REFUSAL, TokenCheck

#: (method, path) → whether it is open without the token
OpenRoute = Callable[[str, str], bool]


def unauthorized() -> HTTPError:
    return HTTPError(401, REFUSAL, grpc_status=grpc.StatusCode.UNAUTHENTICATED, headers={"WWW-Authenticate": "Bearer"})


class RequireToken:
    def __init__(self, app: ASGIApp, token: str, is_open: OpenRoute):
        self.app = app
        self._check = TokenCheck(token)
        self._is_open = is_open

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket") or self._check.accepts_headers(scope["headers"]):
            await self.app(scope, receive, send)
            return
        if kind == "http" and self._is_open(scope["method"], scope["path"]):
            await self.app(scope, receive, send)
            return
        error = unauthorized()
        if kind == "websocket":
            await refuse_handshake(WebSocket(scope, receive, send), error)
            return
        body = json.dumps(error.to_json()).encode()
        response = Response(body, status_code=401, headers=error.headers, media_type="application/json")
        await response(scope, receive, send)


def with_token(app: ASGIApp, token: str | None, is_open: OpenRoute) -> ASGIApp:
    """`app` behind the token check (unchanged without a token)."""
    return app if not token else RequireToken(app, token, is_open)
