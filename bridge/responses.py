"""JSON responses of the bridge: a body, and the one error shape (`bridge/errors.py`)."""

from __future__ import annotations

import json
from typing import Any

from jina_mesh.bridge.errors import HTTPError
from starlette.responses import Response


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def error_response(error: HTTPError) -> Response:
    return json_response(error.to_json(), error.status, error.headers)
