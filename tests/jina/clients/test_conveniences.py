"""Jina's client conveniences against a real Flow, on every protocol, synchronous and asyncio:
CRUD shortcuts, readiness (and the old dry_run), profiling, continue_on_error's returned documents."""

from __future__ import annotations

import asyncio

import pytest
from docarray import Document, DocumentArray

from jina import Client, Flow
from jina.clients.profiling import latency_report
from jina.excepts import ExecutorError
from jina.flow.ports import free_port
from jina.proto import jina_pb2

PROTOCOLS = ["grpc", "http", "websocket"]
# profiling posts to "/": the CRUD-only executor is not on its route
PROFILE_KEYS = ["Roundtrip", "Client-server network", "Server", "Gateway-executors network", "flaky"]


@pytest.fixture(scope="module")
def flow():
    flow = (
        Flow(protocol=PROTOCOLS, host="127.0.0.1")
        .add(uses="tests.jina.clients.executors.Endpoints", name="endpoints")
        .add(uses="tests.jina.clients.executors.Flaky", name="flaky")
    )
    with flow:
        yield flow


def client(flow, protocol: str, **kwargs):
    return Client(host="127.0.0.1", port=flow.ports[protocol], protocol=protocol, **kwargs)


def texts(*values: str) -> DocumentArray:
    return DocumentArray([Document(text=value) for value in values])


async def collect(posting) -> list:
    return [item async for item in posting]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_crud_shortcuts_post_to_their_endpoints(flow, protocol):
    with client(flow, protocol) as c:
        for endpoint in ("index", "search", "update", "delete"):
            docs = getattr(c, endpoint)(texts("x"))
            assert docs[0].tags["endpoint"] == endpoint and docs.texts == ["x!"]
        # Jina's positional order after the inputs: on_done, on_error, on_always, parameters, ...
        done = []
        assert c.search(texts("y"), done.append) is None
        assert [response.docs[0].tags["endpoint"] for response in done] == ["search"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_async_crud_shortcuts_are_async_generators_as_post_is(flow, protocol):
    async def run():
        async with client(flow, protocol, asyncio=True) as c:
            return {endpoint: await collect(getattr(c, endpoint)(texts("x"))) for endpoint in ("index", "delete")}

    got = asyncio.run(run())
    assert {endpoint: [docs[0].tags["endpoint"] for docs in batches] for endpoint, batches in got.items()} == {
        "index": ["index"],
        "delete": ["delete"],
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_continue_on_error_returns_the_failed_requests_documents_as_sent(flow, protocol):
    inputs = texts("a", "bad1", "b", "bad2")
    with client(flow, protocol) as c:
        # as real Jina 3.34: the failed requests' documents come back unchanged, among the others
        kept = c.post("/", inputs, request_size=1, continue_on_error=True, results_in_order=True)
        assert kept.texts == ["a!", "bad1", "b!", "bad2"]
        # a failed request fails all its documents: "a" shares one with "bad1"
        pairs = c.post("/", inputs, request_size=2, continue_on_error=True, results_in_order=True)
        assert pairs.texts == ["a", "bad1", "b", "bad2"]
        errors = []
        handled = c.post("/", inputs, request_size=1, on_error=errors.append, results_in_order=True)
        assert handled.texts == ["a!", "bad1", "b!", "bad2"] and len(errors) == 2
        assert all(error.is_error for error in errors)
        responses = c.post("/", inputs, request_size=1, continue_on_error=True, return_responses=True)
        assert sorted((r.is_error, r.docs.texts[0]) for r in responses) == [
            (False, "a!"),
            (False, "b!"),
            (True, "bad1"),
            (True, "bad2"),
        ]
        with pytest.raises(ExecutorError, match="boom bad1"):
            c.post("/", inputs[:2], request_size=1, results_in_order=True)


def test_async_continue_on_error_yields_the_failed_documents_too(flow):
    async def run():
        async with client(flow, "grpc", asyncio=True) as c:
            posting = c.post("/", texts("a", "bad"), request_size=1, continue_on_error=True, results_in_order=True)
            return [docs.texts for docs in await collect(posting)]

    assert asyncio.run(run()) == [["a!"], ["bad"]]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_dry_run_is_jinas_old_name_of_is_flow_ready(flow, protocol):
    with client(flow, protocol) as c:
        assert c.is_flow_ready() is True
        with pytest.warns(DeprecationWarning, match="`dry_run` is renamed to `is_flow_ready`"):
            assert c.dry_run(timeout=5) is True
    nobody = Client(host="127.0.0.1", port=free_port(), protocol=protocol)
    assert nobody.is_flow_ready(timeout=1) is False
    with pytest.warns(DeprecationWarning):
        assert nobody.dry_run(timeout=1) is False


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_async_dry_run_and_is_flow_ready(flow, protocol):
    async def run():
        async with client(flow, protocol, asyncio=True) as c:
            with pytest.warns(DeprecationWarning):
                old = await c.dry_run()
            return await c.is_flow_ready(), old

    assert asyncio.run(run()) == (True, True)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_profiling_reports_jinas_keys_per_hop(flow, protocol, capsys):
    with client(flow, protocol) as c:
        quiet = c.profiling(show_table=False)
        assert capsys.readouterr().out == ""
        report = c.profiling()
    assert list(report) == list(quiet) == PROFILE_KEYS
    assert all(value >= 0 for value in report.values()), report
    assert report["Roundtrip"] >= report["Server"] >= report["flaky"] > 0
    assert report["Server"] == pytest.approx(report["Gateway-executors network"] + report["flaky"])
    assert report["Roundtrip"] == pytest.approx(report["Client-server network"] + report["Server"])
    printed = capsys.readouterr().out
    for key in PROFILE_KEYS:
        assert key in printed
    assert "ms" in printed and "100%" in printed


def test_async_profiling(flow):
    async def run():
        async with client(flow, "grpc", asyncio=True) as c:
            return await c.profiling(show_table=False)

    assert list(asyncio.run(run())) == PROFILE_KEYS


def test_a_host_with_its_port_as_jina_accepts_it(flow):
    with Client(host=f"127.0.0.1:{flow.ports['grpc']}") as c:
        assert c.post("/", texts("h")).texts == ["h!"]


def route(name: str, start_ms: int, end_ms: int) -> jina_pb2.RouteProto:
    proto = jina_pb2.RouteProto(executor=name)
    proto.start_time.FromMilliseconds(start_ms)
    proto.end_time.FromMilliseconds(end_ms)
    return proto


def test_parallel_branches_count_their_overlap_once():
    # gateway 0..100; two branches side by side (10..50, 20..60), then a join (70..90)
    routes = [route("gateway", 0, 100), route("left", 10, 50), route("right", 20, 60), route("join", 70, 90)]
    report = latency_report(routes, roundtrip_ms=130.0)
    assert report == {
        "Roundtrip": 130.0,
        "Client-server network": 30.0,
        "Server": 100.0,
        "Gateway-executors network": 30.0,  # Jina's sum would say 100 - 40 - 40 - 20 = -0
        "left": 40.0,
        "right": 40.0,
        "join": 20.0,
    }
