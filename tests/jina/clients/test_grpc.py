"""The asyncio gRPC client's end of the shared stream: answers into each post()'s inbox, failures as ConnectionError."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from jina.clients.grpc import _AsyncCallStream
from jina.clients.hosts import resolve_address
from tests.jina.serve.fake_call import call_server, request


def run(test):
    async def main():
        async with call_server() as address:
            host, port = address.rsplit(":", 1)
            async with grpc.aio.insecure_channel(address) as channel:
                stream = _AsyncCallStream(channel, resolve_address(host, int(port)))
                try:
                    return await test(stream, address)
                finally:
                    await stream.close()

    return asyncio.run(main())


def test_answers_go_to_the_inbox_of_whoever_sent_the_request():
    async def test(stream, address):
        first, second = asyncio.Queue(), asyncio.Queue()
        await stream.send(request("a", delay=0.05), first)
        await stream.send(request("b"), second)
        await stream.send(request("c"), first)
        got = [await first.get(), await first.get(), await second.get()]
        return [(request_id, answer.header.request_id) for request_id, answer in got]

    assert run(test) == [("c", "c"), ("a", "a"), ("b", "b")]


def test_a_stream_the_gateway_ends_fails_the_waiting_posts_and_later_sends():
    async def test(stream, address):
        inbox = asyncio.Queue()
        await stream.send(request("w", "/never"), inbox)
        await stream.send(request("end", "/end"), asyncio.Queue())
        failure = await inbox.get()
        with pytest.raises(ConnectionError) as later:
            await stream.send(request("later"), asyncio.Queue())
        return address, failure, later.value, stream.broken

    address, failure, later, broken = run(test)
    expected = f"the gateway at {address} ended the stream"
    assert type(failure) is ConnectionError and str(failure) == expected
    assert str(later) == expected and str(broken) == expected


def test_a_failed_call_reads_as_the_synchronous_clients_error():
    async def test(stream, address):
        inbox = asyncio.Queue()
        await stream.send(request("w", "/never"), inbox)
        await stream.send(request("abort", "/abort"), asyncio.Queue())
        return address, await inbox.get()

    address, failure = run(test)
    assert str(failure) == f"gRPC call to {address} failed: RESOURCE_EXHAUSTED: too much"


def test_closing_the_client_fails_what_still_waits():
    async def test(stream, address):
        inbox = asyncio.Queue()
        await stream.send(request("w", "/never"), inbox)
        stream.forget(["nobody"])
        await stream.close()
        return await inbox.get(), stream.broken

    failure, broken = run(test)
    assert str(failure) == "the client was closed" and str(broken) == "the client was closed"
