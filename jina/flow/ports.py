"""Free TCP ports for the processes of a Flow.

A port is chosen some time before the process that will listen on it binds it. Ports the OS
hands out for port 0 come from the same range it takes outgoing connections' local ports from
(`ip_local_port_range`), so any connection opened meanwhile (a gateway knocking at an executor
that is not up yet, say) could take the chosen port first. Ports are therefore chosen outside
that range, where only a program binding that very number could collide.
"""

from __future__ import annotations

import random
import socket
from collections import deque
from pathlib import Path

from jina.serve.net import port_is_free

#: below this, ports are left to well-known services
_LOWEST = 20000
#: Linux's default ephemeral range, for systems that do not tell
_DEFAULT_EPHEMERAL = (32768, 60999)
#: ports handed out lately: not handed out again before they had a chance to be bound
_recent: deque[int] = deque(maxlen=512)


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = (int(v) for v in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
        return low, high
    except (OSError, ValueError):
        return _DEFAULT_EPHEMERAL


def _candidates() -> list[range]:
    low, high = _ephemeral_range()
    ranges = [range(_LOWEST, low), range(high + 1, 65536)]
    return [r for r in ranges if len(r) > 0]


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on right now, outside the OS's ephemeral range (see above)."""
    ranges = _candidates()
    weights = [len(r) for r in ranges]
    for _ in range(200):
        if not ranges:
            break
        port = random.choice(random.choices(ranges, weights=weights)[0])
        if port not in _recent and port_is_free(port, host):
            _recent.append(port)
            return port
    bind_host = "" if host in ("0.0.0.0", "") else host
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # every candidate taken: let the OS pick
        sock.bind((bind_host, 0))
        return sock.getsockname()[1]
