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


def _jina_schemas() -> dict[str, Any]:
    nullable_string = {"type": "string", "nullable": True}
    nullable_number = {"type": "number", "nullable": True}
    nullable_integer = {"type": "integer", "nullable": True}
    document_properties = {
        "id": nullable_string,
        "parent_id": nullable_string,
        "granularity": nullable_integer,
        "adjacency": nullable_integer,
        "blob": {"type": "string", "format": "byte", "nullable": True, "description": "base64"},
        "tensor": {"nullable": True, "description": "a (nested) list of numbers"},
        "mime_type": nullable_string,
        "text": nullable_string,
        "weight": nullable_number,
        "uri": nullable_string,
        "tags": {"type": "object", "additionalProperties": True, "nullable": True},
        "offset": nullable_number,
        "location": {"type": "array", "items": {"type": "number"}, "nullable": True},
        "embedding": {"nullable": True, "description": "a (nested) list of numbers"},
        "modality": nullable_string,
        "evaluations": {"type": "object", "additionalProperties": {"$ref": _REF + "NamedScore"}, "nullable": True},
        "scores": {"type": "object", "additionalProperties": {"$ref": _REF + "NamedScore"}, "nullable": True},
        "chunks": {"type": "array", "items": {"$ref": _REF + "PydanticDocument"}, "nullable": True},
        "matches": {"type": "array", "items": {"$ref": _REF + "PydanticDocument"}, "nullable": True},
    }
    assert tuple(document_properties) == FIELDS
    data = {
        "description": 'the documents: a list, or Jina\'s older {"docs": [...]}',
        "oneOf": [
            {"type": "array", "items": {"$ref": _REF + "PydanticDocument"}},
            {"type": "object", "properties": {"docs": {"type": "array", "items": {"$ref": _REF + "PydanticDocument"}}}},
        ],
        "nullable": True,
    }
    request_properties = {
        "data": data,
        "target_executor": {"type": "string", "description": "regular expression over executor names"},
        "parameters": {"type": "object", "additionalProperties": True},
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
                "value": nullable_number,
                "op_name": nullable_string,
                "description": nullable_string,
                "ref_id": nullable_string,
            },
        },
        "PydanticDocument": {"type": "object", "properties": document_properties},
        "JinaRequestModel": {
            "type": "object",
            "description": "targetExecutor is accepted for target_executor",
            "properties": request_properties,
        },
        "JinaEndpointRequestModel": {
            "type": "object",
            "description": "execEndpoint/targetExecutor are accepted for exec_endpoint/target_executor",
            "properties": {**request_properties, "exec_endpoint": {"type": "string", "default": "/"}},
        },
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
            "properties": {
                "header": {"$ref": _REF + "HeaderProto"},
                "parameters": {"type": "object", "additionalProperties": True},
                "routes": {"type": "array", "items": {"$ref": _REF + "RouteProto"}},
                "data": {"type": "array", "items": {"$ref": _REF + "PydanticDocument"}},
            },
        },
        "JinaHealthModel": {"type": "object", "description": "{} while the gateway serves"},
        "Error": {
            "type": "object",
            "required": ["code", "status", "message"],
            "properties": {
                "code": {"type": "integer", "description": "the HTTP status"},
                "status": {"type": "string", "description": "the gRPC status name, e.g. UNAVAILABLE"},
                "message": {"type": "string"},
                "details": {"type": "array", "items": {}},
            },
        },
        "ErrorResponse": {
            "type": "object",
            "description": "every error; Jina request errors also carry header/parameters/routes/data",
            "required": ["error"],
            "properties": {"error": {"$ref": _REF + "Error"}},
            "additionalProperties": True,
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
            return self.ref(field.message_type)
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
    config: BridgeConfig, table: RouteTable, bridge_types=None, descriptor_source: str = "compiled"
) -> dict[str, Any]:
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
