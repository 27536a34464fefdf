"""The bridge's configuration: one value object, built by Flow or from `jina bridge` flags."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from typing import Any

from jina_mesh.bridge.origins import check_origins

from jina.executor import normalize_endpoint
from jina.httpjson import DEFAULT_MAX_JSON_DEPTH
from jina.serve.compression import compression_name
from jina.serve.options import DEFAULT_MAX_MESSAGE_BYTES

HTTP_METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH")

# keyword arguments of expose_endpoint (those of FastAPI's api_route that make sense here)
EXPOSE_OPTIONS = (
    "path",
    "methods",
    "summary",
    "description",
    "tags",
    "deprecated",
    "operation_id",
    "response_description",
    "include_in_schema",
    "name",
    "status_code",
)


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class ExposedEndpoint:
    """An Executor endpoint reachable over HTTP at `path` with `methods`."""

    exec_endpoint: str
    path: str
    methods: tuple[str, ...] = ("POST",)
    summary: str | None = None
    description: str | None = None
    tags: tuple[str, ...] = ("Customized",)
    deprecated: bool = False
    operation_id: str | None = None
    response_description: str = "Successful Response"
    include_in_schema: bool = True
    status_code: int = 200

    @classmethod
    def build(cls, exec_endpoint: str, options: dict[str, Any] | None) -> ExposedEndpoint:
        options = dict(options or {})
        unknown = [k for k in options if k not in EXPOSE_OPTIONS]
        if unknown:
            close = difflib.get_close_matches(unknown[0], EXPOSE_OPTIONS, n=2)
            hint = f" (did you mean {' or '.join(map(repr, close))}?)" if close else ""
            raise ConfigError(
                f"expose_endpoint {exec_endpoint!r}: unknown option {unknown[0]!r}{hint}; "
                f"valid: {', '.join(EXPOSE_OPTIONS)}"
            )
        options.pop("name", None)
        exec_endpoint = normalize_endpoint(exec_endpoint)
        path = options.pop("path", None) or exec_endpoint
        if not path.startswith("/"):
            raise ConfigError(f"expose_endpoint {exec_endpoint!r}: path {path!r} must start with '/'")
        methods = options.pop("methods", None) or ["POST"]
        if isinstance(methods, str):
            methods = [methods]
        methods = tuple(m.upper() for m in methods)
        bad = [m for m in methods if m not in HTTP_METHODS]
        if bad:
            raise ConfigError(f"expose_endpoint {exec_endpoint!r}: method {bad[0]!r} is not one of {HTTP_METHODS}")
        tags = options.pop("tags", None)
        if isinstance(tags, str):
            tags = [tags]
        return cls(
            exec_endpoint=exec_endpoint,
            path=path,
            methods=methods,
            tags=tuple(tags) if tags else ("Customized",),
            **options,
        )


@dataclass(frozen=True)
class BridgeConfig:
    gateway: str
    host: str = "0.0.0.0"
    port: int = 8080
    #: False, True (any origin, no credentials) or origins allowed with credentials: see `origins`
    cors: bool | tuple[str, ...] = False
    no_debug_endpoints: bool = False
    no_crud_endpoints: bool = False
    #: serve GraphQL at /graphql (bridge/graphql.py; needs the `graphql` extra)
    expose_graphql_endpoint: bool = False
    expose_endpoints: tuple[ExposedEndpoint, ...] = ()
    title: str = "My Jina Service"
    description: str = "A Flow served over HTTP and WebSocket by jina-mesh's bridge."
    max_body_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    #: deepest nesting of arrays/objects a JSON body or WebSocket frame may have (deeper: 400)
    max_json_depth: int = DEFAULT_MAX_JSON_DEPTH
    #: request head limits (431 over them) and slow-client timeouts in seconds (408): `http_limits`
    max_header_count: int = 100
    max_head_bytes: int = 32 * 1024
    timeout_request_head: float = 10.0
    timeout_request_body: float = 30.0
    #: seconds an idle keep-alive connection is held (uvicorn's `timeout_keep_alive`)
    timeout_keep_alive: float = 5.0
    debug: bool = False
    uvicorn_kwargs: dict[str, Any] = field(default_factory=dict)
    #: seconds to wait for the gateway's reflection at start before using compiled protos
    descriptor_timeout: float = 5.0
    #: gRPC compression of requests to the gateway: none, gzip or deflate
    compression: str = "none"
    #: serve HTTPS and WSS with this certificate and key (PEM files)
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    #: require a client certificate signed by this authority (PEM file): mutual TLS
    ssl_ca_certs: str | None = None
    #: the bearer token every request but health and the docs must carry (`jina.serve.access`); it
    #: comes from the environment (JINA_MESH_ACCESS_TOKEN), never from a file or the command line
    access_token: str | None = field(default=None, repr=False)

    @classmethod
    def build(cls, gateway: str, **options: Any) -> BridgeConfig:
        exposed = options.pop("expose_endpoints", None) or {}
        if isinstance(exposed, str):
            exposed = json.loads(exposed)
        if not isinstance(exposed, dict):
            raise ConfigError("expose_endpoints must map an executor endpoint to its options")
        endpoints = tuple(ExposedEndpoint.build(k, v) for k, v in exposed.items())
        paths = [(m, e.path) for e in endpoints for m in e.methods]
        if len(paths) != len(set(paths)):
            raise ConfigError("two exposed endpoints use the same method and path")
        cors = options.pop("cors", False)
        if isinstance(cors, (list, tuple)):
            try:
                cors = check_origins(cors)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        elif not isinstance(cors, bool):
            raise ConfigError(f"cors must be true, false or a list of origins, got {cors!r}")
        depth = options.get("max_json_depth", DEFAULT_MAX_JSON_DEPTH)
        if not isinstance(depth, int) or isinstance(depth, bool) or depth < 1:
            raise ConfigError(f"max_json_depth must be a positive number of levels, got {depth!r}")
        compression = options.pop("compression", None) or "none"
        try:
            compression = compression_name(compression)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        return cls(gateway=gateway, expose_endpoints=endpoints, cors=cors, compression=compression, **options)
