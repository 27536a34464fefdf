"""Join modes: what a join executor is sent (merge, merge+parts, parts) and how branches are labelled."""

from __future__ import annotations

import asyncio

import pytest
from docarray import Document, DocumentArray
from jina_mesh.services.gateway.joins import join_request
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest, PassthroughRequestList
from jina_mesh.services.gateway.router import Router
from jina_mesh.services.gateway.shards import connect

from jina.documents import docs_from_content
from jina.flow.ports import free_port
from jina.proto import jina_pb2
from jina.topology import ExecutorNode, Topology
from jina.wire import struct_to_dict
from tests.services.gateway.processes import gateway, post, wait_health

RECORDER = "tests.services.gateway.executors:JoinRecorder"
#: the executor flag each join mode needs
FLAGS = {"merge": (), "merge+parts": ("--join-parts",), "parts": ("--no-reduce",)}


@pytest.fixture(scope="module")
def ports(executor_processes):
    found = {
        "a": executor_processes("tests.executors:Appender", "a", "--uses-with", '{"letter": "a"}'),
        "skip": executor_processes("tests.executors:IndexOnly", "skip"),
    }
    for mode, flags in FLAGS.items():
        found[mode] = executor_processes(RECORDER, "join", *flags)
    return found


def request(endpoint="/foo", texts=("t",)) -> PassthroughRequest:
    full = jina_pb2.DataRequestProto()
    full.header.exec_endpoint = endpoint
    full.data.docs.CopyFrom(DocumentArray([Document(id=t, text=t) for t in texts]).to_protobuf())
    return PassthroughRequest.FromString(full.SerializeToString())


def route(nodes: list[ExecutorNode], message: PassthroughRequest) -> jina_pb2.DataRequestProto:
    async def run():
        clients = [connect(n) for n in nodes]
        try:
            return await Router(clients, Topology(tuple(nodes))).route(message)
        finally:
            for client in clients:
                await client.close()

    return jina_pb2.DataRequestProto.FromString(asyncio.run(run()).SerializeToString())


def recorded(ports, mode: str, needs=("a", "skip")) -> dict:
    nodes = [
        ExecutorNode("a", (f"127.0.0.1:{ports['a']}",), needs=("gateway",)),
        ExecutorNode("skip", (f"127.0.0.1:{ports['skip']}",), needs=("gateway",)),
        ExecutorNode("join", (f"127.0.0.1:{ports[mode]}",), needs=needs, join=mode),
    ]
    response = route(nodes, request())
    assert response.header.status.code == jina_pb2.StatusProto.SUCCESS, response.header.status
    assert [r.executor for r in response.routes][-1] == "join"
    return struct_to_dict(response.parameters)["__results__"]["join"]


def test_merge_sends_one_merged_request(ports):
    assert recorded(ports, "merge")["docs"] == ["ta"]


def test_merge_and_parts_sends_the_merge_then_each_branch_keyed_by_its_upstream(ports):
    # `skip` does not bind /foo: its branch is the gateway's request, labelled `skip` all the same
    assert recorded(ports, "merge+parts") == {
        "docs": ["ta"],
        "matrix": [["ta"], ["t"]],
        "map": {"a": ["ta"], "skip": ["t"]},
    }


def test_parts_sends_the_branches_unmerged(ports):
    assert recorded(ports, "parts") == {
        "docs": ["t", "ta"],  # every branch's documents, one after the other (Jina's no_reduce)
        "matrix": [["ta"], ["t"]],
        "map": {"a": ["ta"], "skip": ["t"]},
    }


def test_the_gateway_as_an_upstream_is_labelled_gateway(ports):
    assert recorded(ports, "merge+parts", needs=("gateway", "a"))["map"] == {"gateway": ["t"], "a": ["ta"]}


def test_join_request_labels_copies_and_keeps_the_inputs():
    merged, left, right = PassthroughRequest(), PassthroughRequest(), PassthroughRequest()
    merged.parameters.update({"k": 1})
    left.routes.add(executor="left")  # already labelled: nothing appended
    right.routes.add(executor="before-right")
    assert join_request("merge", merged, [("left", left), ("right", right)]) is merged
    sent = join_request("merge+parts", merged, [("left", left), ("right", right)])
    assert isinstance(sent, PassthroughRequestList)
    assert [[r.executor for r in part.routes] for part in sent.requests] == [[], ["left"], ["before-right", "right"]]
    assert all(part.parameters == merged.parameters for part in sent.requests)
    assert [r.executor for r in right.routes] == ["before-right"]  # the upstream's output is shared: untouched
    only = join_request("parts", merged, [("left", left), ("right", right)])
    assert [part.routes[-1].executor for part in only.requests] == ["left", "right"]
    with pytest.raises(ValueError, match="unknown join mode 'zip'"):
        join_request("zip", merged, [("left", left)])


def test_a_gateway_process_sends_the_parts_its_topology_asks_for(ports, tmp_path):
    port = free_port()
    topology = {
        "executors": [
            {"name": "a", "addresses": [f"127.0.0.1:{ports['a']}"], "needs": ["gateway"]},
            {"name": "skip", "addresses": [f"127.0.0.1:{ports['skip']}"], "needs": ["gateway"]},
            {"name": "join", "addresses": [f"127.0.0.1:{ports['parts']}"], "needs": ["a", "skip"], "join": "parts"},
        ]
    }
    with gateway(port, topology, tmp_path / "gateway.log"):
        wait_health(f"127.0.0.1:{port}", "SERVING", 10)
        response = post(f"127.0.0.1:{port}", "/foo")
    assert struct_to_dict(response.parameters)["__results__"]["join"]["map"] == {"a": ["ta"], "skip": ["t"]}
    assert docs_from_content(response.data).texts == ["ta", "t"]
    assert [r.executor for r in response.routes] == ["gateway", "a", "join"]
