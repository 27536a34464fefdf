from __future__ import annotations

import asyncio

import pytest

from jina.serve.stream import Drain, serve_stream, stream_options


async def source(items, delay: float = 0.0, log: list | None = None):
    for item in items:
        if log is not None:
            log.append(("read", item))
        yield item
        await asyncio.sleep(delay)


def collect(agen):
    async def run():
        return [x async for x in agen]

    return asyncio.run(run())


def test_completion_order_by_default():
    async def handle(x):
        await asyncio.sleep(0.05 * (3 - x))
        return x

    assert collect(serve_stream(source([0, 1, 2]), handle)) == [2, 1, 0]


def test_request_order_on_request():
    async def handle(x):
        await asyncio.sleep(0.05 * (3 - x))
        return x

    assert collect(serve_stream(source([0, 1, 2]), handle, in_order=True)) == [0, 1, 2]


@pytest.mark.parametrize("prefetch", [1, 2, 5])
def test_prefetch_bounds_in_flight_and_reads_lazily(prefetch):
    in_flight = 0
    peak = 0
    log: list = []

    async def handle(x):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        log.append(("start", x))
        await asyncio.sleep(0.01)
        in_flight -= 1
        return x

    out = collect(serve_stream(source(range(20), log=log), handle, prefetch=prefetch))
    assert sorted(out) == list(range(20))
    assert peak == prefetch
    # request n + prefetch is read only after request n started (and completed)
    reads = [i for i, e in enumerate(log) if e[0] == "read"]
    starts = {e[1]: i for i, e in enumerate(log) if e[0] == "start"}
    for n in range(20 - prefetch):
        assert reads[n + prefetch] > starts[n]


def test_no_prefetch_means_no_limit():
    peak = 0
    in_flight = 0

    async def handle(x):
        nonlocal peak, in_flight
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return x

    collect(serve_stream(source(range(50)), handle, prefetch=0))
    assert peak == 50


def test_slow_consumer_does_not_block_slot_release():
    # Every handler finishes while the consumer is still asleep on the first response: the
    # limiter must not wait for the consumer (Jina #4990 deadlocked here).
    done = []

    async def handle(x):
        done.append(x)
        return x

    async def run():
        out = []
        async for item in serve_stream(source(range(10)), handle, prefetch=2):
            if not out:
                await asyncio.sleep(0.1)
            out.append(item)
        return out

    assert sorted(asyncio.run(run())) == list(range(10))


def test_stop_finishes_in_flight_and_reads_no_more():
    async def endless():
        i = 0
        while True:
            yield i
            i += 1
            await asyncio.sleep(0.001)

    async def run():
        drain = Drain()

        async def handle(x):
            if x == 5:
                drain.start()
            await asyncio.sleep(0.02)
            return x

        return [x async for x in serve_stream(endless(), handle, drain=drain)]

    out = asyncio.run(run())
    assert 5 in out
    assert len(out) < 50


def test_empty_stream_ends():
    async def handle(x):
        return x

    assert collect(serve_stream(source([]), handle, prefetch=3)) == []


def test_handler_error_propagates():
    async def handle(x):
        raise RuntimeError("bad")

    with pytest.raises(RuntimeError):
        collect(serve_stream(source([1]), handle))


def test_stream_options():
    assert stream_options(None, 1000) == (False, 1000)
    assert stream_options([("__results_in_order__", "true"), ("__prefetch__", "2")], 1000) == (True, 2)
    assert stream_options([("__prefetch__", "x")], 7) == (False, 7)
