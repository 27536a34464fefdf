"""Jina's HTTP JSON for data requests and statuses, in both directions (pure functions, no sockets).

Request body, what a client POSTs to `/post` (and sends as a WebSocket `json` frame):
    {"header": {...}, "parameters": {...}, "data": [doc, ...], "execEndpoint": "/x", "targetExecutor": "regex"}
A server reads camelCase or snake_case keys, and `data` also in Jina's older `{"docs": [...]}`
form; of `header` it keeps only the request id, and `routes` (which Jina's own client sends) it ignores.

Response body, what a server answers:
    {"header": {"requestId", "status", "execEndpoint", "targetExecutor"}, "parameters": {...},
     "routes": [{"executor", "startTime", "endTime", "status"}], "data": [doc, ...]}
A status is `null` when it says nothing (success, no description, no exception); stack traces are
only written when asked for (the bridge's debug mode).

Documents are `jina.docjson`'s. What a body gets wrong raises `BodyError` naming where; the bridge
answers it with 422, a client with `BadServer`.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from typing import Any

from google.protobuf import json_format, timestamp_pb2

from jina.docjson import DocumentJsonError, documents_from_json, documents_to_json
from jina.proto import jina_pb2
from jina.wire import dict_to_struct, error_status, new_request_id, struct_to_dict

# the keys of a request body → the field each one sets (camelCase is Jina's spelling)
_REQUEST_KEYS = {
    "data": "data",
    "parameters": "parameters",
    "execEndpoint": "exec_endpoint",
    "exec_endpoint": "exec_endpoint",
    "targetExecutor": "target_executor",
    "target_executor": "target_executor",
    "header": "header",
    "routes": "routes",
}


#: how deep a JSON body may nest arrays and objects (a document's `chunks` take two levels each):
#: well under the 100 levels protobuf's parsers allow and Python's recursion limit, so a hostile
#: body is refused before any recursive parser (json, docjson, protobuf) sees it
DEFAULT_MAX_JSON_DEPTH = 64

# a JSON string (unrolled-loop form: much faster than an alternation in `re`)
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(sorted(set(range(256)) - set(b"[]{}")))
_INNERMOST = re.compile(rb"\[\]|\{\}")


class JsonError(ValueError):
    """A body that is not JSON, or nests deeper than allowed: the bridge answers it with 400.
    The message is a predicate (`is not valid JSON: ...`), to follow `the body ` or `the frame `."""


def json_depth_over(raw: bytes, limit: int) -> bool:
    """Whether `raw` nests arrays/objects deeper than `limit` (or its brackets do not pair up),
    found without recursing: strings dropped, only brackets kept, then the innermost pairs
    removed `limit` times (each pass is one level); anything still open is deeper than that.

    Fast path: a text with no more opening brackets than `limit` cannot be deeper (no scan).
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    brackets = _JSON_STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        if not brackets:
            return False
        shorter = _INNERMOST.sub(b"", brackets)
        if len(shorter) == len(brackets):
            break
        brackets = shorter
    return b"[" in brackets or b"{" in brackets


def loads(raw: bytes | str, max_depth: int = DEFAULT_MAX_JSON_DEPTH) -> Any:
    """`json.loads` for untrusted bodies: JsonError (never RecursionError) for too deep or invalid JSON."""
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if json_depth_over(data, max_depth):
        raise JsonError(f"nests deeper than {max_depth} levels of arrays and objects")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonError(f"is not valid JSON: {exc}") from None
    except RecursionError:  # a limit set above what this interpreter's stack allows
        raise JsonError(f"nests too deep for this server (its limit is {max_depth} levels)") from None


class BodyError(ValueError):
    """A JSON body is not Jina's JSON: `location` says where (`body`, `execEndpoint`, `data[0].text`)."""

    def __init__(self, location: str, message: str):
        super().__init__(f"{location}: {message}")
        self.location = location
        self.message = message


