"""Sharded executors: polling ANY / ALL, the reduce of ALL, shard errors, readiness per shard."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from docarray import Document, DocumentArray
from jina_mesh.services.gateway.connections import ExecutorClient, ExecutorUnreachable
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest
from jina_mesh.services.gateway.router import Router
from jina_mesh.services.gateway.shards import ShardedExecutor, connect

from jina.documents import docs_from_content
from jina.flow.ports import free_port
from jina.proto import jina_pb2
from jina.topology import ExecutorNode, Topology
from jina.wire import dict_to_struct, struct_to_dict
from tests.conftest import stop_processes
from tests.services.conftest import start_executor
from tests.services.gateway.processes import gateway, health, post, wait_health

TAGGER = "tests.services.gateway.executors:ShardTagger"


def shard_args(shard: int, shards: int = 2) -> tuple[str, ...]:
    return ("--shards", str(shards), "--shard-id", str(shard))


@pytest.fixture(scope="module")
def shard_ports(executor_processes):
    return [executor_processes(TAGGER, "idx", *shard_args(shard)) for shard in range(2)]


def node(ports, polling="ANY", name="idx") -> ExecutorNode:
    shards = tuple((f"127.0.0.1:{port}",) for port in ports)
    return ExecutorNode(name, tuple(a for shard in shards for a in shard), shards=shards, polling=polling)


def request(endpoint="/", texts=("t",), parameters=None) -> PassthroughRequest:
    full = jina_pb2.DataRequestProto()
    full.header.exec_endpoint = endpoint
    if parameters:
        dict_to_struct(parameters, full.parameters)
    full.data.docs.CopyFrom(DocumentArray([Document(id=t, text=t) for t in texts]).to_protobuf())
    return PassthroughRequest.FromString(full.SerializeToString())


def route(executor_node: ExecutorNode, *messages: PassthroughRequest) -> list[jina_pb2.DataRequestProto]:
    """Each message through a Router over the node (one client for all, in turn)."""

    async def run():
        client = connect(executor_node)
        try:
            router = Router([client], Topology((executor_node,)))
            return [await router.route(m) for m in messages]
        finally:
            await client.close()

    return [jina_pb2.DataRequestProto.FromString(r.SerializeToString()) for r in asyncio.run(run())]


def shards_seen(response: jina_pb2.DataRequestProto) -> set[int]:
    return {int(key.removeprefix("shard")) for key in docs_from_content(response.data)[0].tags}


def test_a_node_with_several_shards_gets_a_client_per_shard(shard_ports):
    async def kinds():
        clients = [connect(node(shard_ports)), connect(ExecutorNode("one", ("h:1",), shards=(("h:1",),)))]
        for client in clients:
            await client.close()
        return [type(c) for c in clients], [s.group for s in clients[0].shards]

    kinds_found, groups = asyncio.run(kinds())
    assert kinds_found == [ShardedExecutor, ExecutorClient]
    assert groups == ["idx/shard-0", "idx/shard-1"]


def test_all_reaches_every_shard_and_reduces_their_answers(shard_ports):
    (response,) = route(node(shard_ports, polling="ALL"), request("/foo", texts=["a", "b"]))
    assert response.header.status.code == jina_pb2.StatusProto.SUCCESS
    docs = docs_from_content(response.data)
    assert docs.texts == ["a", "b"]  # the base's documents, once each
    assert shards_seen(response) == {0, 1}  # each shard's tag survives the reduce
    assert sorted(m.id for m in docs[0].matches) == ["match-a-0", "match-a-1"]
    results = struct_to_dict(response.parameters)["__results__"]
    assert sorted(results.values(), key=lambda r: r["shard"]) == [{"shard": 0.0}, {"shard": 1.0}]
    assert len(results) == 2  # keyed by each shard's runtime name
    # one route entry for the executor: from the first shard's start to the last one's end
    assert [r.executor for r in response.routes] == ["gateway", "idx"]


def test_any_reaches_one_shard_per_request_and_balances_over_them(shard_ports):
    responses = route(node(shard_ports, polling="ANY"), *(request("/foo") for _ in range(4)))
    seen = [shards_seen(r) for r in responses]
    assert all(len(s) == 1 for s in seen)
    assert set.union(*seen) == {0, 1}
    assert all(len(struct_to_dict(r.parameters)["__results__"]) == 1 for r in responses)


def test_search_goes_to_every_shard_and_index_to_one_as_in_jina(shard_ports):
    search, index = route(node(shard_ports), request("/search"), request("/index"))
    assert shards_seen(search) == {0, 1} and len(shards_seen(index)) == 1
    # a policy per endpoint, "*" for the others; naming /search overrides Jina's default
    policy = {"/foo": "ALL", "*": "ANY", "/search": "ANY"}
    foo, bar, search = route(node(shard_ports, polling=policy), request("/foo"), request("/bar"), request("/search"))
    assert shards_seen(foo) == {0, 1} and len(shards_seen(bar)) == 1 and len(shards_seen(search)) == 1


def test_an_error_in_one_shard_fails_the_executor_naming_the_shard(shard_ports):
    (response,) = route(node(shard_ports, polling="ALL"), request("/foo", parameters={"fail_shard": 1}))
    status = response.header.status
    assert status.code == jina_pb2.StatusProto.ERROR
    assert status.exception.executor == "idx/shard-1"
    assert list(status.exception.args) == ["shard 1 refuses"]
    assert [r.executor for r in response.routes] == ["gateway", "idx"]
    assert response.routes[-1].status.exception.executor == "idx/shard-1"


def test_an_unreachable_shard_fails_all_and_is_skipped_by_any(shard_ports):
    ghost = free_port()
    with pytest.raises(ExecutorUnreachable) as info:
        route(node([shard_ports[0], ghost], polling="ALL"), request("/foo"))
    assert info.value.code == grpc.StatusCode.UNAVAILABLE
    assert f"executor 'idx' shard 1 at 127.0.0.1:{ghost}" in str(info.value)
    # ANY: the shard that answers does
    responses = route(node([ghost, shard_ports[1]], polling="ANY"), *(request("/foo") for _ in range(3)))
    assert [shards_seen(r) for r in responses] == [{1}] * 3


def test_a_gateway_serves_once_every_shard_answers_and_names_the_missing_one(tmp_path):
    ports = [free_port(), free_port()]
    port = free_port()
    address = f"127.0.0.1:{port}"
    shards = [[f"127.0.0.1:{p}"] for p in ports]
    topology = {
        "executors": [{"name": "idx", "addresses": [a for s in shards for a in s], "shards": shards, "polling": "ALL"}]
    }
    first, _ = start_executor(TAGGER, "idx", *shard_args(0), port=ports[0])
    second = None
    log = tmp_path / "gateway.log"
    try:
        with gateway(port, topology, log, "--warmup-timeout", "1"):
            assert health(address) == "NOT_SERVING"
            with pytest.raises(grpc.RpcError) as info:
                post(address, "/foo")
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
            assert info.value.details() == "executor 'idx' shard 1 is unreachable (UNAVAILABLE)"

            second, _ = start_executor(TAGGER, "idx", *shard_args(1), port=ports[1])
            wait_health(address, "SERVING", 10)
            response = post(address, "/foo", texts=["x"])
            assert shards_seen(response) == {0, 1}
            assert [r.executor for r in response.routes] == ["gateway", "idx"]
        assert "'idx/shard-1'" in log.read_text()  # what the gateway waited for
    finally:
        stop_processes(first, second)
