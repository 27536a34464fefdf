"""The bridge's route table: annotated RPCs, Jina's CRUD and custom endpoints, and the health route.

Groups (what `no_debug_endpoints` / `no_crud_endpoints` hide):

* `debug`: every RPC with a `google.api.http` annotation (`GET /status`, `GET /dry_run`,
  `GET /endpoints`, `POST /post`, and whatever the gateway's protos annotate next);
* `crud`: `POST /index`, `POST /search`, `PUT /update`, `DELETE /delete`, each calling the
  Executor endpoint of the same name;
* `custom`: the exposed Executor endpoints;
* `health`: `GET /`, always there.

The data RPC (`process_single_data`) and the CRUD and custom routes use Jina's JSON marshaler
(`kind='jina'`); other annotated RPCs use the generic google.api.http mapping (`kind='rpc'`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jina_mesh.bridge.config import BridgeConfig, ConfigError
from jina_mesh.bridge.descriptors import HttpBinding, RpcMethod
from jina_mesh.bridge.templates import PathTemplate

from jina.proto import jina_pb2
from jina.wire import PROCESS_SINGLE_DATA, split_path

HEALTH_PATH = "/"

CRUD = (("POST", "/index"), ("POST", "/search"), ("PUT", "/update"), ("DELETE", "/delete"))

# OpenAPI wording of Jina's default routes
_DEBUG_DOCS = {
    "/status": ("Get the status of Jina service", ["Debug"]),
    "/dry_run": (
        "Get the readiness of Jina Flow service, sends an empty DocumentArray to the complete Flow to validate "
        "connectivity",
        ["Debug"],
    ),
    "/post": ("Post a data request to some endpoint", ["Debug"]),
    "/endpoints": ("List the Executor endpoints the Flow binds", ["Debug"]),
}


@dataclass(frozen=True)
class Route:
    verb: str
    template: PathTemplate
    kind: str  # "jina" | "rpc" | "health"
    group: str  # "debug" | "crud" | "custom" | "health"
    rpc: RpcMethod | None = None
    body: str = ""
    response_body: str = ""
    #: for Jina routes: the Executor endpoint called (None: taken from the request body)
    exec_endpoint: str | None = None
    openapi: dict = field(default_factory=dict, compare=False)

    @property
    def path(self) -> str:
        return self.template.template


class NoRoute(LookupError):
    """No route has this path (404), or none has this path with this method (405, `allowed`)."""

    def __init__(self, allowed: tuple[str, ...] = ()):
        super().__init__()
        self.allowed = allowed


class RouteTable:
    def __init__(self, routes: list[Route]):
        self.routes = routes
        seen: set[tuple[str, str]] = set()
        for route in routes:
            key = (route.verb, route.template.template)
            if key in seen:
                raise ConfigError(f"two routes for {route.verb} {route.template.template}")
            seen.add(key)

    def match(self, verb: str, path: str) -> tuple[Route, dict[str, str]]:
        allowed: list[str] = []
        for route in self.routes:
            bound = route.template.match(path)
            if bound is None:
                continue
            if route.verb == verb or (verb == "HEAD" and route.verb == "GET"):
                return route, bound
            allowed.append(route.verb)
        raise NoRoute(tuple(dict.fromkeys(allowed)))

    def describe(self) -> list[tuple[str, str, str]]:
        """(verb, path, what it calls) per route: what `jina bridge` prints and tests compare."""
        out = []
        for route in self.routes:
            if route.kind == "health":
                target = "gRPC health"
            elif route.exec_endpoint is not None:
                target = f"executor endpoint {route.exec_endpoint}"
            else:
                target = route.rpc.path if route.rpc else ""
            out.append((route.verb, route.path, target))
        return out


def build_routes(config: BridgeConfig, bindings: list[HttpBinding]) -> RouteTable:
    routes: list[Route] = []
    if not config.no_debug_endpoints:
        for binding in bindings:
            if binding.rpc.client_streaming or binding.rpc.server_streaming:
                continue  # HTTP/1 request-response only; streams are the WebSocket's job
            summary, tags = _DEBUG_DOCS.get(binding.template, (f"{binding.rpc.service}.{binding.rpc.name}", ["Debug"]))
            routes.append(
                Route(
                    verb=binding.verb,
                    template=PathTemplate.parse(binding.template),
                    kind="jina" if binding.rpc.path == PROCESS_SINGLE_DATA else "rpc",
                    group="debug",
                    rpc=binding.rpc,
                    body=binding.body,
                    response_body=binding.response_body,
                    openapi={"summary": summary, "tags": tags},
                )
            )
    data_request = jina_pb2.DataRequestProto.DESCRIPTOR.full_name
    data_rpc = RpcMethod(*split_path(PROCESS_SINGLE_DATA), data_request, data_request)
    if not config.no_crud_endpoints:
        for verb, path in CRUD:
            routes.append(
                Route(
                    verb=verb,
                    template=PathTemplate.parse(path),
                    kind="jina",
                    group="crud",
                    rpc=data_rpc,
                    body="*",
                    exec_endpoint=path,
                    openapi={
                        "summary": path.title(),
                        "tags": ["CRUD"],
                        "description": f'Executors with `@requests(on="{path}")` will respond.',
                    },
                )
            )
    for exposed in config.expose_endpoints:
        for verb in exposed.methods:
            routes.append(
                Route(
                    verb=verb,
                    template=PathTemplate.parse(exposed.path),
                    kind="jina",
                    group="custom",
                    rpc=data_rpc,
                    body="*",
                    exec_endpoint=exposed.exec_endpoint,
                    openapi={
                        "summary": exposed.summary or exposed.exec_endpoint,
                        "description": exposed.description,
                        "tags": list(exposed.tags),
                        "deprecated": exposed.deprecated,
                        "operationId": exposed.operation_id,
                        "responseDescription": exposed.response_description,
                        "includeInSchema": exposed.include_in_schema,
                        "statusCode": exposed.status_code,
                    },
                )
            )
    if not any(r.verb == "GET" and r.template.template == HEALTH_PATH for r in routes):
        routes.append(
            Route(
                verb="GET",
                template=PathTemplate.parse(HEALTH_PATH),
                kind="health",
                group="health",
                openapi={"summary": "Get the health of Jina Gateway service", "tags": ["Health"]},
            )
        )
    # a custom route wins over a CRUD or debug route at the same place: drop the shadowed ones
    taken = {(r.verb, r.template.template) for r in routes if r.group == "custom"}
    routes = [r for r in routes if r.group == "custom" or (r.verb, r.template.template) not in taken]
    return RouteTable(routes)
