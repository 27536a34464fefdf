"""One Call stream carrying many requests: answers by request id, timeouts, and how a stream breaks."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest

from jina.proto import jina_pb2
from jina.serve.multiplex import CallMultiplexer, StreamBroken, failure_of
from tests.jina.serve.fake_call import call_server, request


def run(test, message=jina_pb2.DataRequestProto):
    """Run `test(stream)` against a fresh fake server; the stream is closed afterwards."""

    async def main():
        async with call_server() as address:
            async with grpc.aio.insecure_channel(address) as channel:
                stream = CallMultiplexer(channel, message, local="gateway", peer="executor")
                try:
                    return await test(stream)
                finally:
                    await stream.close()

    return asyncio.run(main())


def as_message(message, request_id: str, endpoint: str = "/echo", delay: float = 0.0):
    return message.FromString(request(request_id, endpoint, delay).SerializeToString())


async def until(condition) -> None:
    while not condition():
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("message", [jina_pb2.DataRequestProto, PassthroughRequest])
def test_each_request_gets_its_own_answer_in_whatever_order_they_come(message):
    async def test(stream):
        # later requests are answered sooner
        calls = [stream.call(as_message(message, f"r{i}", delay=0.01 * (10 - i)), timeout=10) for i in range(10)]
        tasks = [asyncio.ensure_future(c) for c in calls]
        await until(lambda: stream.busy_with("r9"))
        busy = [stream.busy_with(f"r{i}") for i in range(10)]
        answers = await asyncio.gather(*tasks)
        return busy, answers, stream.busy_with("r0")

    busy, answers, still_busy = run(test, message)
    assert all(busy) and not still_busy
    assert all(type(answer) is message for answer in answers)
    assert [a.header.request_id for a in answers] == [f"r{i}" for i in range(10)]


def test_send_tells_every_answer_once_and_a_forgotten_request_none():
    async def test(stream):
        told = []
        for request_id in ("a", "b", "c"):
            await stream.send(request(request_id, delay=0.05), told.append)
        stream.forget("b")
        await stream.send(request("last", delay=0.1), told.append)
        await until(lambda: len(told) == 3)
        return [answer.header.request_id for answer in told]

    assert sorted(run(test)) == ["a", "c", "last"]


def test_no_answer_in_time_is_deadline_exceeded_and_the_stream_goes_on():
    async def test(stream):
        with pytest.raises(StreamBroken) as raised:
            await stream.call(request("slow", "/never"), timeout=0.05)
        after = (stream.busy_with("slow"), stream.broken)
        answer = await stream.call(request("next"), timeout=5)
        return raised.value, after, answer

    timeout, (busy, broken), answer = run(test)
    assert (timeout.code, timeout.details) == (grpc.StatusCode.DEADLINE_EXCEEDED, "no answer in time")
    assert not busy and broken is None
    assert answer.header.request_id == "next"


def test_the_peer_ending_the_stream_fails_every_waiting_request_and_every_later_one():
    async def test(stream):
        waiting = [asyncio.ensure_future(stream.call(request(f"w{i}", "/never"), timeout=5)) for i in range(2)]
        await until(lambda: stream.busy_with("w1"))
        await stream.send(request("end", "/end"), lambda answer: None)
        failures = await asyncio.gather(*waiting, return_exceptions=True)
        with pytest.raises(StreamBroken) as later:
            await stream.call(request("later"), timeout=5)
        return failures, later.value, stream.broken

    failures, later, broken = run(test)
    assert all(failure is broken for failure in failures) and later is broken
    assert (broken.code, broken.details, broken.cause) == (
        grpc.StatusCode.UNAVAILABLE,
        "the executor ended the stream",
        None,
    )


def test_a_failed_call_carries_its_status_and_its_grpc_error():
    async def test(stream):
        waiting = asyncio.ensure_future(stream.call(request("w", "/never"), timeout=5))
        await until(lambda: stream.busy_with("w"))
        await stream.send(request("abort", "/abort"), lambda answer: None)
        return await asyncio.gather(waiting, return_exceptions=True)

    (failure,) = run(test)
    assert isinstance(failure, StreamBroken)
    assert (failure.code, failure.details) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "too much")
    assert isinstance(failure.cause, grpc.aio.AioRpcError)
    assert failure.cause.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_a_failed_write_is_unavailable_and_leaves_nothing_waiting():
    async def test(stream):
        await stream._call.done_writing()  # what a broken connection does to a write, without breaking one
        told = []
        with pytest.raises(StreamBroken) as raised:
            await stream.send(request("x"), told.append)
        return raised.value, stream.busy_with("x"), told

    failure, busy, told = run(test)
    assert failure.code == grpc.StatusCode.UNAVAILABLE and failure.cause is not None
    assert not busy and told == []


def test_closing_fails_what_still_waits_as_cancelled():
    async def test(stream):
        waiting = asyncio.ensure_future(stream.call(request("w", "/never"), timeout=5))
        await until(lambda: stream.busy_with("w"))
        await stream.close()
        return await asyncio.gather(waiting, return_exceptions=True)

    (failure,) = run(test)
    assert (failure.code, failure.details) == (grpc.StatusCode.CANCELLED, "the gateway closed the stream")


def rpc_error(code: grpc.StatusCode, details: str) -> grpc.aio.AioRpcError:
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), grpc.aio.Metadata(), details=details)


@pytest.mark.parametrize(
    ("code", "details", "expected"),
    [
        # grpc.aio's own failure of a write on a broken connection: no status came from the peer
        (
            grpc.StatusCode.INTERNAL,
            "Internal error from Core",
            (grpc.StatusCode.UNAVAILABLE, "the connection to the executor broke"),
        ),
        (grpc.StatusCode.INTERNAL, "the executor's own", (grpc.StatusCode.INTERNAL, "the executor's own")),
        (grpc.StatusCode.UNAVAILABLE, "Connection refused", (grpc.StatusCode.UNAVAILABLE, "Connection refused")),
        (grpc.StatusCode.DEADLINE_EXCEEDED, None, (grpc.StatusCode.DEADLINE_EXCEEDED, "")),
    ],
)
def test_failure_of(code, details, expected):
    assert failure_of(rpc_error(code, details), "executor") == expected
