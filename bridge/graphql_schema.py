"""The GraphQL schema (Jina's `docs` query and mutation, plus `response`), resolved by gRPC calls on the gateway.

Documents cross it as `jina.docjson`'s JSON: an input object is turned into that JSON (the
only reshaping: Jina's GraphQL lists scores as `[{name, score}]`, the JSON as `{name: score}`)
and `jina.httpjson.request_from_json` builds the DataRequestProto; the answer comes back
through `response_to_json`. A failed call is a GraphQL error whose `extensions.code` is the
gRPC status name; its field is non-null, so nothing of the input is ever returned in its place.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Annotated, Any, NewType

import grpc
import strawberry
from graphql import GraphQLError
from jina_mesh.bridge.errors import HTTPError
from jina_mesh.bridge.gateway import GatewayLink
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig

from jina.httpjson import BodyError, request_from_json, response_to_json
from jina.proto import jina_pb2
from jina.serve import grpc_timeout
from jina.serve.grpc_timeout import bound_deadline
from jina.wire import NETWORK_ERROR, describe_error

_logger = logging.getLogger("jina.bridge")

#: seconds past a request's deadline to wait for the gateway's own deadline error (as the HTTP routes do)
ANSWER_GRACE = 1.0
DEFAULT_ENDPOINT = "/search"  # Jina's schema's default

# Jina's scalar names; values pass through as JSON (docjson checks them on the way in)
JSONScalar = NewType("JSONScalar", object)
NdArray = NewType("NdArray", object)
Base64 = NewType("Base64", str)


def _same(value: Any) -> Any:
    return value


_SCALARS = {
    JSONScalar: strawberry.scalar(
        name="JSONScalar",
        description="Any JSON value; an object may also be given as a string holding its JSON, as Jina's clients do.",
        serialize=_same,
        parse_value=_same,
    ),
    NdArray: strawberry.scalar(
        name="NdArray", description="A tensor as nested lists of numbers.", serialize=_same, parse_value=_same
    ),
    Base64: strawberry.scalar(
        name="Base64", description="Bytes as a base64 string.", serialize=_same, parse_value=_same
    ),
}


@dataclasses.dataclass
class Context:
    """What every resolver of one HTTP request needs."""

    link: GatewayLink
    deadline: float | None = None
    debug: bool = False


# -- output types ----------------------------------------------------------------------------


@strawberry.type(name="Namedscore")
class NamedScore:
    value: float | None = None
    op_name: str | None = None
    description: str | None = None
    ref_id: str | None = None


@strawberry.type(name="Namescoreitem")
class NamedScoreItem:
    name: str
    score: NamedScore


@strawberry.type(name="StrawberryDocument")
class Document:
    id: str | None = None
    parent_id: str | None = None
    granularity: int | None = None
    adjacency: int | None = None
    blob: Base64 | None = None
    tensor: NdArray | None = None
    mime_type: str | None = None
    text: str | None = None
    weight: float | None = None
    uri: str | None = None
    tags: JSONScalar | None = None
    offset: float | None = None
    location: list[float] | None = None
    embedding: NdArray | None = None
    modality: str | None = None
    evaluations: list[NamedScoreItem] | None = None
    scores: list[NamedScoreItem] | None = None
    chunks: list[Document] | None = None
    matches: list[Document] | None = None

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Document:
        """One of `jina.docjson.documents_to_json`'s documents."""
        fields = dict(doc)
        for name in ("scores", "evaluations"):
            if fields.get(name) is not None:
                fields[name] = [NamedScoreItem(name=k, score=NamedScore(**v)) for k, v in fields[name].items()]
        for name in ("chunks", "matches"):
            if fields.get(name) is not None:
                fields[name] = [cls.from_json(child) for child in fields[name]]
        return cls(**{k: v for k, v in fields.items() if k in _DOCUMENT_FIELDS})


_DOCUMENT_FIELDS = {f.name for f in dataclasses.fields(Document)}


