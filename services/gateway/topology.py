"""The Flow's executors as the gateway sees them: names, addresses, order (pure configuration)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class ExecutorNode:
    name: str
    #: one address per replica, "host:port"
    addresses: tuple[str, ...]


@dataclass(frozen=True)
class Topology:
    """Executors in the order a request visits them."""

    executors: tuple[ExecutorNode, ...] = ()

    @classmethod
    def parse(cls, specs: list[str]) -> Topology:
        """From `NAME=HOST:PORT[,HOST:PORT...]` items (one per executor, in chain order)."""
        nodes = []
        seen: set[str] = set()
        for spec in specs:
            name, sep, addresses = spec.partition("=")
            if not sep or not name or not addresses:
                raise ValueError(f"executor {spec!r}: expected NAME=HOST:PORT[,HOST:PORT...]")
            if not _NAME.match(name):
                raise ValueError(f"executor name {name!r}: use letters, digits, '_', '-' or '.'")
            if name in seen:
                raise ValueError(f"executor name {name!r} appears twice")
            seen.add(name)
            parsed = tuple(_check_address(a.strip(), name) for a in addresses.split(",") if a.strip())
            nodes.append(ExecutorNode(name=name, addresses=parsed))
        return cls(executors=tuple(nodes))


def _check_address(address: str, name: str) -> str:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"executor {name!r}: address {address!r} is not HOST:PORT")
    return address
