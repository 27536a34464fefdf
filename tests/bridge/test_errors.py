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
