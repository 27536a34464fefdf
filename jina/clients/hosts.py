"""Where a client connects: `Client(host=..., port=..., protocol=..., tls=...)` resolved to one value."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from jina.excepts import BadConfig

PROTOCOLS = ("grpc", "http", "websocket")

# URL scheme → (protocol, tls)
_SCHEMES = {
    "grpc": ("grpc", False),
    "grpcs": ("grpc", True),
    "http": ("http", False),
    "https": ("http", True),
    "ws": ("websocket", False),
    "wss": ("websocket", True),
    "websocket": ("websocket", False),
}


def normalize_protocol(protocol: object) -> str:
    """'grpc', 'GRPC', 'ProtocolType.GRPC', 'websocket', ... → one of PROTOCOLS."""
    name = str(getattr(protocol, "name", protocol)).rsplit(".", 1)[-1].lower()
    if name == "ws":
        name = "websocket"
    if name not in PROTOCOLS:
        raise BadConfig(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
    return name


@dataclass(frozen=True)
class Address:
    protocol: str
    host: str
    port: int
    tls: bool

    @property
    def target(self) -> str:
        """host:port as gRPC wants it (IPv6 literals bracketed)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"


def _split_port(host: str, port: int | str | None) -> tuple[str, int | str | None]:
    """Jina's `host='HOST:PORT'` (no scheme): the port taken out of the host; IPv6 only when bracketed."""
    name, colon, named = host.rpartition(":")
    if not colon or not named.isdigit() or (":" in name and not (name.startswith("[") and name.endswith("]"))):
        return host, port
    if port is not None and int(port) != int(named):
        raise BadConfig(f"host {host!r} names port {named} but port={port} was given")
    return name.strip("[]"), named


def resolve_address(
    host: str = "localhost", port: int | str | None = None, protocol: object = "grpc", tls: bool = False
) -> Address:
    """Combine the arguments; a scheme in `host` ('grpcs://h:1234', 'https://h') sets protocol and TLS, and
    a port in it ('h:1234', as Jina accepts too) is the port."""
    protocol_name = normalize_protocol(protocol)
    if "://" in host:
        parts = urlsplit(host)
        if parts.scheme not in _SCHEMES:
            raise BadConfig(f"host {host!r}: unknown scheme {parts.scheme!r}")
        protocol_name, tls_from_scheme = _SCHEMES[parts.scheme]
        tls = tls or tls_from_scheme
        if parts.port is not None:
            if port is not None and int(port) != parts.port:
                raise BadConfig(f"host {host!r} names port {parts.port} but port={port} was given")
            port = parts.port
        host = parts.hostname or "localhost"
    else:
        host, port = _split_port(host, port)
    if port is None:
        if tls:
            port = 443
        else:
            raise BadConfig("the Flow's port is required: Client(port=...) or Client(host='grpc://HOST:PORT')")
    try:
        port_number = int(port)
    except (TypeError, ValueError):
        raise BadConfig(f"port {port!r} is not a number") from None
    if not 0 < port_number < 65536:
        raise BadConfig(f"port {port_number} is out of range")
    return Address(protocol=protocol_name, host=host, port=port_number, tls=bool(tls))