def _documents(items: Any) -> Any:
    try:
        docs = documents_from_json(items)
    except DocumentJsonError as exc:
        raise BodyError(exc.location, exc.message) from None
    except (ValueError, OverflowError) as exc:
        # what protobuf refuses to store (a number out of its field's range, a lone surrogate):
        # the sender's fault, so a 422, never the bridge's 500
        raise BodyError("data", f"a value does not fit its field: {exc}") from None
    _float32_overflow(docs.docs, "data.docs" if isinstance(items, dict) else "data")
    return docs


def _float32_overflow(docs: Any, location: str) -> None:
    """Refuse what JSON cannot write back: a number past a 32-bit float's range (stored as infinity)
    and an infinite tag (`1e400`). NaN in a tensor or embedding stays, as Jina's client sends it."""
    for index, doc in enumerate(docs):
        where = f"{location}[{index}]"
        numbers = [("weight", doc.weight), ("offset", doc.offset)]
        numbers += [(f"location[{i}]", v) for i, v in enumerate(doc.location)]
        for name in ("scores", "evaluations"):
            numbers += [(f"{name}.{key}.value", score.value) for key, score in getattr(doc, name).items()]
        for name, value in numbers:
            if not math.isfinite(value):
                raise BodyError(f"{where}.{name}", "expected a number within a 32-bit float's range")
        if doc.tags:
            _finite(struct_to_dict(doc.tags), f"{where}.tags")
        _float32_overflow(doc.chunks, f"{where}.chunks")
        _float32_overflow(doc.matches, f"{where}.matches")


