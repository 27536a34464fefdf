"""The asyncio gRPC client's end of the shared stream: answers into each post()'s inbox, failures as ConnectionError."""

from __future__ import annotations

import asyncio
import time

import grpc
import pytest
from docarray import Document

from jina import Client, Flow
from jina.clients.grpc import _AsyncCallStream
from jina.clients.hosts import resolve_address
from jina.flow.ports import free_port
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


def test_a_client_made_before_its_gateway_serves_once_the_gateway_is_up():
    port = free_port()
    with Client(port=port) as client:
        assert client.is_flow_ready(timeout=1) is False
        with pytest.raises(ConnectionError):
            client.post("/", Document(text="a"))
        with Flow(port=port).add(uses="tests.executors.Appender"):
            deadline = time.monotonic() + 20
            while not client.is_flow_ready(timeout=1):
                assert time.monotonic() < deadline, "the client never saw the gateway come up"
                time.sleep(0.2)
            assert client.post("/", Document(text="a")).texts == ["ax"]


def test_an_async_client_made_before_its_gateway_serves_once_the_gateway_is_up():
    port = free_port()

    async def scenario(flow_started) -> list[str]:
        async with Client(port=port, asyncio=True) as client:
            assert await client.is_flow_ready(timeout=1) is False
            await flow_started()
            for _ in range(100):
                if await client.is_flow_ready(timeout=1):
                    break
                await asyncio.sleep(0.2)
            return [doc.text async for docs in client.post("/", Document(text="b")) for doc in docs]

    flow = Flow(port=port).add(uses="tests.executors.Appender")
    try:

        async def start() -> None:
            await asyncio.get_running_loop().run_in_executor(None, flow.start)

        assert asyncio.run(scenario(start)) == ["bx"]
    finally:
        flow.close()
