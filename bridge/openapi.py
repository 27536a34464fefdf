"""The OpenAPI 3 document of the bridge, built from its route table.

Jina routes get Jina's models (request, response, document); generic RPC routes get JSON
schemas derived from their protobuf messages; every route documents the error shape.
"""

from __future__ import annotations

from typing import Any

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from jina_mesh.bridge.config import BridgeConfig
from jina_mesh.bridge.routes import Route, RouteTable

from jina.docjson import FIELDS
from jina.version import __version__

_REF = "#/components/schemas/"

_SCALARS = {
    FieldDescriptor.TYPE_DOUBLE: {"type": "number"},
    FieldDescriptor.TYPE_FLOAT: {"type": "number"},
    FieldDescriptor.TYPE_INT64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_UINT64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_INT32: {"type": "integer", "format": "int32"},
    FieldDescriptor.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    FieldDescriptor.TYPE_FIXED32: {"type": "integer"},
    FieldDescriptor.TYPE_BOOL: {"type": "boolean"},
    FieldDescriptor.TYPE_STRING: {"type": "string"},
    FieldDescriptor.TYPE_BYTES: {"type": "string", "format": "byte"},
    FieldDescriptor.TYPE_UINT32: {"type": "integer"},
    FieldDescriptor.TYPE_ENUM: {"type": "integer"},
    FieldDescriptor.TYPE_SFIXED32: {"type": "integer"},
    FieldDescriptor.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    FieldDescriptor.TYPE_SINT32: {"type": "integer"},
    FieldDescriptor.TYPE_SINT64: {"type": "string", "format": "int64"},
}
_WELL_KNOWN = {
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Empty": {"type": "object"},
}


