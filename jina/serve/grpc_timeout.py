"""The `Grpc-Timeout` header: a request's deadline over HTTP and WebSocket, as gRPC writes it.

gRPC's HTTP/2 protocol (and grpc-gateway, for HTTP/JSON) carries a deadline as
`grpc-timeout: <1 to 8 digits><unit>`, the unit one of `H` hours, `M` minutes, `S` seconds,
`m` milliseconds, `u` microseconds, `n` nanoseconds: `grpc-timeout: 2S`, `500m`. The bridge reads it
from an HTTP request or a WebSocket handshake (browsers cannot set WebSocket headers, so the
handshake's `?grpc-timeout=` query parameter means the same); our HTTP client writes it.
"""

from __future__ import annotations

import math
import re

from jina.proto import jina_pb2

HEADER = "grpc-timeout"
#: the query parameter that stands for the header on a WebSocket handshake
QUERY_PARAMETER = "grpc-timeout"

_SECONDS_PER_UNIT = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}
_VALUE = re.compile(r"([0-9]{1,8})([HMSmun])")


class BadTimeout(ValueError):
    pass


def parse(value: str) -> float:
    """Seconds; BadTimeout (saying the format) when `value` is not a grpc-timeout value, or is 0."""
    match = _VALUE.fullmatch(value.strip())
    if match is None:
        raise BadTimeout(
            f"{HEADER} {value!r} is not a timeout: write up to 8 digits and a unit, "
            "H, M, S, m (milliseconds), u or n, e.g. '2S' or '500m'"
        )
    seconds = int(match.group(1)) * _SECONDS_PER_UNIT[match.group(2)]
    if seconds <= 0:
        raise BadTimeout(f"{HEADER} {value!r}: a deadline must be later than now")
    return seconds


def format_milliseconds(milliseconds: int) -> str:
    """A header value for a deadline of `milliseconds` (as a request header's `timeout` holds it)."""
    if milliseconds < 100_000_000:
        return f"{milliseconds}m"
    return f"{min(-(-milliseconds // 1000), 99_999_999)}S"


def to_milliseconds(seconds: float) -> int:
    """A request header's `timeout` (whole milliseconds, at least 1) for a deadline in seconds."""
    return max(1, math.ceil(seconds * 1000))


def bound_deadline(request: jina_pb2.DataRequestProto, timeout_ms: int | None) -> bool:
    """Give `request` the deadline `timeout_ms` unless its own is earlier; whether it changed."""
    if not timeout_ms or (request.header.timeout and request.header.timeout <= timeout_ms):
        return False
    request.header.timeout = timeout_ms
    return True
