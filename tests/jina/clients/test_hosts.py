from __future__ import annotations

import pytest

from jina.clients.hosts import Address, normalize_protocol, resolve_address
from jina.excepts import BadConfig


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"port": 12345}, Address("grpc", "localhost", 12345, False)),
        ({"host": "grpc://example.org:81"}, Address("grpc", "example.org", 81, False)),
        ({"host": "grpcs://example.org"}, Address("grpc", "example.org", 443, True)),
        ({"host": "https://example.org:8443"}, Address("http", "example.org", 8443, True)),
        ({"host": "ws://h:1"}, Address("websocket", "h", 1, False)),
        ({"host": "10.0.0.1", "port": "80", "protocol": "HTTP"}, Address("http", "10.0.0.1", 80, False)),
        ({"port": 5, "tls": True}, Address("grpc", "localhost", 5, True)),
        # Jina's host="HOST:PORT"
        ({"host": "10.0.0.1:8080"}, Address("grpc", "10.0.0.1", 8080, False)),
        ({"host": "h:81", "port": 81, "protocol": "http"}, Address("http", "h", 81, False)),
        ({"host": "[::1]:5"}, Address("grpc", "::1", 5, False)),
        ({"host": "::1", "port": 7}, Address("grpc", "::1", 7, False)),
    ],
)
def test_resolve_address(kwargs, expected):
    assert resolve_address(**kwargs) == expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"port": 0},
        {"port": "abc"},
        {"host": "ftp://x:1"},
        {"host": "grpc://x:1", "port": 2},
        {"host": "x:1", "port": 2},
        {"host": "::1"},
        {"port": 1, "protocol": "smtp"},
    ],
)
def test_resolve_address_errors(kwargs):
    with pytest.raises(BadConfig):
        resolve_address(**kwargs)


def test_normalize_protocol_accepts_enum_like_spellings():
    assert normalize_protocol("ProtocolType.GRPC") == "grpc"
    assert normalize_protocol("WS") == "websocket"


def test_ipv6_target_is_bracketed():
    assert Address("grpc", "::1", 5, False).target == "[::1]:5"
