from __future__ import annotations

import grpc
import pytest
from jina_mesh.bridge.errors import GRPC_TO_HTTP, HTTPError, http_status

# google/rpc/code.proto, as grpc-gateway's runtime/errors.go maps it
TABLE = [
    (grpc.StatusCode.OK, 200),
    (grpc.StatusCode.CANCELLED, 499),
    (grpc.StatusCode.UNKNOWN, 500),
    (grpc.StatusCode.INVALID_ARGUMENT, 400),
    (grpc.StatusCode.DEADLINE_EXCEEDED, 504),
    (grpc.StatusCode.NOT_FOUND, 404),
    (grpc.StatusCode.ALREADY_EXISTS, 409),
    (grpc.StatusCode.PERMISSION_DENIED, 403),
    (grpc.StatusCode.UNAUTHENTICATED, 401),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, 429),
    (grpc.StatusCode.FAILED_PRECONDITION, 400),
    (grpc.StatusCode.ABORTED, 409),
    (grpc.StatusCode.OUT_OF_RANGE, 400),
    (grpc.StatusCode.UNIMPLEMENTED, 501),
    (grpc.StatusCode.INTERNAL, 500),
    (grpc.StatusCode.UNAVAILABLE, 503),
    (grpc.StatusCode.DATA_LOSS, 500),
]


@pytest.mark.parametrize(("code", "status"), TABLE)
def test_grpc_to_http(code, status):
    assert http_status(code) == status


def test_table_covers_every_code():
    assert set(GRPC_TO_HTTP) == set(grpc.StatusCode)


@pytest.mark.parametrize(
    ("error", "body"),
    [
        (HTTPError(404, "gone"), {"error": {"code": 404, "status": "NOT_FOUND", "message": "gone", "details": []}}),
        (
            HTTPError.from_grpc(grpc.StatusCode.UNAVAILABLE, "down"),
            {"error": {"code": 503, "status": "UNAVAILABLE", "message": "down", "details": []}},
        ),
        (
            HTTPError(500, "boom", grpc_status=grpc.StatusCode.UNKNOWN, body={"header": {}}),
            {"header": {}, "error": {"code": 500, "status": "UNKNOWN", "message": "boom", "details": []}},
        ),
    ],
)
def test_one_error_shape(error, body):
    assert error.to_json() == body


# -- what a failed gRPC call may tell an HTTP client ----------------------------------------------

_GATEWAY_DOWN = (
    "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:43211: "
    "Failed to connect to remote host: Connection refused"
)


def test_grpc_details_are_sanitised():
    error = HTTPError.from_grpc(grpc.StatusCode.UNAVAILABLE, _GATEWAY_DOWN)
    assert error.status == 503
    assert "127.0.0.1" not in error.message and "43211" not in error.message
    assert error.message == "could not connect"


def test_debug_keeps_grpc_details():
    assert HTTPError.from_grpc(grpc.StatusCode.UNAVAILABLE, _GATEWAY_DOWN, debug=True).message == _GATEWAY_DOWN


def test_empty_details_name_the_code():
    assert HTTPError.from_grpc(grpc.StatusCode.INTERNAL, "").message == "INTERNAL"


@pytest.mark.parametrize(
    ("details", "metadata", "wanted"),
    [
        ("the gateway is at its limit of 2 queued requests (max_queued_requests); retry after 3 s", None, "3"),
        ("at its limit", (("retry-after", "7"),), "7"),
        ("at its limit; retry after 3 s", (("Retry-After", "7"),), "7"),  # the metadata wins
        ("at its limit", (("retry-after", "soon"),), None),  # not seconds: left out
        ("at its limit", None, None),
    ],
)
def test_resource_exhausted_says_when_to_retry(details, metadata, wanted):
    error = HTTPError.from_grpc(grpc.StatusCode.RESOURCE_EXHAUSTED, details, trailing_metadata=metadata)
    assert error.status == 429
    assert error.headers.get("Retry-After") == wanted


def test_retry_after_only_on_resource_exhausted():
    error = HTTPError.from_grpc(grpc.StatusCode.UNAVAILABLE, "down; retry after 3 s")
    assert "Retry-After" not in error.headers
