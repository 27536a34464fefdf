"""gRPC channel and server options shared by every hop (message-size limits, port binding)."""

from __future__ import annotations

import os

#: default limit for one message on every hop: a 50 MB request fits, a 60 MB one does not
DEFAULT_MAX_MESSAGE_BYTES = 50 * 1024 * 1024

_SEND_ENV = "JINA_GRPC_SEND_BYTES"
_RECV_ENV = "JINA_GRPC_RECV_BYTES"


def _limit_from_env(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number of bytes") from None
    # gRPC takes -1 as "no limit"
    return -1 if value <= 0 else value


def message_limits() -> tuple[int, int]:
    """(max send, max receive) message sizes in bytes."""
    return (
        _limit_from_env(_SEND_ENV, DEFAULT_MAX_MESSAGE_BYTES),
        _limit_from_env(_RECV_ENV, DEFAULT_MAX_MESSAGE_BYTES),
    )


def channel_options() -> list[tuple[str, int | str]]:
    send, recv = message_limits()
    return [
        ("grpc.max_send_message_length", send),
        ("grpc.max_receive_message_length", recv),
        # a persistent channel must notice a dead peer instead of hanging on it
        ("grpc.keepalive_time_ms", 30_000),
        ("grpc.keepalive_timeout_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
        # a replica that restarts is found again within a second or two, not gRPC's default 2 min
        ("grpc.initial_reconnect_backoff_ms", 100),
        ("grpc.min_reconnect_backoff_ms", 100),
        ("grpc.max_reconnect_backoff_ms", 2000),
    ]


def server_options() -> list[tuple[str, int | str]]:
    send, recv = message_limits()
    return [
        ("grpc.max_send_message_length", send),
        ("grpc.max_receive_message_length", recv),
        # gRPC sets SO_REUSEPORT by default, which lets a second server silently share a port
        # that is already in use; a taken port must be an error instead.
        ("grpc.so_reuseport", 0),
        ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
        ("grpc.keepalive_permit_without_calls", 1),
    ]