@strawberry.type
class Route:
    """One executor the request went through."""

    executor: str
    start_time: str | None = None
    end_time: str | None = None


@strawberry.type
class DataResponse:
    """The whole answer: the documents and what Jina's `docs` field cannot show."""

    request_id: str
    docs: list[Document]
    parameters: JSONScalar = strawberry.field(
        description="The response's parameters, with `__results__` (each executor's return value) when there is one."
    )
    routes: list[Route]


# -- input types -----------------------------------------------------------------------------


@strawberry.input(name="Namedscoreinput")
class NamedScoreInput:
    value: float | None = None
    op_name: str | None = None
    description: str | None = None
    ref_id: str | None = None


@strawberry.input(name="Namescoreiteminput")
class NamedScoreItemInput:
    name: str
    score: NamedScoreInput


@strawberry.input(name="StrawberryDocumentInput")
class DocumentInput:
    id: str | None = None
    parent_id: str | None = None
    granularity: int | None = None
    adjacency: int | None = None
    blob: Base64 | None = None
    tensor: NdArray | None = None
    mime_type: str | None = None
    text: str | None = None
    weight: float | None = None
    uri: str | None = None
    tags: JSONScalar | None = None
    offset: float | None = None
    location: list[float] | None = None
    embedding: NdArray | None = None
    modality: str | None = None
    evaluations: list[NamedScoreItemInput] | None = None
    scores: list[NamedScoreItemInput] | None = None
    chunks: list[DocumentInput] | None = None
    matches: list[DocumentInput] | None = None


def _input_to_json(doc: DocumentInput, where: str) -> dict[str, Any]:
    """An input document as `jina.docjson` reads documents."""
    out: dict[str, Any] = {}
    for field in dataclasses.fields(doc):
        value = getattr(doc, field.name)
        if value is None:
            continue
        if field.name in ("scores", "evaluations"):
            value = {item.name: dataclasses.asdict(item.score) for item in value}
        elif field.name in ("chunks", "matches"):
            value = [_input_to_json(child, f"{where}.{field.name}[{i}]") for i, child in enumerate(value)]
        elif field.name == "tags":
            value = _object(value, f"{where}.tags")
        out[field.name] = value
    return out


