"""The bridge's own paths, beside the gateway's route table: one row per kind of route (a router's
mounts, as in grpc-gateway's `mux.go`).

Rules:

* a request whose path is a mount's (or under it, for a `prefix` mount) and whose method the
  mount takes goes to that mount; everything else goes to the route table (`bridge/routes.py`);
* a mount that is not `enabled` by the config does not exist (its path is a 404, as any other);
* an `open` mount is served without the access token (`bridge/access.py`): it holds no data;
* a mount's `openapi` paths join `/openapi.json`.

A new kind of route (GraphQL) is one module with a `respond` and one row in MOUNTS.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from jina_mesh.bridge import docs_ui
from jina_mesh.bridge.config import BridgeConfig
from jina_mesh.bridge.gateway import GatewayLink
from jina_mesh.bridge.responses import json_response
from starlette.requests import Request
from starlette.responses import Response


class Host(Protocol):
    """What a mount may use of the bridge."""

    config: BridgeConfig
    link: GatewayLink | None

    def openapi_document(self) -> dict[str, Any]: ...


Respond = Callable[[Request, Host], Awaitable[Response | None]]

_READS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True)
class Mount:
    path: str
    respond: Respond
    #: methods taken (None: every method; the mount answers 405 itself)
    methods: frozenset[str] | None = _READS
    prefix: bool = False
    enabled: Callable[[BridgeConfig], bool] = lambda _config: True
    open: bool = False
    openapi: Callable[[], dict[str, Any]] | None = None

    def takes(self, verb: str, path: str) -> bool:
        if self.methods is not None and verb not in self.methods:
            return False
        return path == self.path or (self.prefix and path.startswith(self.path.rstrip("/") + "/"))


async def _openapi(request: Request, host: Host) -> Response:
    return json_response(host.openapi_document())


async def _docs(request: Request, host: Host) -> Response | None:
    return docs_ui.respond(request.url.path, title=host.config.title)


async def _graphql(request: Request, host: Host) -> Response:
    from jina_mesh.bridge import graphql  # strawberry is imported only when GraphQL is on

    assert host.link is not None
    return await graphql.respond(request, host.link, host.config)


def _graphql_paths() -> dict[str, Any]:
    from jina_mesh.bridge import graphql

    return graphql.openapi_paths()


MOUNTS: tuple[Mount, ...] = (
    Mount("/openapi.json", _openapi, open=True),
    Mount("/docs", _docs, prefix=True, open=True),
    Mount(
        "/graphql",
        _graphql,
        methods=None,
        enabled=lambda config: config.expose_graphql_endpoint,
        openapi=_graphql_paths,
    ),
)


def mounted(config: BridgeConfig) -> tuple[Mount, ...]:
    """The mounts this bridge serves."""
    return tuple(m for m in MOUNTS if m.enabled(config))


def find(mounts: tuple[Mount, ...], verb: str, path: str) -> Mount | None:
    return next((m for m in mounts if m.takes(verb, path)), None)
