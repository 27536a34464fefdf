"""A TCP proxy that reads the gRPC messages going one way through it (HTTP/2 in clear text).

It counts the bytes and, for every gRPC message in the client→server direction, records the
compressed flag of its 5-byte prefix and the first bytes of its payload, which tell gzip
(1f 8b) from deflate/zlib (78 ..) from plain protobuf.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from dataclasses import dataclass, field

_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA = 0x0


@dataclass
class Message:
    compressed: bool
    head: bytes


@dataclass
class Spy:
    upstream: tuple[str, int]
    bytes_up: int = 0
    bytes_down: int = 0
    messages: list[Message] = field(default_factory=list)
    port: int = 0

    def algorithms(self) -> set[str]:
        found = set()
        for message in self.messages:
            if not message.compressed:
                found.add("none")
            elif message.head.startswith(b"\x1f\x8b"):
                found.add("gzip")
            elif message.head[:1] == b"\x78":
                found.add("deflate")
            else:
                found.add("unknown")
        return found


class _Parser:
    """HTTP/2 frames → DATA payload per stream → length-prefixed gRPC messages."""

    def __init__(self, spy: Spy):
        self.spy = spy
        self.buffer = b""
        self.streams: dict[int, bytes] = {}
        self.preface_done = False

    def feed(self, data: bytes) -> None:
        self.buffer += data
        if not self.preface_done:
            if len(self.buffer) < len(_PREFACE):
                return
            self.buffer = self.buffer[len(_PREFACE) :]
            self.preface_done = True
        while len(self.buffer) >= 9:
            length = int.from_bytes(self.buffer[:3], "big")
            if len(self.buffer) < 9 + length:
                return
            kind, flags = self.buffer[3], self.buffer[4]
            stream = struct.unpack(">I", self.buffer[5:9])[0] & 0x7FFFFFFF
            payload = self.buffer[9 : 9 + length]
            self.buffer = self.buffer[9 + length :]
            if kind == _DATA:
                if flags & 0x8:  # PADDED
                    pad = payload[0]
                    payload = payload[1 : len(payload) - pad]
                self._grpc(stream, payload)

    def _grpc(self, stream: int, payload: bytes) -> None:
        data = self.streams.get(stream, b"") + payload
        while len(data) >= 5:
            size = int.from_bytes(data[1:5], "big")
            if len(data) < 5 + size:
                break
            self.spy.messages.append(Message(compressed=bool(data[0]), head=data[5:9]))
            data = data[5 + size :]
        self.streams[stream] = data


def start(upstream_port: int, upstream_host: str = "127.0.0.1") -> tuple[Spy, callable]:
    """Run the proxy in a thread; returns the Spy (its `port` to connect to) and a stop function."""
    spy = Spy(upstream=(upstream_host, upstream_port))
    loop = asyncio.new_event_loop()
    started = threading.Event()
    server_box: dict = {}

    async def pipe(reader, writer, count_up: bool, parser: _Parser | None) -> None:
        try:
            while data := await reader.read(65536):
                if count_up:
                    spy.bytes_up += len(data)
                else:
                    spy.bytes_down += len(data)
                if parser is not None:
                    parser.feed(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def handle(client_reader, client_writer) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*spy.upstream)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(
            pipe(client_reader, server_writer, True, _Parser(spy)),
            pipe(server_reader, client_writer, False, None),
        )

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        spy.port = server.sockets[0].getsockname()[1]
        server_box["server"] = server
        started.set()
        async with server:
            try:
                await server.serve_forever()
            finally:
                # close what is still open, so the loop can be closed without leaking sockets
                for task in asyncio.all_tasks() - {asyncio.current_task()}:
                    task.cancel()

    thread = threading.Thread(target=lambda: loop.run_until_complete(_quiet(main())), daemon=True)
    thread.start()
    started.wait(5)

    def stop() -> None:
        loop.call_soon_threadsafe(server_box["server"].close)
        thread.join(5)
        loop.close()

    return spy, stop


async def _quiet(coroutine) -> None:
    try:
        await coroutine
    except asyncio.CancelledError:
        pass
