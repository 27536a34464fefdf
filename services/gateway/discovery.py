"""Replica discovery by DNS: which addresses are names, what a name resolves to, what changed."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

#: resolves one "host:port" to every "ip:port" behind it (raises OSError when it cannot)
Resolver = Callable[[str], Awaitable[Sequence[str]]]


def split_address(address: str) -> tuple[str, int]:
    """("host", port) from "host:port" or "[v6]:port"."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{address!r} is not HOST:PORT")
    return host.removeprefix("[").removesuffix("]"), int(port)


def join_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return False
    return True


def is_name(address: str) -> bool:
    """Whether the address names its host (so it may stand for several replicas) rather than an IP."""
    return not is_ip_literal(split_address(address)[0])


def pick_addresses(infos: Iterable[tuple], port: int) -> tuple[str, ...]:
    """The "ip:port" of every IPv4 answer of getaddrinfo, or of the IPv6 ones when there is no IPv4.

    IPv4 first: containers usually have it everywhere, while an AAAA record can point at an
    interface the executor does not listen on.
    """
    by_family: dict[int, list[str]] = {socket.AF_INET: [], socket.AF_INET6: []}
    for family, *_, sockaddr in infos:
        found = by_family.get(family)
        if found is not None:
            address = join_address(sockaddr[0], port)
            if address not in found:
                found.append(address)
    return tuple(by_family[socket.AF_INET] or by_family[socket.AF_INET6])


async def resolve_all(address: str) -> tuple[str, ...]:
    """Every address behind "name:port", through the system resolver (DNS, /etc/hosts ...)."""
    host, port = split_address(address)
    if is_ip_literal(host):
        return (join_address(host, port),)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return pick_addresses(infos, port)


def changes(current: Sequence[str], wanted: Sequence[str]) -> tuple[list[str], list[str]]:
    """(added, removed) to go from `current` to `wanted`, in their orders."""
    have, want = set(current), set(wanted)
    return [a for a in wanted if a not in have], [a for a in current if a not in want]
