"""Our HTTP and WebSocket clients against a real Jina 3.34 Flow serving HTTP or WebSocket."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import threading
import time

import numpy as np
import psutil
import pytest
from docarray import Document

from jina import Client
from jina.clients.http import HTTP_WORKERS
from jina.excepts import ExecutorError, InternalNetworkError
from jina.flow.ports import free_port
from tests.interop.conftest import start_real_jina, stop

PROCESSED = ["a (real jina)", "b (real jina)", "appended by real jina"]


def start_flow(python: str, protocol: str, cwd) -> tuple[int, subprocess.Popen]:
    port = free_port()
    return port, start_real_jina(python, "serve.py", str(port), protocol, cwd=cwd)


@pytest.fixture(scope="module")
def http_flow(real_jina_python, tmp_path_factory):
    port, proc = start_flow(real_jina_python, "http", tmp_path_factory.mktemp("real-http"))
    yield port
    stop(proc)


@pytest.fixture(scope="module")
def ws_flow(real_jina_python, tmp_path_factory):
    port, proc = start_flow(real_jina_python, "websocket", tmp_path_factory.mktemp("real-ws"))
    yield port
    stop(proc)


def pooled_connections(client) -> int:
    # httpx keeps its connection pool (httpcore's) on the transport
    return len(client._http._transport._pool.connections)


# -- HTTP ------------------------------------------------------------------------------------


def test_http_client_posts_to_real_jina(http_flow):
    with Client(host="127.0.0.1", port=http_flow, protocol="http") as client:
        assert client.post("/", [Document(text="a"), Document(text="b")]).texts == PROCESSED
        http = client._http
        with pytest.raises(ExecutorError, match="ValueError: real jina boom") as info:
            client.post("/fail", Document(text="x"))
        # real Jina answers executor errors with HTTP 200 and an error status
        assert info.value.exception_name == "ValueError"
        assert info.value.executor == "Suffix"
        assert client.post("/", Document(text="c")).texts == ["c (real jina)", "appended by real jina"]
        # one connection pool, and sequential posts reuse one keep-alive connection of it
        assert client._http is http
        assert pooled_connections(client) == 1
        assert client.is_flow_ready()


def test_http_client_sends_a_long_post_over_a_few_connections_in_order(http_flow):
    with Client(host="127.0.0.1", port=http_flow, protocol="http") as client:
        docs = client.post("/", [Document(text=str(i)) for i in range(40)], request_size=2, results_in_order=True)
        assert [t for t in docs.texts if t != "appended by real jina"] == [f"{i} (real jina)" for i in range(40)]
        assert docs.texts.count("appended by real jina") == 20
        assert 1 <= pooled_connections(client) <= HTTP_WORKERS
        one_at_a_time = client.post("/", [Document(text=str(i)) for i in range(4)], request_size=1, prefetch=1)
        assert len(one_at_a_time) == 8


def test_http_documents_keep_their_fields_through_jinas_json(http_flow):
    doc = Document(id="d1", text="t", tags={"k": 1, "nested": {"a": [1, "x"]}}, embedding=np.array([0.5, 1.5]))
    with Client(host="127.0.0.1", port=http_flow, protocol="http") as client:
        [response] = client.post("/", doc, parameters={"p": 1}, return_responses=True)
    back = response.docs[0]
    assert (back.id, back.text, back.tags) == ("d1", "t (real jina)", {"k": 1, "nested": {"a": [1, "x"]}})
    assert back.embedding.tolist() == [0.5, 1.5]
    assert response.parameters == {"p": 1}
    assert [route.executor for route in response.routes] == ["gateway", "executor0"]


def test_http_errors_go_to_on_error_and_on_always(http_flow):
    errors, always = [], []
    with Client(host="127.0.0.1", port=http_flow, protocol="http") as client:
        result = client.post("/fail", Document(text="x"), on_error=errors.append, on_always=always.append)
    assert result is None
    assert errors[0].status.exception.args == ["real jina boom"]
    assert always == errors


def test_async_http_client_posts_to_real_jina(http_flow):
    async def run():
        async with Client(host="127.0.0.1", port=http_flow, protocol="http", asyncio=True) as client:
            texts = [docs.texts async for docs in client.post("/", [Document(text="a"), Document(text="b")])]
            http = client._http
            with pytest.raises(ExecutorError, match="real jina boom"):
                async for _ in client.post("/fail", Document(text="x")):
                    pass
            in_order = [
                docs.texts[0]
                async for docs in client.post(
                    "/", [Document(text=str(i)) for i in range(10)], request_size=1, results_in_order=True
                )
            ]
            after = [r.docs.texts async for r in client.post("/", Document(text="c"), return_responses=True)]
            assert client._http is http
            return texts, in_order, after, await client.is_flow_ready()

    texts, in_order, after, ready = asyncio.run(run())
    assert texts == [PROCESSED]
    assert in_order == [f"{i} (real jina)" for i in range(10)]
    assert after == [["c (real jina)", "appended by real jina"]]
    assert ready


# -- WebSocket -------------------------------------------------------------------------------


def test_websocket_client_posts_to_real_jina(ws_flow):
    with Client(host="127.0.0.1", port=ws_flow, protocol="websocket") as client:
        assert client.post("/", [Document(text="a"), Document(text="b")]).texts == PROCESSED
        socket = client._sockets[-1]
        with pytest.raises(ExecutorError, match="ValueError: real jina boom") as info:
            client.post("/fail", Document(text="x"))
        assert info.value.exception_name == "ValueError"
        assert client.post("/", Document(text="c")).texts == ["c (real jina)", "appended by real jina"]
        # an executor error does not cost the socket: every post went over the same one
        assert client._sockets == [socket] and socket.broken is None
        docs = client.post("/", [Document(text=str(i)) for i in range(30)], request_size=1, prefetch=2)
        assert len(docs) == 60
        assert client._sockets == [socket]
        assert client.is_flow_ready()


def test_websocket_posts_from_several_threads_share_the_socket(ws_flow):
    results: dict[int, list[str]] = {}
    with Client(host="127.0.0.1", port=ws_flow, protocol="websocket") as client:
        client.post("/", Document(text="open"))
        socket = client._sockets[-1]

        def post(n: int) -> None:
            docs = client.post(
                "/", [Document(text=f"{n}-{i}") for i in range(6)], request_size=2, results_in_order=True
            )
            results[n] = [t for t in docs.texts if t != "appended by real jina"]

        threads = [threading.Thread(target=post, args=(n,)) for n in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert client._sockets == [socket]
    assert results == {n: [f"{n}-{i} (real jina)" for i in range(6)] for n in range(5)}


def test_async_websocket_client_posts_to_real_jina(ws_flow):
    async def run():
        async with Client(host="127.0.0.1", port=ws_flow, protocol="websocket", asyncio=True) as client:
            texts = [docs.texts async for docs in client.post("/", [Document(text="a"), Document(text="b")])]
            socket = client._socket
            with pytest.raises(ExecutorError, match="ValueError: real jina boom"):
                async for _ in client.post("/fail", Document(text="x")):
                    pass

            async def collect(n: int) -> list[str]:
                inputs = [Document(text=f"{n}-{i}") for i in range(4)]
                return [d.texts[0] async for d in client.post("/", inputs, request_size=1, results_in_order=True)]

            concurrent = await asyncio.gather(*(collect(n) for n in range(3)))
            assert client._socket is socket and socket.broken is None
            return texts, concurrent, await client.is_flow_ready()

    texts, concurrent, ready = asyncio.run(run())
    assert texts == [PROCESSED]
    assert concurrent == [[f"{n}-{i} (real jina)" for i in range(4)] for n in range(3)]
    assert ready


# -- failures --------------------------------------------------------------------------------


def kill_tree(proc: subprocess.Popen) -> None:
    """Real Jina waits forever for an executor that was killed: stop its processes by PID instead."""
    children = psutil.Process(proc.pid).children(recursive=True)
    for child in children:
        child.kill()
    proc.kill()
    proc.communicate()
    psutil.wait_procs(children, timeout=10)


def kill_executor(proc: subprocess.Popen, flow_port: int) -> None:
    """SIGKILL the Flow's executor: its child process that does not listen on the Flow's port."""
    for child in psutil.Process(proc.pid).children():
        ports = {c.laddr.port for c in child.net_connections("tcp") if c.status == psutil.CONN_LISTEN}
        if flow_port not in ports:
            child.send_signal(signal.SIGKILL)
            wait_dead(child)


def wait_dead(process: psutil.Process, timeout: float = 10.0) -> None:
    # real Jina does not reap its dead executor: a zombie is as dead as it gets
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    raise TimeoutError(f"process {process.pid} survived SIGKILL")


@pytest.mark.parametrize("protocol", ["http", "websocket"])
def test_a_dead_executor_is_an_internal_network_error(real_jina_python, tmp_path, protocol):
    port, proc = start_flow(real_jina_python, protocol, tmp_path)
    try:
        with Client(host="127.0.0.1", port=port, protocol=protocol) as client:
            assert client.post("/", Document(text="a")).texts == ["a (real jina)", "appended by real jina"]
            first_socket = client._sockets[-1] if protocol == "websocket" else None
            kill_executor(proc, port)
            # HTTP: real Jina answers 503 with its header; WebSocket: it closes the socket with
            # code 1011 and "Network error while connecting to deployment at ... It may be down."
            reason = "Communication error with deployment" if protocol == "http" else "It may be down"
            with pytest.raises(InternalNetworkError, match=reason) as info:
                client.post("/", Document(text="b"))
            assert isinstance(info.value, ConnectionError)
            errors = []
            assert client.post("/", Document(text="c"), on_error=errors.append) is not None
            assert isinstance(errors[0], InternalNetworkError)
            if protocol == "websocket":
                # the socket the gateway closed was replaced by a new one for the next post
                assert first_socket.broken is info.value
                assert client._sockets[-1] is not first_socket and len(client._sockets) == 1
    finally:
        kill_tree(proc)


@pytest.mark.parametrize("protocol", ["http", "websocket"])
def test_nobody_listening_is_a_connection_error_naming_the_url(protocol):
    port = free_port()
    with Client(host="127.0.0.1", port=port, protocol=protocol) as client:
        with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}") as info:
            client.post("/", Document(text="a"))
        assert not isinstance(info.value, InternalNetworkError)
        errors = []
        client.post("/", Document(text="a"), on_error=errors.append)
        assert isinstance(errors[0], ConnectionError)
        assert not client.is_flow_ready(timeout=2)

    async def run():
        async with Client(host="127.0.0.1", port=port, protocol=protocol, asyncio=True) as client:
            with pytest.raises(ConnectionError, match=f"127.0.0.1:{port}"):
                async for _ in client.post("/", Document(text="a")):
                    pass
            return await client.is_flow_ready(timeout=2)

    assert asyncio.run(run()) is False