def _text(value: Any, location: str) -> str | None:
    """A string field of the body: a string (protobuf stores only valid Unicode) or null."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BodyError(location, "expected a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BodyError(location, "expected valid Unicode (a lone surrogate escape is not)") from None
    return value


def _finite(value: Any, location: str) -> None:
    """Refuse numbers JSON cannot write back (1e400 parses to infinity; NaN is Python's extension)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise BodyError(location, "expected a finite number")
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            float(value)
        except OverflowError:
            raise BodyError(location, "a number too large for a double") from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _finite(item, f"{location}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _finite(item, f"{location}[{index}]")


# -- requests --------------------------------------------------------------------------------


def request_to_json(request: jina_pb2.DataRequestProto) -> dict[str, Any]:
    """A request as a client sends it: header and parameters in protobuf's JSON, as Jina's client does."""
    header = request.header
    return {
        "header": json_format.MessageToDict(header),
        # protobuf's mapping refuses NaN and infinities in a Struct, which JSON could not give back
        "parameters": json_format.MessageToDict(request.parameters),
        "data": documents_to_json(request.data.docs),
        "execEndpoint": header.exec_endpoint or "/",
        "targetExecutor": header.target_executor,
    }


def request_from_json(body: Any, exec_endpoint: str | None = None) -> jina_pb2.DataRequestProto:
    """A request as a server reads it; `exec_endpoint` (fixed by a route such as `/index`) wins over the body's.

    Every field may be `null`, which means the same as leaving it out (as in Jina's models); a
    `null` body is an empty one. Each field is checked for its type even where it is not used
    (the body's endpoint on a route that fixes its own), so what the OpenAPI document forbids
    is refused everywhere.
    """
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise BodyError("body", "expected a JSON object")
    unknown = [key for key in body if key not in _REQUEST_KEYS]
    if unknown:
        raise BodyError(unknown[0], f"unknown field; expected one of {', '.join(sorted(set(_REQUEST_KEYS)))}")
    # camelCase wins when both spellings are given, as in Jina's models
    fields: dict[str, Any] = {}
    for key, value in body.items():
        name = _REQUEST_KEYS[key]
        if name not in fields or key != name:
            fields[name] = value
    # both spellings are checked, though one wins
    for key in ("execEndpoint", "exec_endpoint"):
        _text(body.get(key), key)
    for key in ("targetExecutor", "target_executor"):
        pattern = _text(body.get(key), key)
        if pattern:
            try:
                re.compile(pattern)  # as the gateway compiles it (it answers a bad one with 400)
            except re.error as exc:
                raise BodyError(key, f"expected a regular expression: {exc}") from None
    request = jina_pb2.DataRequestProto()
    header = fields.get("header")
    if header is not None and not isinstance(header, dict):
        raise BodyError("header", "expected an object")
    header = header or {}
    request_id = None
    for key in ("requestId", "request_id"):
        request_id = request_id or _text(header.get(key), f"header.{key}")
    request.header.request_id = request_id or new_request_id()
    routes = fields.get("routes")
    if routes is not None and not isinstance(routes, list):
        raise BodyError("routes", "expected a list")
    request.header.exec_endpoint = exec_endpoint or fields.get("exec_endpoint") or "/"
    if fields.get("target_executor"):
        request.header.target_executor = fields["target_executor"]
    parameters = fields.get("parameters")
    if parameters is not None:
        if not isinstance(parameters, dict):
            raise BodyError("parameters", "expected an object")
        _finite(parameters, "parameters")
        try:
            dict_to_struct(parameters, request.parameters)
        except ValueError as exc:
            raise BodyError("parameters", str(exc)) from None
    request.data.docs.CopyFrom(_documents(fields.get("data")))
    return request


# -- responses -------------------------------------------------------------------------------


def _time_to_json(ts: timestamp_pb2.Timestamp) -> str | None:
    if not ts.seconds and not ts.nanos:
        return None
    # what Jina writes: ISO 8601 with microseconds and an explicit UTC offset
    moment = datetime.datetime.fromtimestamp(ts.seconds, tz=datetime.timezone.utc)
    return moment.replace(microsecond=ts.nanos // 1000).isoformat()


def response_to_json(response: jina_pb2.DataRequestProto, with_stacks: bool = False) -> dict[str, Any]:
    """A response as a server answers it: every key present, as Jina's pydantic models write them."""
    header = response.header
    return {
        "header": {
            "requestId": header.request_id,
            "status": status_to_json(header.status, with_stacks),
            "execEndpoint": header.exec_endpoint,
            "targetExecutor": header.target_executor,
        },
        "parameters": struct_to_dict(response.parameters),
        "routes": [
            {
                "executor": route.executor,
                "startTime": _time_to_json(route.start_time),
                "endTime": _time_to_json(route.end_time),
                "status": status_to_json(route.status, with_stacks) if route.HasField("status") else None,
            }
            for route in response.routes
        ],
        "data": documents_to_json(response.data.docs),
    }


def response_from_json(body: Any) -> jina_pb2.DataRequestProto:
    """A response as a client reads it, from our bridge or from Jina (unknown keys are ignored).

    Everything but the documents goes through protobuf's JSON mapping, which reads both Jina's
    camelCase and snake_case, status codes as numbers or names, and RFC 3339 times.
    """
    if not isinstance(body, dict):
        raise BodyError("body", "expected a JSON object")
    proto = jina_pb2.DataRequestProto()
    try:
        json_format.ParseDict({k: v for k, v in body.items() if k != "data"}, proto, ignore_unknown_fields=True)
    except json_format.ParseError as exc:
        raise BodyError("body", str(exc)) from None
    proto.data.docs.CopyFrom(_documents(body.get("data")))
    return proto


def failed_request_json(request: jina_pb2.DataRequestProto, name: str, message: str) -> dict[str, Any]:
    """Jina's answer to a request that got none (the gateway failed): the request, echoed, with an error
    status (`name`, `message`) in its header, where Jina's client reads `header.status.description`."""
    error_status(request.header.status, name=name, description=message, args=[message])
    return response_to_json(request)


# -- statuses --------------------------------------------------------------------------------


def status_to_json(status: jina_pb2.StatusProto, with_stacks: bool = False) -> dict[str, Any] | None:
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


def status_from_json(body: Any) -> jina_pb2.StatusProto:
    """A status (`/dry_run`'s answer); anything but an object is no news, i.e. success."""
    status = jina_pb2.StatusProto()
    if isinstance(body, dict):
        try:
            json_format.ParseDict(body, status, ignore_unknown_fields=True)
        except json_format.ParseError as exc:
            raise BodyError("body", str(exc)) from None
    return status


__all__ = [
    "BodyError",
    "DEFAULT_MAX_JSON_DEPTH",
    "JsonError",
    "failed_request_json",
    "json_depth_over",
    "loads",
    "request_from_json",
    "request_to_json",
    "response_from_json",
    "response_to_json",
    "status_from_json",
    "status_to_json",
]
