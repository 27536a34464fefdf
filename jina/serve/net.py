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


def private_address() -> str:
    """An IPv4 address of this machine on a local network, found without sending anything: the first
    non-loopback address of an interface, else what the host name resolves to, else 127.0.0.1."""
    try:
        import fcntl
        import struct

        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            for _index, name in socket.if_nameindex():
                try:
                    packed = fcntl.ioctl(probe.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
                except OSError:
                    continue  # no IPv4 address on it
                address = socket.inet_ntoa(packed[20:24])
                if not address.startswith("127."):
                    return address
    except (ImportError, OSError):
        pass
    try:
        for *_, sockaddr in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            if not str(sockaddr[0]).startswith("127."):
                return str(sockaddr[0])
    except OSError:
        pass
    return "127.0.0.1"
