"""Which browser origins may call the bridge: CORS for HTTP, the Origin check for WebSockets.

`cors` (the Flow option) means:

* `False` (the default): no CORS headers; a WebSocket is accepted only from a client that sends
  no `Origin` (not a browser) or from the bridge's own origin (the `Origin`'s host:port is the
  `Host` header), which stops cross-site WebSocket hijacking (browsers do not apply CORS to
  WebSockets, so the server must check, RFC 6455 §10.2);
* `True`: any origin, without credentials: `Access-Control-Allow-Origin: *` and never
  `Access-Control-Allow-Credentials` (the Fetch standard's safe "public API" setting); WebSockets
  from any origin;
* a list of origins (`["https://app.example"]`): only those (and the bridge's own origin), with
  credentials: the listed origin is echoed with `Access-Control-Allow-Credentials: true`.

Origins compare as browsers write them (RFC 6454 §6.1): `scheme://host[:port]`, lower case,
the scheme's default port left out.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def normalize_origin(origin: str) -> str | None:
    """`scheme://host[:port]` as a browser sends it, or None if `origin` is not one (e.g. `null`)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username or parts.password:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


def check_origins(origins: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The configured CORS list, normalized; ValueError naming the first entry that is not an origin."""
    out = []
    for origin in origins:
        if not isinstance(origin, str):
            raise ValueError(f"cors: {origin!r} is not an origin; write 'https://host[:port]'")
        if origin.strip() == "*":
            raise ValueError("cors: '*' in a list would allow credentials from any site; use cors=True for any origin")
        normalized = normalize_origin(origin)
        if normalized is None:
            raise ValueError(f"cors: {origin!r} is not an origin; write 'scheme://host[:port]' (no path)")
        out.append(normalized)
    return tuple(dict.fromkeys(out))


def _host_port(netloc: str, scheme: str) -> str:
    """`host:port` of a Host header or an origin's netloc, the default port of `scheme` filled in."""
    try:
        parts = urlsplit(f"//{netloc.strip()}")
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    return f"{host}:{port if port is not None else _DEFAULT_PORTS.get(scheme, 80)}"


def same_origin(origin: str, host_header: str) -> bool:
    """Whether `origin`'s host:port is the one the client asked for in `Host` (the bridge itself)."""
    normalized = normalize_origin(origin)
    if normalized is None or not host_header:
        return False
    scheme, _, netloc = normalized.partition("://")
    # Host carries no scheme: read it with the origin's default port (`Host: a` = `a:80` for http)
    return _host_port(netloc, scheme) == _host_port(host_header, scheme)


def websocket_refusal(cors: bool | tuple[str, ...], origin: str | None, host_header: str) -> str | None:
    """Why a WebSocket from `origin` is refused, or None if it is allowed."""
    if origin is None or cors is True:
        return None
    if same_origin(origin, host_header):
        return None
    if cors and normalize_origin(origin) in cors:
        return None
    allowed = "the bridge's own origin" + (f" or one of {', '.join(cors)}" if cors else "")
    return f"WebSocket from origin {origin!r} refused: only {allowed} may connect (see the `cors` option)"


def with_cors(app: ASGIApp, cors: bool | tuple[str, ...]) -> ASGIApp:
    """`app` behind Starlette's CORS middleware as `cors` says (unchanged when off)."""
    if not cors:
        return app
    origins = ["*"] if cors is True else list(cors)
    # credentials only with an explicit list: `*` with credentials would let any site act as the user
    credentials = cors is not True
    return CORSMiddleware(
        app, allow_origins=origins, allow_credentials=credentials, allow_methods=["*"], allow_headers=["*"]
    )
