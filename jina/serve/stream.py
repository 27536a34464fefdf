"""Serve a bidirectional stream of requests concurrently, with a prefetch limit and ordering choice.

`serve_stream` reads requests from an async iterator and handles each in its own task. With
`prefetch = N > 0` at most N requests are in flight: the next request is *read* only after one
completes (a semaphore, not a busy-wait). Responses are yielded in completion order, or in
request order with `in_order=True`. Releasing a slot never waits for the consumer, so a slow
reader of responses cannot deadlock the stream (Jina's WebSocket bug #4990).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from jina.wire import IN_ORDER_KEY, PREFETCH_KEY

Request = TypeVar("Request")
Response = TypeVar("Response")

_END = object()


class Drain:
    """Lets a server stop every open stream from reading new requests (graceful shutdown)."""

    def __init__(self) -> None:
        self.draining = False
        self._readers: set[asyncio.Task] = set()

    def register(self, reader: asyncio.Task) -> None:
        if self.draining:
            reader.cancel()
            return
        self._readers.add(reader)
        reader.add_done_callback(self._readers.discard)

    def start(self) -> None:
        self.draining = True
        for reader in list(self._readers):
            reader.cancel()


def stream_options(metadata, default_prefetch: int) -> tuple[bool, int]:
    """(in_order, prefetch) from a stream's invocation metadata (Jina's key names)."""
    values = dict(metadata or ())
    in_order = str(values.get(IN_ORDER_KEY, "")).lower() == "true"
    try:
        prefetch = int(values.get(PREFETCH_KEY, default_prefetch))
    except ValueError:
        prefetch = default_prefetch
    return in_order, max(prefetch, 0)


async def serve_stream(
    requests: AsyncIterator[Request],
    handle: Callable[[Request], Awaitable[Response]],
    *,
    prefetch: int = 0,
    in_order: bool = False,
    drain: Drain | None = None,
) -> AsyncIterator[Response]:
    """Yield the responses of `handle` for every request read from `requests`.

    Once `drain` starts (the server is shutting down) no further request is read; the requests
    already in flight complete and are yielded, then the stream ends.
    """
    limiter = asyncio.Semaphore(prefetch) if prefetch > 0 else None
    finished: asyncio.Queue[object] = asyncio.Queue()
    running: set[asyncio.Task[Response]] = set()

    async def run(request: Request) -> Response:
        try:
            return await handle(request)
        finally:
            if limiter is not None:
                limiter.release()

    def on_done(task: asyncio.Task[Response]) -> None:
        running.discard(task)
        if not in_order:
            finished.put_nowait(task)

    async def read() -> None:
        iterator = requests.__aiter__()
        try:
            while True:
                if limiter is not None:
                    await limiter.acquire()
                try:
                    request = await iterator.__anext__()
                except StopAsyncIteration:
                    if limiter is not None:
                        limiter.release()
                    return
                task = asyncio.create_task(run(request))
                running.add(task)
                task.add_done_callback(on_done)
                if in_order:
                    finished.put_nowait(task)
        finally:
            finished.put_nowait(_END)

    reader = asyncio.create_task(read())
    if drain is not None:
        drain.register(reader)
    reader_done = False
    failure: BaseException | None = None
    try:
        while True:
            item = await finished.get()
            if item is _END:
                reader_done = True
                if not reader.cancelled() and reader.exception() is not None:
                    failure = reader.exception()  # raised once the requests read before it are answered
            else:
                yield await item  # type: ignore[misc]
            # in request order every task was queued before _END, so all have been yielded
            if reader_done and finished.empty() and (in_order or not running):
                if failure is not None:
                    raise failure  # a failure to read the stream
                return
    finally:
        reader.cancel()
        for task in list(running):
            task.cancel()
