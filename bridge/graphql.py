"""GraphQL at /graphql (GraphQL over HTTP), a client of the gateway's gRPC like every bridge route.

It follows the GraphQL-over-HTTP draft (graphql.github.io/graphql-over-http) with the
`application/json` response type: every well-formed request is answered 200, its problems
(a query that does not validate, an executor's exception, a gateway that cannot be reached, a
deadline) in the body's `errors`, each execution error with `extensions.code` the gRPC status
name. A request that is not well-formed (no query, a body that is not JSON) is a 4xx, with the
same `errors` shape; a mutation sent by GET is 405 (the draft's "MUST NOT execute mutations
over GET"). A browser's GET (it accepts text/html) gets the explorer page.

The schema needs strawberry-graphql, an optional dependency: `require_library` is what the Flow
and `jina bridge` call before anything starts, and this module imports it only when used.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import secrets
from typing import TYPE_CHECKING, Any

from jina_mesh.bridge.bodies import ClientGone, read_body
from jina_mesh.bridge.errors import HTTPError
from starlette.requests import Request
from starlette.responses import Response

from jina.excepts import BadConfig
from jina.extras import GRAPHQL_INSTALL, require_graphql
from jina.httpjson import JsonError, loads
from jina.serve import grpc_timeout

if TYPE_CHECKING:
    from jina_mesh.bridge.config import BridgeConfig
    from jina_mesh.bridge.gateway import GatewayLink

PATH = "/graphql"
INSTALL = GRAPHQL_INSTALL
_JSON_TYPES = ("application/json", "text/json")


def require_library(load: bool = False) -> None:
    """BadConfig, saying what to install, unless the GraphQL library is there (`load`: and imports)."""
    require_graphql()
    if load:
        try:
            importlib.import_module("jina_mesh.bridge.graphql_schema")
        except ImportError as exc:
            raise BadConfig(f"expose_graphql_endpoint: the GraphQL library does not load ({exc}); {INSTALL}") from None


class _Refused(Exception):
    """A request that is not well-formed GraphQL over HTTP: answered `status` with one error."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _wants_page(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split("text/html")[0]


async def respond(request: Request, link: GatewayLink, config: BridgeConfig) -> Response:
    """GET (the explorer page, or a query in the URL) and POST (a query in a JSON body) on /graphql."""
    try:
        if request.method in ("GET", "HEAD"):
            params = request.query_params
            if _wants_page(request):
                from jina_mesh.bridge import graphql_page

                return graphql_page.page(
                    secrets.token_urlsafe(16), config.title, params.get("query"), params.get("variables")
                )
            variables = params.get("variables")
            operation = {
                "query": params.get("query"),
                "variables": _loads(variables, config, "variables") if variables else None,
                "operationName": params.get("operationName"),
            }
            return await _execute(operation, request, link, config, mutations=False)
        if request.method == "POST":
            return await _execute(await _read_body(request, config), request, link, config, mutations=True)
        raise _Refused(405, f"{request.method} is not allowed on {PATH}; use GET or POST", {"Allow": "GET, POST"})
    except _Refused as refused:
        return _json({"errors": [{"message": str(refused)}]}, refused.status, refused.headers)


async def _read_body(request: Request, config: BridgeConfig) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type and content_type not in _JSON_TYPES and not content_type.endswith("+json"):
        raise _Refused(415, f"send the query as JSON (content-type: application/json), not {content_type}")
    try:
        raw = await read_body(request, config.max_body_bytes)
    except HTTPError as error:
        raise _Refused(error.status, error.message) from None
    except ClientGone:
        raise _Refused(400, "the client went away") from None
    return _loads(raw, config, "the body")


def _loads(raw: bytes | str, config: BridgeConfig, what: str) -> Any:
    try:
        return loads(raw, config.max_json_depth)
    except JsonError as exc:
        raise _Refused(400, f"{what} {exc}") from None


def _deadline(request: Request) -> float | None:
    value = request.headers.get(grpc_timeout.HEADER)
    try:
        return None if value is None else grpc_timeout.parse(value)
    except grpc_timeout.BadTimeout as exc:
        raise _Refused(400, str(exc)) from None


