"""Jina's JSON for data requests: the `/post` body in, Jina's response body out (pure functions).

Request body (camelCase or snake_case keys; what Jina's HTTP models accept):
    {"data": [doc, ...] | {"docs": [...]}, "parameters": {...}, "execEndpoint": "/x",
     "targetExecutor": "regex"}
Jina's own client also sends `header` (its request id is kept) and `routes` (ignored).

Response body:
    {"header": {"requestId", "status", "execEndpoint", "targetExecutor"}, "parameters": {...},
     "routes": [{"executor", "startTime", "endTime", "status"}], "data": [doc, ...]}
"""

from __future__ import annotations

import datetime
from typing import Any

from google.protobuf import timestamp_pb2
from jina_mesh.bridge.errors import HTTPError

from jina.docjson import DocumentJsonError, documents_from_json, documents_to_json
from jina.proto import jina_pb2
from jina.wire import dict_to_struct, error_status, new_request_id, struct_to_dict

_KEYS = {
    "data": "data",
    "parameters": "parameters",
    "execEndpoint": "exec_endpoint",
    "exec_endpoint": "exec_endpoint",
    "targetExecutor": "target_executor",
    "target_executor": "target_executor",
    "header": "header",
    "routes": "routes",
}


def _unprocessable(location: str, message: str) -> HTTPError:
    return HTTPError(422, f"{location}: {message}", details=[{"location": location, "message": message}])


def parse_data_request(body: Any, exec_endpoint: str | None = None) -> jina_pb2.DataRequestProto:
    """Build the DataRequestProto for a Jina route; `exec_endpoint` fixed by the route wins over the body."""
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _unprocessable("body", "expected a JSON object")
    unknown = [k for k in body if k not in _KEYS]
    if unknown:
        raise _unprocessable(unknown[0], f"unknown field; expected one of {', '.join(sorted(set(_KEYS)))}")
    # camelCase wins when both spellings are given, as in Jina's models
    fields: dict[str, Any] = {}
    for key, value in body.items():
        name = _KEYS[key]
        if name not in fields or key != name:
            fields[name] = value
    request = jina_pb2.DataRequestProto()
    header = fields.get("header")
    request_id = header.get("request_id") or header.get("requestId") if isinstance(header, dict) else None
    request.header.request_id = request_id if isinstance(request_id, str) and request_id else new_request_id()
    endpoint = exec_endpoint or fields.get("exec_endpoint") or "/"
    if not isinstance(endpoint, str):
        raise _unprocessable("execEndpoint", "expected a string")
    request.header.exec_endpoint = endpoint
    target = fields.get("target_executor")
    if target is not None:
        if not isinstance(target, str):
            raise _unprocessable("targetExecutor", "expected a string")
        if target:
            request.header.target_executor = target
    parameters = fields.get("parameters")
    if parameters is not None:
        if not isinstance(parameters, dict):
            raise _unprocessable("parameters", "expected an object")
        try:
            dict_to_struct(parameters, request.parameters)
        except ValueError as exc:
            raise _unprocessable("parameters", str(exc)) from None
    try:
        request.data.docs.CopyFrom(documents_from_json(fields.get("data")))
    except DocumentJsonError as exc:
        raise _unprocessable(exc.location, exc.message) from None
    return request


def _time(ts: timestamp_pb2.Timestamp) -> str | None:
    if not ts.seconds and not ts.nanos:
        return None
    moment = datetime.datetime.fromtimestamp(ts.seconds, tz=datetime.timezone.utc)
    return moment.replace(microsecond=ts.nanos // 1000).isoformat()


def render_status(status: jina_pb2.StatusProto, with_stacks: bool) -> dict[str, Any] | None:
    if status.code == jina_pb2.StatusProto.SUCCESS and not status.description and not status.HasField("exception"):
        return None
    exception = None
    if status.HasField("exception"):
        exc = status.exception
        exception = {
            "name": exc.name,
            "args": list(exc.args),
            "stacks": list(exc.stacks) if with_stacks else [],
            "executor": exc.executor,
        }
    return {"code": int(status.code), "description": status.description, "exception": exception}


def render_data_response(response: jina_pb2.DataRequestProto, with_stacks: bool = False) -> dict[str, Any]:
    header = response.header
    return {
        "header": {
            "requestId": header.request_id,
            "status": render_status(header.status, with_stacks),
            "execEndpoint": header.exec_endpoint,
            "targetExecutor": header.target_executor,
        },
        "parameters": struct_to_dict(response.parameters),
        "routes": [
            {
                "executor": route.executor,
                "startTime": _time(route.start_time),
                "endTime": _time(route.end_time),
                "status": render_status(route.status, with_stacks) if route.HasField("status") else None,
            }
            for route in response.routes
        ],
        "data": documents_to_json(response.data.docs),
    }


def failed_request_body(request: jina_pb2.DataRequestProto, name: str, message: str) -> dict[str, Any]:
    """Jina's body for a request that never got an answer (the gateway failed): the request,
    echoed, with an error status; Jina's client reads `header.status.description` from it."""
    error_status(request.header.status, name=name, description=message, args=[message])
    return render_data_response(request)