def _object(value: Any, where: str) -> Any:
    """A JSONScalar that must be an object: Jina's clients send it as a string of JSON, which is read here."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise _error(f"{where}: expected an object (or a string of JSON holding one)", "INVALID_ARGUMENT") from None
    return value


# -- errors ----------------------------------------------------------------------------------


def _error(message: str, code: str, **extensions: Any) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code, **extensions})


def _status_error(status: jina_pb2.StatusProto, debug: bool) -> GraphQLError:
    """The error a response with an ERROR status stands for: the executor and its exception by name."""
    exception = status.exception
    network = exception.name == NETWORK_ERROR
    extras: dict[str, Any] = {"executor": exception.executor or None, "exception": exception.name or None}
    if debug:  # the bridge's debug mode shows stack traces, as its HTTP routes do
        extras["stacks"] = list(exception.stacks)
    return _error(describe_error(status), "UNAVAILABLE" if network else "UNKNOWN", **extras)


def _rpc_error(err: grpc.aio.AioRpcError, debug: bool) -> GraphQLError:
    code = err.code()
    # sanitised as every bridge error is: a gateway that cannot be reached must not name its internal address
    error = HTTPError.from_grpc(code, err.details() or "", debug=debug, trailing_metadata=err.trailing_metadata())
    message = error.message
    if code == grpc.StatusCode.UNAVAILABLE:
        message = f"the gateway cannot be reached: {message}"
    extras = {"retryAfter": int(error.headers["Retry-After"])} if "Retry-After" in error.headers else {}
    return _error(message, code.name, **extras)


# -- resolvers -------------------------------------------------------------------------------


async def _call(
    info: strawberry.Info,
    data: list[DocumentInput] | None,
    target_executor: str | None,
    parameters: Any,
    exec_endpoint: str,
) -> dict[str, Any]:
    context: Context = info.context
    body: dict[str, Any] = {"execEndpoint": exec_endpoint, "targetExecutor": target_executor}
    if data is not None:
        body["data"] = [_input_to_json(doc, f"data[{i}]") for i, doc in enumerate(data)]
    if parameters is not None:
        body["parameters"] = _object(parameters, "parameters")
    try:
        request = request_from_json(body)
    except BodyError as exc:
        raise _error(str(exc), "INVALID_ARGUMENT", location=exc.location) from None
    deadline = context.deadline
    bound_deadline(request, grpc_timeout.to_milliseconds(deadline) if deadline else None)
    try:
        response = await context.link.process(request, timeout=deadline and deadline + ANSWER_GRACE)
    except grpc.aio.AioRpcError as err:
        raise _rpc_error(err, context.debug) from None
    if response.header.status.code == jina_pb2.StatusProto.ERROR:
        raise _status_error(response.header.status, context.debug)
    return response_to_json(response, with_stacks=context.debug)


_Data = Annotated[
    list[DocumentInput] | None, strawberry.argument(description="The documents to send (none: an empty request).")
]
_Target = Annotated[
    str | None, strawberry.argument(description="A regular expression: only the executors whose name matches run.")
]
_Parameters = Annotated[JSONScalar | None, strawberry.argument(description="The request's parameters (an object).")]
_Endpoint = Annotated[
    str, strawberry.argument(description="The executor endpoint, e.g. `/foo` for `@requests(on='/foo')`.")
]


async def _docs(
    info: strawberry.Info,
    data: _Data = None,
    target_executor: _Target = None,
    parameters: _Parameters = None,
    exec_endpoint: _Endpoint = DEFAULT_ENDPOINT,
) -> list[Document]:
    answer = await _call(info, data, target_executor, parameters, exec_endpoint)
    return [Document.from_json(doc) for doc in answer["data"]]


async def _response(
    info: strawberry.Info,
    data: _Data = None,
    target_executor: _Target = None,
    parameters: _Parameters = None,
    exec_endpoint: _Endpoint = DEFAULT_ENDPOINT,
) -> DataResponse:
    answer = await _call(info, data, target_executor, parameters, exec_endpoint)
    routes = [Route(executor=r["executor"], start_time=r["startTime"], end_time=r["endTime"]) for r in answer["routes"]]
    return DataResponse(
        request_id=answer["header"]["requestId"],
        docs=[Document.from_json(doc) for doc in answer["data"]],
        parameters=answer["parameters"],
        routes=routes,
    )


_DOCS_HELP = "Send the documents to the Flow and select fields of the documents it answers (Jina's field)."
_RESPONSE_HELP = "Send the documents to the Flow; the answer's documents, parameters (`__results__`) and routes."


@strawberry.type
class Query:
    docs: list[Document] = strawberry.field(resolver=_docs, description=_DOCS_HELP)
    response: DataResponse = strawberry.field(resolver=_response, description=_RESPONSE_HELP)


@strawberry.type
class Mutation:
    docs: list[Document] = strawberry.field(resolver=_docs, description=_DOCS_HELP)
    response: DataResponse = strawberry.field(resolver=_response, description=_RESPONSE_HELP)


class _Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # an executor's exception is the caller's answer, not the bridge's failure: one line, no traceback
        for error in errors:
            _logger.info("graphql: %s", error.message)


# a client sends the same few query texts again and again (values in variables): parsing and
# validating each text once takes ~4 of the ~5.5 ms a one-document mutation costs the bridge
SCHEMA = _Schema(
    query=Query,
    mutation=Mutation,
    config=StrawberryConfig(scalar_map=_SCALARS),
    extensions=[ParserCache(maxsize=256), ValidationCache(maxsize=256)],
)
