"""Checking the values of one `Flow.add()`: where an external executor runs, ports, polling, batching.

Rules for an external executor (Jina's `host`/`port`/`tls` forms), made into one `host:port` per replica:

* `host` is one host or a list (one per replica); each may carry its port (`h:8081`) and a
  scheme: `grpc://` (plaintext) or `grpcs://` (TLS); no other scheme is an executor's;
* `port` is one port for every host, or a list with one port per host; a host that carries its
  own port keeps it; a host left without a port is an error;
* TLS is on when `tls=True` or every host says `grpcs://`; hosts that mix schemes are an error.
"""

from __future__ import annotations

from typing import Any

from jina.excepts import BadConfig

_SCHEMES = {"grpc": False, "grpcs": True}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _port_number(value: Any, what: str) -> int:
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < 65536:
        raise BadConfig(f"{what}: {value!r} is not a TCP port number")
    return value


def _split(entry: Any, what: str) -> tuple[bool | None, str, int | None]:
    """(tls from the scheme or None, host, port or None) of one `host` entry."""
    if not isinstance(entry, str) or not entry.strip():
        raise BadConfig(f"{what}: {entry!r} is not a host name or address")
    text = entry.strip()
    tls: bool | None = None
    if "://" in text:
        scheme, _, text = text.partition("://")
        if scheme.lower() not in _SCHEMES:
            raise BadConfig(
                f"{what}: {entry!r} has the scheme {scheme + '://'!r}; an executor speaks gRPC: "
                "write grpc://HOST:PORT, grpcs://HOST:PORT (TLS) or HOST:PORT"
            )
        tls = _SCHEMES[scheme.lower()]
        text = text.rstrip("/")
    if "/" in text or not text:
        raise BadConfig(f"{what}: {entry!r} is not HOST or HOST:PORT")
    if text.startswith("["):  # [ipv6]:port
        host, _, rest = text.partition("]")
        host, port_text = host + "]", rest[1:] if rest.startswith(":") else None
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:
        host, port_text = text, None
    port = _port_number(port_text, f"{what} {entry!r}") if port_text is not None else None
    return tls, host, port


def external_addresses(host: Any, port: Any, tls: bool | None, name: str) -> tuple[tuple[str, ...], bool]:
    """(`host:port` of each replica, whether to dial them over TLS) for `add(host=..., port=..., external=True)`."""
    what = f"executor {name!r}"
    hosts = _as_list(host)
    if not hosts:
        raise BadConfig(f"{what}: external=True needs host= (where the executor runs), e.g. host='10.0.0.5', port=8081")
    ports = _as_list(port)
    if len(ports) > 1 and len(ports) != len(hosts):
        raise BadConfig(f"{what}: {len(ports)} ports for {len(hosts)} hosts; give one port, or one per host")
    addresses: list[str] = []
    schemes: set[bool] = set()
    for index, entry in enumerate(hosts):
        scheme_tls, address, own_port = _split(entry, f"{what} host")
        if scheme_tls is not None:
            schemes.add(scheme_tls)
        chosen = own_port
        if chosen is None and ports:
            chosen = _port_number(ports[index] if len(ports) > 1 else ports[0], f"{what} port")
        if chosen is None:
            raise BadConfig(f"{what}: host {entry!r} has no port; write HOST:PORT or give port=")
        addresses.append(f"{address}:{chosen}")
    if len(schemes) > 1:
        raise BadConfig(f"{what}: its hosts mix grpc:// and grpcs://; the replicas of one executor speak alike")
    use_tls = bool(tls) or schemes == {True}
    if tls is False and schemes == {True}:
        raise BadConfig(f"{what}: grpcs:// asks for TLS but tls=False was given")
    return tuple(addresses), use_tls


def local_port(port: Any, name: str, processes: int) -> int | None:
    """The fixed port of a local executor (Jina's saved YAML writes it as a list of one)."""
    ports = _as_list(port)
    if not ports:
        return None
    if len(ports) > 1:
        raise BadConfig(f"executor {name!r}: port= takes one port for an executor started by the Flow")
    number = _port_number(ports[0], f"executor {name!r} port")
    return number if processes == 1 else None


def check_polling(polling: Any, name: str) -> str | dict[str, str]:
    """'ANY' | 'ALL' | {endpoint: 'ANY'|'ALL'} (any case) → upper-case policy names."""

    def policy(value: Any) -> str:
        if isinstance(value, str) and value.upper() in ("ANY", "ALL"):
            return value.upper()
        raise BadConfig(f"executor {name!r}: polling {value!r}: use 'ANY', 'ALL' or {{endpoint: 'ANY'|'ALL'}}")

    if isinstance(polling, dict):
        return {str(endpoint): policy(value) for endpoint, value in polling.items()}
    return policy(polling)


def check_mapping(value: Any, option: str, name: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BadConfig(f"executor {name!r}: {option} must be a mapping, got {type(value).__name__}")
    return dict(value)


def check_batching(value: Any, name: str) -> dict[str, dict[str, Any]]:
    """{endpoint: {"preferred_batch_size": N, "timeout": ms}} checked."""
    table = check_mapping(value, "uses_dynamic_batching", name)
    for endpoint, config in table.items():
        if not isinstance(config, dict):
            raise BadConfig(f"executor {name!r}: uses_dynamic_batching[{endpoint!r}] must be a mapping")
        unknown = set(config) - {"preferred_batch_size", "timeout"}
        if unknown:
            raise BadConfig(
                f"executor {name!r}: uses_dynamic_batching[{endpoint!r}]: unknown {sorted(unknown)}; "
                "it takes preferred_batch_size and timeout (ms)"
            )
        size = config.get("preferred_batch_size")
        if size is not None and (not isinstance(size, int) or isinstance(size, bool) or size < 1):
            raise BadConfig(f"executor {name!r}: preferred_batch_size must be a positive integer, got {size!r}")
        timeout = config.get("timeout")
        if timeout is not None and (not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout < 0):
            raise BadConfig(f"executor {name!r}: dynamic batching timeout must be milliseconds >= 0, got {timeout!r}")
    return table


def positive_int(value: Any, option: str, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise BadConfig(f"executor {name!r}: {option} must be a positive integer, got {value!r}")
    return value


__all__ = [
    "check_batching",
    "check_mapping",
    "check_polling",
    "external_addresses",
    "local_port",
    "positive_int",
]
