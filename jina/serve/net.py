"""Small network helpers shared by the service processes."""

from __future__ import annotations

import asyncio


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
