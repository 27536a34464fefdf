"""Reading a request body within the bridge's size limit (413 over it, before or while it arrives)."""

from __future__ import annotations

from jina_mesh.bridge.errors import HTTPError
from starlette.requests import ClientDisconnect, Request


class ClientGone(Exception):
    """The client disconnected: there is nobody to answer."""


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body; HTTPError 413 when it is (or says it will be) over `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise HTTPError(413, f"the body ({declared} bytes) is over the limit of {limit} bytes")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise HTTPError(413, f"the body is over the limit of {limit} bytes")
            chunks.append(chunk)
    except (OSError, ClientDisconnect):
        raise ClientGone from None
    return b"".join(chunks)
