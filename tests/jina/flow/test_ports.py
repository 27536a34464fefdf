"""Free ports are chosen outside the range outgoing connections take their local ports from."""

from __future__ import annotations

import socket

from jina.flow import ports


def test_free_ports_are_outside_the_ephemeral_range_and_bindable():
    low, high = ports._ephemeral_range()
    chosen = [ports.free_port() for _ in range(50)]
    assert len(set(chosen)) == 50, "a port is not handed out twice in a row"
    for port in chosen:
        assert 20000 <= port < low or high < port <= 65535
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", chosen[0]))