# protobuf's limits for the document fields that are not JSON's (uint32, float)
_UINT32_MAX = 2**32 - 1
_FLOAT32_MAX = 3.4028234663852886e38
# the gRPC status names an error's `status` may carry (google/rpc/code.proto)
_GRPC_STATUS_NAMES = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` or null; a `$ref` is wrapped, since OpenAPI 3.0 ignores a `$ref`'s siblings."""
    if "$ref" in schema:
        return {"nullable": True, "allOf": [schema]}
    return {**schema, "nullable": True}


def _jina_schemas() -> dict[str, Any]:
    """Jina's models, saying exactly what `jina.httpjson` and `jina.docjson` read and write.

    A request document is read leniently (unknown keys ignored, `null` for any field, a bare
    string for a text document), a request body strictly (unknown keys refused with a 422).
    """
    nullable_string = {"type": "string", "nullable": True}
    float32 = {"type": "number", "format": "float", "minimum": -_FLOAT32_MAX, "maximum": _FLOAT32_MAX}
    nullable_float = _nullable(float32)
    nullable_uint32 = {"type": "integer", "minimum": 0, "maximum": _UINT32_MAX, "nullable": True}
    document = {"$ref": _REF + "PydanticDocument"}
    # a request may give a document as its text; responses always write objects
    document_or_text = {"anyOf": [document, {"type": "string", "description": "a document with this text"}]}
    ndarray = {
        "nullable": True,
        "allOf": [{"$ref": _REF + "NdArray"}],
        "description": "a number or (nested) lists of numbers of a regular shape (every row the same length)",
    }
    score = {"$ref": _REF + "NamedScore"}
    scores = {
        "type": "object",
        "nullable": True,
        "description": "named scores; a request may give a score as its bare value",
        "additionalProperties": {"anyOf": [score, float32]},
    }
    document_properties = {
        "id": nullable_string,
        "parent_id": nullable_string,
        "granularity": nullable_uint32,
        "adjacency": nullable_uint32,
        "blob": {"type": "string", "format": "byte", "nullable": True, "description": "base64"},
        "tensor": ndarray,
        "mime_type": nullable_string,
        "text": nullable_string,
        "weight": nullable_float,
        "uri": nullable_string,
        "tags": {"type": "object", "additionalProperties": True, "nullable": True},
        "offset": nullable_float,
        "location": {"type": "array", "items": float32, "nullable": True},
        "embedding": ndarray,
        "modality": nullable_string,
        "evaluations": scores,
        "scores": scores,
        "chunks": {"type": "array", "items": document_or_text, "nullable": True},
        "matches": {"type": "array", "items": document_or_text, "nullable": True},
    }
    assert tuple(document_properties) == FIELDS
    data = {
        "description": 'the documents: a list, or Jina\'s older {"docs": [...]}',
        "nullable": True,
        "oneOf": [
            {"type": "array", "items": document_or_text},
            {
                "type": "object",
                "required": ["docs"],
                "properties": {"docs": {"type": "array", "items": document_or_text, "nullable": True}},
                "additionalProperties": False,
            },
        ],
    }
    target_executor = {
        "type": "string",
        "format": "regex",
        "nullable": True,
        "description": "a regular expression over executor names: only those run (an invalid one is a 400)",
    }
    exec_endpoint = {"type": "string", "nullable": True, "default": "/", "description": "the Executor endpoint"}
    parameters = {"type": "object", "additionalProperties": True, "nullable": True}
    # what Jina's client sends besides: its header (only the request id is read) and routes (ignored)
    client_fields = {
        "header": {
            "type": "object",
            "nullable": True,
            "description": "only the request id is read",
            "properties": {"requestId": nullable_string, "request_id": nullable_string},
            "additionalProperties": True,
        },
        "routes": {"type": "array", "items": {}, "nullable": True, "description": "ignored"},
    }

    def request_model(description: str, endpoint: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            # a `null` body, like an empty one, is a request with no documents
            "nullable": True,
            "description": description,
            "properties": {
                "data": data,
                "targetExecutor": target_executor,
                "target_executor": {**target_executor, "description": "targetExecutor, snake_case"},
                "parameters": parameters,
                "execEndpoint": endpoint,
                "exec_endpoint": {**endpoint, "description": "execEndpoint, snake_case"},
                **client_fields,
            },
            # a misspelt key is refused (422) rather than silently dropped
            "additionalProperties": False,
        }

    status = {
        "type": "object",
        "nullable": True,
        "properties": {
            "code": {"type": "integer", "description": "0 success, 1 error"},
            "description": {"type": "string"},
            "exception": {"$ref": _REF + "ExceptionProto"},
        },
    }
    return {
        "NamedScore": {
            "type": "object",
            "properties": {
                "value": nullable_float,
                "op_name": nullable_string,
                "description": nullable_string,
                "ref_id": nullable_string,
            },
            # an unknown key is refused (422) unless it is null: a null field is no field
            "additionalProperties": {"nullable": True, "enum": [None]},
        },
        "NdArray": {
            "description": "booleans are read as 0 and 1",
            "anyOf": [
                {"type": "number"},
                {"type": "boolean"},
                {"type": "array", "items": {"$ref": _REF + "NdArray"}},
            ],
        },
        "PydanticDocument": {
            "type": "object",
            "description": "a document; in a request, unknown keys are ignored",
            "properties": document_properties,
        },
        "JinaRequestModel": request_model(
            "Jina's request; this route calls its own endpoint, whatever execEndpoint says",
            {**exec_endpoint, "description": "ignored: this route calls its own endpoint"},
        ),
        "JinaEndpointRequestModel": request_model("Jina's request, with the endpoint to call", exec_endpoint),
        "ExceptionProto": {
            "type": "object",
            "nullable": True,
            "properties": {
                "name": {"type": "string"},
                "args": {"type": "array", "items": {"type": "string"}},
                "stacks": {"type": "array", "items": {"type": "string"}},
                "executor": {"type": "string"},
            },
        },
        "StatusProto": status,
        "HeaderProto": {
            "type": "object",
            "properties": {
                "requestId": {"type": "string"},
                "status": {"$ref": _REF + "StatusProto"},
                "execEndpoint": {"type": "string"},
                "targetExecutor": {"type": "string"},
            },
        },
        "RouteProto": {
            "type": "object",
            "properties": {
                "executor": {"type": "string"},
                "startTime": {"type": "string", "format": "date-time", "nullable": True},
                "endTime": {"type": "string", "format": "date-time", "nullable": True},
                "status": {"$ref": _REF + "StatusProto"},
            },
        },
        "JinaResponseModel": {
            "type": "object",
            "required": ["header", "parameters", "routes", "data"],
            "properties": {
                "header": {"$ref": _REF + "HeaderProto"},
                "parameters": {"type": "object", "additionalProperties": True},
                "routes": {"type": "array", "items": {"$ref": _REF + "RouteProto"}},
                "data": {"type": "array", "items": document},
            },
        },
        "JinaHealthModel": {"type": "object", "description": "{} while the gateway serves"},
        "Error": {
            "type": "object",
            "required": ["code", "status", "message", "details"],
            "properties": {
                "code": {"type": "integer", "minimum": 400, "maximum": 599, "description": "the HTTP status"},
                "status": {
                    "type": "string",
                    "enum": _GRPC_STATUS_NAMES,
                    "description": "the gRPC status name, e.g. UNAVAILABLE",
                },
                "message": {"type": "string"},
                "details": {
                    "type": "array",
                    "description": "for a 422: where the body is wrong ({location, message})",
                    "items": {},
                },
            },
        },
        "ErrorResponse": {
            "type": "object",
            "description": "every error; Jina request errors also carry Jina's response (header, parameters, routes, "
            "data), with the exception in header.status",
            "required": ["error"],
            "properties": {
                "error": {"$ref": _REF + "Error"},
                "header": {"$ref": _REF + "HeaderProto"},
                "parameters": {"type": "object", "additionalProperties": True},
                "routes": {"type": "array", "items": {"$ref": _REF + "RouteProto"}},
                "data": {"type": "array", "items": document},
            },
            "additionalProperties": False,
        },
    }


class _MessageSchemas:
    def __init__(self, schemas: dict[str, Any]):
        self.schemas = schemas

    def ref(self, descriptor: Descriptor) -> dict[str, Any]:
        if descriptor.full_name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[descriptor.full_name])
        name = descriptor.full_name.replace(".", "_")
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: recursive messages refer to themselves
            self.schemas[name] = {
                "type": "object",
                "properties": {f.name: self._field(f) for f in descriptor.fields},
            }
        return {"$ref": _REF + name}

    def _field(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value = field.message_type.fields_by_name["value"]
            return {"type": "object", "additionalProperties": self._single(value)}
        single = self._single(field)
        if field.label == FieldDescriptor.LABEL_REPEATED:
            return {"type": "array", "items": single}
        return single

    def _single(self, field: FieldDescriptor) -> dict[str, Any]:
        if field.message_type is not None:
            schema = self.ref(field.message_type)
            # a message field that is not set is written `null` (`transcode.render_message`), as
            # Jina's /dry_run writes `"exception": null`; items of a repeated field never are
            return schema if field.label == FieldDescriptor.LABEL_REPEATED or not schema else _nullable(schema)
        return dict(_SCALARS.get(field.type, {}))


def _operation(route: Route, bridge_types, messages: _MessageSchemas) -> dict[str, Any]:
    docs = route.openapi
    operation: dict[str, Any] = {
        "summary": docs.get("summary") or route.path,
        "tags": docs.get("tags") or [],
        "operationId": docs.get("operationId") or _operation_id(route),
        "responses": {},
    }
    if docs.get("description"):
        operation["description"] = docs["description"]
    if docs.get("deprecated"):
        operation["deprecated"] = True
    ok_status = str(docs.get("statusCode") or 200)
    ok_description = docs.get("responseDescription") or "Successful Response"
    if route.kind == "jina":
        model = "JinaEndpointRequestModel" if route.exec_endpoint is None else "JinaRequestModel"
        operation["requestBody"] = {"content": {"application/json": {"schema": {"$ref": _REF + model}}}}
        response_schema: dict[str, Any] = {"$ref": _REF + "JinaResponseModel"}
    elif route.kind == "health":
        response_schema = {"$ref": _REF + "JinaHealthModel"}
    else:
        assert route.rpc is not None
        response_schema = {}
        if bridge_types is not None:
            request_descriptor = bridge_types.get(route.rpc.input_type).DESCRIPTOR
            response_schema = messages.ref(bridge_types.get(route.rpc.output_type).DESCRIPTOR)
            if route.body:
                body_schema = (
                    messages.ref(request_descriptor)
                    if route.body == "*"
                    else messages._field(request_descriptor.fields_by_name[route.body.split(".")[0]])
                )
                operation["requestBody"] = {"content": {"application/json": {"schema": body_schema}}}
            parameters = [
                {"name": v, "in": "path", "required": True, "schema": {"type": "string"}}
                for v in route.template.variables
            ]
            if parameters:
                operation["parameters"] = parameters
    operation["responses"][ok_status] = {
        "description": ok_description,
        "content": {"application/json": {"schema": response_schema}},
    }
    error = {"content": {"application/json": {"schema": {"$ref": _REF + "ErrorResponse"}}}}
    operation["responses"]["4XX"] = {"description": "The request was refused (see `error`)", **error}
    operation["responses"]["5XX"] = {"description": "The Flow failed (see `error`)", **error}
    return operation


def _operation_id(route: Route) -> str:
    cleaned = "".join(c if c.isalnum() else "_" for c in route.path.strip("/")) or "root"
    return f"{cleaned}_{route.verb.lower()}"


def build(
    config: BridgeConfig,
    table: RouteTable,
    bridge_types=None,
    descriptor_source: str = "compiled",
    extra_paths: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The document; `extra_paths`: the paths of the bridge's own mounts (`bridge/mounts.py`)."""
    schemas = _jina_schemas()
    messages = _MessageSchemas(schemas)
    paths: dict[str, dict[str, Any]] = {}
    used: set[str] = set()
    for route in table.routes:
        if route.openapi.get("includeInSchema") is False:
            continue
        operation = _operation(route, bridge_types, messages)
        # operationIds must be unique (Swagger UI deep links, generated clients): number repeats
        base, count = operation["operationId"], 1
        while operation["operationId"] in used:
            count += 1
            operation["operationId"] = f"{base}_{count}"
        used.add(operation["operationId"])
        paths.setdefault(route.template.openapi_path, {})[route.verb.lower()] = operation
    for extra in extra_paths or ():
        paths.update(extra)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": config.title,
            "description": config.description,
            "version": __version__,
            # where the routes came from: the gateway's server reflection, or this package's protos
            "x-descriptors": descriptor_source,
        },
        "paths": paths,
        "components": {"schemas": schemas},
    }