async def _execute(
    operation: Any, request: Request, link: GatewayLink, config: BridgeConfig, mutations: bool
) -> Response:
    from jina_mesh.bridge.graphql_schema import SCHEMA, Context
    from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
    from strawberry.types.graphql import OperationType

    if not isinstance(operation, dict):
        raise _Refused(400, "the body must be a JSON object: {query, variables, operationName}")
    query, variables, name = operation.get("query"), operation.get("variables"), operation.get("operationName")
    if not isinstance(query, str) or not query.strip():
        raise _Refused(400, 'no query: send {"query": "..."} (or ?query=... with GET)')
    if variables is not None and not isinstance(variables, dict):
        raise _Refused(400, "variables must be a JSON object")
    if name is not None and not isinstance(name, str):
        raise _Refused(400, "operationName must be a string")
    allowed = {OperationType.QUERY} | ({OperationType.MUTATION} if mutations else set())
    context = Context(link=link, deadline=_deadline(request), debug=config.debug)
    try:
        result = await SCHEMA.execute(
            query,
            variable_values=variables,
            context_value=context,
            operation_name=name,
            allowed_operation_types=allowed,
        )
    except InvalidOperationTypeError:
        raise _Refused(405, "a mutation is sent by POST, not GET", {"Allow": "POST"}) from None
    except CannotGetOperationTypeError as exc:
        return _json({"data": None, "errors": [{"message": exc.args[0] if exc.args else str(exc)}]})
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_format(error) for error in result.errors]
    return _json(body)


def _format(error: Any) -> dict[str, Any]:
    """graphql-core's form; an exception that is no GraphQLError (a bug) is not shown in full."""
    from graphql import GraphQLError

    formatted = error.formatted
    original = error.original_error
    if original is not None and not isinstance(original, GraphQLError):
        formatted["message"] = f"internal error in the bridge: {type(original).__name__}"
        formatted["extensions"] = {"code": "INTERNAL"}
    return formatted


def openapi_paths() -> dict[str, Any]:
    """`/graphql` for /openapi.json (OpenAPI 3.0.3, as `bridge/openapi.py` writes it)."""
    operation = {
        "type": "object",
        "required": ["query"],
        "properties": {
            "query": {"type": "string", "description": 'A GraphQL document: `{ docs(data: [{text: "hi"}]) { text } }`'},
            "variables": {"type": "object", "nullable": True, "additionalProperties": True},
            "operationName": {"type": "string", "nullable": True},
        },
    }
    result = {
        "type": "object",
        "properties": {
            "data": {"type": "object", "nullable": True, "additionalProperties": True},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["message"],
                    "properties": {
                        "message": {"type": "string"},
                        "locations": {"type": "array", "items": {"type": "object"}},
                        "path": {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
                        "extensions": {"type": "object", "additionalProperties": True},
                    },
                },
            },
        },
    }
    answered = {"description": "The result: `data`, and `errors` (with `extensions.code`) when something failed"}
    refused = {"description": "Not a GraphQL request (no query, a body that is not JSON)"}
    json_result = {"application/json": {"schema": result}}
    return {
        PATH: {
            "get": {
                "tags": ["GraphQL"],
                "summary": "The GraphQL explorer (browsers), or a query given in the URL",
                "operationId": "graphql_get",
                "parameters": [
                    {"name": "query", "in": "query", "required": False, "schema": {"type": "string"}},
                    {"name": "variables", "in": "query", "required": False, "schema": {"type": "string"}},
                    {"name": "operationName", "in": "query", "required": False, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {**answered, "content": {**json_result, "text/html": {"schema": {"type": "string"}}}},
                    "400": {**refused, "content": json_result},
                    "405": {"description": "A mutation sent by GET", "content": json_result},
                },
            },
            "post": {
                "tags": ["GraphQL"],
                "summary": "Run a GraphQL query or mutation",
                "operationId": "graphql_post",
                "requestBody": {"required": True, "content": {"application/json": {"schema": operation}}},
                "responses": {"200": {**answered, "content": json_result}, "400": {**refused, "content": json_result}},
            },
        }
    }
