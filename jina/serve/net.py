"""Small network helpers shared by the service processes and the Flow that starts them."""

from __future__ import annotations

import asyncio
import socket


class PortInUseError(OSError):
    """A server cannot listen on its port: something else does."""


def port_in_use(host: str, port: int) -> PortInUseError:
    return PortInUseError(f"cannot listen on {host}:{port}: port {port} is already in use")


def port_is_free(port: int, host: str = "0.0.0.0") -> bool:
    """Whether a server could listen on the port now (connections lingering in TIME_WAIT from an
    earlier server do not count: servers bind with SO_REUSEADDR, and so does this check)."""
    bind_host = "" if host in ("0.0.0.0", "") else host
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((bind_host, port))
        except OSError:
            return False
        return True


def require_free_port(host: str, port: int) -> None:
    """Raise PortInUseError, naming the port, unless a server could listen on it now."""
    if not port_is_free(port, host):
        raise port_in_use(host, port)


async def wait_listening(address: str, timeout: float, interval: float = 0.02) -> bool:
    """Poll with plain TCP connects until `host:port` accepts, for at most `timeout` seconds.

    Used at start-up, when the peer is usually still starting: connecting through gRPC instead
    would leave the channel in gRPC's reconnect back-off, so the first real call would fail or wait.
    """
    host, _, port = address.rpartition(":")
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(host.strip("[]"), int(port))
        except OSError:
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(interval)
            continue
        writer.close()
        return True
