"""`Client(...)`: pick the client for a protocol and address."""

from __future__ import annotations

import importlib
from typing import Any

from jina.clients.hosts import resolve_address
from jina.clients.transport import ClientTransport
from jina.excepts import BadConfig

# protocol → the module holding its clients, the synchronous one and the asyncio one
_CLIENTS = {
    "grpc": ("jina.clients.grpc", "GRPCClient", "AsyncGRPCClient"),
    "http": ("jina.clients.http", "HTTPClient", "AsyncHTTPClient"),
    "websocket": ("jina.clients.websocket", "WebSocketClient", "AsyncWebSocketClient"),
}


def Client(  # noqa: N802 (Jina's spelling: a factory that reads like a class)
    host: str = "localhost",
    port: int | str | None = None,
    protocol: object = "grpc",
    asyncio: bool = False,
    tls: bool = False,
    prefetch: int | None = None,
    compression: object = None,
    ca_certs: str | None = None,
    max_message_bytes: int | None = None,
    timeout: float | None = None,
    client_cert: str | None = None,
    client_key: str | None = None,
    access_token: str | None = None,
    **_ignored: Any,
):
    """A client of a Flow's gateway.

    `Client(port=12345)` talks gRPC to localhost; `protocol='http'`/`'websocket'` go through the
    bridge (`tls=True`: https/wss); `host='grpcs://example.com:443'` sets protocol, TLS and port
    at once. With `asyncio=True`, `post()` is an async generator. `ca_certs` names the PEM file of
    the authority to trust for TLS (e.g. a self-signed certificate's); `compression` (none, gzip,
    deflate) applies to what a gRPC client sends; `timeout` (seconds) is the deadline of each request
    of a `post()` that gives none. `client_cert`/`client_key` (PEM files) answer a gateway that asks
    for a client certificate (mutual TLS); `access_token` goes as `authorization: Bearer ...` with every
    call, for a Flow started with `access_token=`.
    """
    transport = ClientTransport.build(
        compression,
        ca_certs,
        max_message_bytes,
        client_cert=client_cert,
        client_key=client_key,
        access_token=access_token,
    )
    address = resolve_address(host, port, protocol, tls or transport.tls_required)
    if address.protocol not in _CLIENTS:
        raise BadConfig(f"protocol {address.protocol!r} has no client")
    module, sync_name, async_name = _CLIENTS[address.protocol]
    # imported only when chosen: a gRPC client never loads httpx or websockets
    client_class = getattr(importlib.import_module(module), async_name if asyncio else sync_name)
    client = client_class(address, prefetch=prefetch, transport=transport)
    client.timeout = timeout
    return client


__all__ = ["Client"]
