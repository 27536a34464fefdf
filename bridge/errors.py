"""One table from gRPC status to HTTP status, and one JSON shape for every error the bridge returns.

The table is grpc-gateway's (`runtime/errors.go`), i.e. the mapping documented in
`google/rpc/code.proto`. Every error body has the same shape:

    {"error": {"code": <HTTP status>, "status": "<gRPC status name>", "message": "...", "details": [...]}}

An error that belongs to a Jina request (an Executor raised) is Jina's response body (header,
parameters, routes, data) with that same `error` object added, so Jina-aware clients find the
exception in `header.status` and everyone else finds it in `error`.

A message that comes from a failed gRPC call (`from_grpc`) goes through `jina.serve.sanitize`
first: when the gateway itself cannot be reached, gRPC's text names its internal address. A
RESOURCE_EXHAUSTED answer (the gateway's `max_queued_requests`) carries `Retry-After` (RFC 9110
§10.2.3) from the call's `retry-after` trailing metadata, or from the gateway's message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import grpc

from jina.serve.sanitize import sanitize

# google/rpc/code.proto → HTTP, as grpc-gateway maps them
GRPC_TO_HTTP: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.OK: 200,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
}

# errors the bridge finds itself, before any gRPC call: HTTP status → the gRPC status it stands for
_LOCAL_STATUS = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    403: grpc.StatusCode.PERMISSION_DENIED,
    404: grpc.StatusCode.NOT_FOUND,
    405: grpc.StatusCode.UNIMPLEMENTED,
    408: grpc.StatusCode.DEADLINE_EXCEEDED,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    431: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.INVALID_ARGUMENT,
    422: grpc.StatusCode.INVALID_ARGUMENT,
    500: grpc.StatusCode.INTERNAL,
    503: grpc.StatusCode.UNAVAILABLE,
}


#: the gateway's trailing metadata key, and how its RESOURCE_EXHAUSTED message says the same
RETRY_AFTER_KEY = "retry-after"
_RETRY_AFTER_TEXT = re.compile(r"\bretry after (\d+) s\b")


def retry_after(details: str, trailing_metadata: Iterable[tuple[str, Any]] | None = None) -> str | None:
    """Seconds to wait, as `Retry-After` writes them: from the trailing metadata, else the message."""
    for key, value in trailing_metadata or ():
        if key.lower() == RETRY_AFTER_KEY and str(value).isdigit():
            return str(value)
    found = _RETRY_AFTER_TEXT.search(details or "")
    return found.group(1) if found else None


def http_status(code: grpc.StatusCode) -> int:
    return GRPC_TO_HTTP.get(code, 500)


class HTTPError(Exception):
    """Raised anywhere in the bridge; rendered as the one error shape."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        grpc_status: grpc.StatusCode | None = None,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.grpc_status = grpc_status or _LOCAL_STATUS.get(status, grpc.StatusCode.UNKNOWN)
        self.details = details or []
        self.headers = headers or {}
        self.body = body

    @classmethod
    def unprocessable(cls, location: str, message: str) -> HTTPError:
        """422 for a body the route cannot read, naming where (`data[0].text`), as `jina.httpjson.BodyError` does."""
        return cls(422, f"{location}: {message}", details=[{"location": location, "message": message}])

    @classmethod
    def from_grpc(
        cls,
        code: grpc.StatusCode,
        details: str,
        *,
        debug: bool = False,
        trailing_metadata: Iterable[tuple[str, Any]] | None = None,
    ) -> HTTPError:
        """The error for a failed gRPC call; its details sanitised unless `debug`."""
        headers = {}
        if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
            wait = retry_after(details, trailing_metadata)
            if wait is not None:
                headers["Retry-After"] = wait
        message = sanitize(details, debug=debug) or code.name
        return cls(http_status(code), message, grpc_status=code, headers=headers)

    def to_json(self) -> dict[str, Any]:
        error = {"code": self.status, "status": self.grpc_status.name, "message": self.message, "details": self.details}
        return {**(self.body or {}), "error": error}
