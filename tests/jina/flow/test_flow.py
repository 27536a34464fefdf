"""Flows of real processes: chains, endpoints, errors, start-up failures, shutdown."""

from __future__ import annotations

import asyncio

import pytest
from docarray import Document, DocumentArray

from jina import Client, Flow
from jina.excepts import BadConfig, ExecutorError, RuntimeFailToStart
from tests import executors
from tests.conftest import child_pids, wait_gone


@pytest.fixture(scope="module")
def chain():
    flow = (
        Flow(host="127.0.0.1")
        .add(uses=executors.Appender, name="a", uses_with={"letter": "A"})
        .add(uses="tests.executors.IndexOnly", name="indexer")
        .add(uses=executors.Appender, name="b", uses_with={"letter": "B"})
        .add(uses=executors.Failing, name="failing")
        .add(uses=executors.Appender, name="c", uses_with={"letter": "C"})
    )
    with flow:
        yield flow


@pytest.fixture(scope="module")
def client(chain):
    with Client(port=chain.port) as c:
        yield c


def test_chain_applies_changes_in_order(client):
    docs = client.post("/", DocumentArray([Document(text="x"), Document(text="y")]))
    assert docs.texts == ["xABC", "yABC"]
    assert all(doc.tags["passed_failing"] for doc in docs)


def test_index_only_executor_runs_only_for_index(client):
    searched = client.post("/search", Document(text="s"), return_responses=True)[0]
    assert "indexer" not in [r.executor for r in searched.routes]
    assert "indexed" not in searched.docs[0].tags
    indexed = client.post("/index", Document(text="i"), return_responses=True)[0]
    assert [r.executor for r in indexed.routes] == ["gateway", "a", "indexer", "b", "failing", "c"]
    assert indexed.docs[0].tags["indexed"] is True


def test_executor_error_is_clear_and_next_request_succeeds(client):
    with pytest.raises(ExecutorError) as info:
        client.post("/fail", Document(text="x"))
    err = info.value
    assert err.executor == "failing"
    assert err.exception_name == "ValueError"
    assert "Executor 'failing' raised ValueError: boom from executor, 42" in str(err)
    assert client.post("/", Document(text="again")).texts[0] == "againABC"


def test_on_error_gets_the_error_instead_of_raising(client):
    seen, done = [], []
    result = client.post("/fail", Document(), on_error=seen.append, on_done=done.append)
    assert result is None
    assert len(seen) == 1 and seen[0].status.exception.name == "ValueError" and not done


def test_on_done_and_on_always_callbacks(client):
    done, always = [], []
    client.post("/", [Document(), Document()], request_size=1, on_done=done.append, on_always=always.append)
    assert len(done) == 2 and len(always) == 2


def test_request_size_and_order(client):
    inputs = [Document(text=str(i)) for i in range(7)]
    responses = client.post("/", inputs, request_size=2, return_responses=True, results_in_order=True)
    assert [len(r.docs) for r in responses] == [2, 2, 2, 1]
    assert client.post("/", inputs, request_size=3, results_in_order=True).texts[:7] == [f"{i}ABC" for i in range(7)]


def test_target_executor_limits_the_executors(client):
    response = client.post("/", Document(text="t"), target_executor="^(a|c)$", return_responses=True)[0]
    assert [r.executor for r in response.routes] == ["gateway", "a", "c"]
    assert response.docs.texts == ["tAC"]


def test_channel_and_stream_persist_across_posts(client):
    client.post("/", Document())
    channel, stream = client._channel, client._streams[-1]
    for _ in range(3):
        client.post("/", Document())
    assert client._channel is channel and client._streams[-1] is stream


def test_flow_post_and_async_client(chain):
    assert chain.post("/", Document(text="p")).texts[0] == "pABC"

    async def run():
        client = Client(port=chain.port, asyncio=True)
        got = []
        async for docs in client.post("/", [Document(text="1"), Document(text="2")], request_size=1):
            got.extend(docs.texts)
        await client.close()
        return sorted(got)

    assert asyncio.run(run()) == ["1ABC", "2ABC"]


def test_async_client_raises_executor_errors(chain):
    async def run():
        client = Client(port=chain.port, asyncio=True)
        try:
            async for _ in client.post("/fail", Document()):
                pass
        finally:
            await client.close()

    with pytest.raises(ExecutorError):
        asyncio.run(run())


def test_empty_flow_and_pass_through_executor_return_docs_unchanged(flows):
    empty = flows(Flow(host="127.0.0.1"))
    assert empty.post("/", Document(text="same")).texts == ["same"]
    passthrough = flows(Flow(host="127.0.0.1").add())
    assert set(passthrough.pids) == {"executor0", "gateway"}
    response = passthrough.post("/", Document(text="same"), return_responses=True)[0]
    assert response.docs.texts == ["same"]
    # it binds no endpoint, so the gateway does not even call it
    assert [r.executor for r in response.routes] == ["gateway"]


def test_executor_without_super_init_and_strict_signature(flows):
    flow = flows(
        Flow(host="127.0.0.1")
        .add(uses=executors.NoSuperInit, name="greeter", uses_with={"greeting": "hello"})
        .add(uses=executors.StrictSignature)
    )
    assert flow.post("/", None).texts == ["hello from greeter", "strict"]


def test_executor_failing_to_start_raises_with_its_traceback_and_stops_the_rest():
    before = child_pids()
    flow = Flow(host="127.0.0.1").add(uses=executors.Appender).add(uses=executors.BrokenInit, name="broken")
    with pytest.raises(RuntimeFailToStart) as info:
        flow.start()
    assert "broken failed to start" in str(info.value)
    assert "cannot load the model" in str(info.value)
    assert not wait_gone(child_pids() - before)


def test_unknown_module_fails_to_start_with_the_import_error():
    with pytest.raises(RuntimeFailToStart, match="cannot import module 'no_such_module'"):
        Flow(host="127.0.0.1").add(uses="no_such_module.Thing").start()


def test_port_in_use_is_named(flows):
    first = flows(Flow(host="127.0.0.1"))
    with pytest.raises(BadConfig, match=f"port {first.port} is already in use"):
        Flow(port=first.port).start()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocl": "grpc"}, "did you mean 'protocol'"),
        ({"prefetch": -1}, "prefetch"),
        ({"port": 70000}, "port"),
    ],
)
def test_bad_flow_options(kwargs, message):
    with pytest.raises(BadConfig, match=message):
        Flow(**kwargs)


def test_bad_add_arguments():
    with pytest.raises(BadConfig, match="not an Executor"):
        Flow().add(uses=dict)
    with pytest.raises(BadConfig, match="already"):
        Flow().add(name="x").add(name="x")


def test_exit_on_exception_stops_every_process():
    before = child_pids()
    with pytest.raises(KeyError):
        with Flow(host="127.0.0.1").add(uses=executors.Appender) as flow:
            pids = set(flow.pids.values())
            assert pids <= child_pids()
            raise KeyError("user code failed")
    assert not wait_gone(pids)
    assert child_pids() <= before
