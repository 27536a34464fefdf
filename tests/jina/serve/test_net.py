"""The port check every service process and the Flow use before they listen."""

from __future__ import annotations

import socket

import pytest

from jina.serve.net import PortInUseError, port_is_free, require_free_port


def test_a_port_with_a_listener_is_not_free():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert not port_is_free(port, "127.0.0.1")
        with pytest.raises(PortInUseError, match=f"cannot listen on 127.0.0.1:{port}: port {port} is already in use"):
            require_free_port("127.0.0.1", port)
