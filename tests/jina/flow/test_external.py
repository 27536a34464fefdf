"""External executors: an executor that already runs (started by the test) put into a Flow by address."""

from __future__ import annotations

import time

import pytest
from docarray import Document

from jina import Client, Flow
from jina.excepts import InternalNetworkError
from jina.flow.ports import free_port
from tests.conftest import running


def _wait_ready(client: Client, seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.is_flow_ready(timeout=1):
            return True
        time.sleep(0.2)
    return False


def test_an_external_executor_serves_in_a_flow_next_to_local_ones(flows):
    port = free_port()
    with running("executor", port, "--port", str(port), "--name", "remote", "--uses", "tests.executors.Appender",
                 "--uses-with", '{"letter": "R"}'):  # fmt: skip
        flow = flows(
            Flow()
            .add(name="local", uses="tests.executors.Appender", uses_with={"letter": "L"})
            .add(name="remote", host=f"grpc://127.0.0.1:{port}", external=True)
        )
        response = flow.post("/", Document(text="x"), return_responses=True)[0]
        assert response.docs[0].text == "xLR"
        assert [r.executor for r in response.routes] == ["gateway", "local", "remote"]
        assert flow.num_deployments == 3
        assert "remote" not in flow.pids  # the Flow started no process for it


def test_several_hosts_are_replicas_of_one_external_executor(flows):
    ports = [free_port(), free_port()]
    tagger = ("--name", "remote", "--uses", "tests.executors.Tagger")
    with (
        running("executor", ports[0], "--port", str(ports[0]), *tagger) as first,
        running("executor", ports[1], "--port", str(ports[1]), *tagger) as second,
    ):
        flow = flows(Flow().add(name="remote", host=["127.0.0.1", "127.0.0.1"], port=ports, external=True))
        seen = {int(flow.post("/", Document(text=str(i)))[0].tags["remote_pid"]) for i in range(12)}
        assert seen == {first.pid, second.pid}


def test_an_unreachable_external_executor_does_not_stop_the_flow_and_is_named(flows):
    port = free_port()
    flow = flows(Flow().add(name="remote", host="127.0.0.1", port=port, external=True))
    with Client(port=flow.port) as client:
        assert client.is_flow_ready(timeout=2) is False
        with pytest.raises(InternalNetworkError) as info:
            client.post("/", Document(text="x"))
        assert info.value.executor == "remote"
        # named, without its address: that is the operator's, in the gateway's log (issue 11)
        assert "executor 'remote' is unreachable" in str(info.value)
        assert f"127.0.0.1:{port}" not in str(info.value)
        # it comes up later: the Flow serves without a restart
        with running("executor", port, "--port", str(port), "--uses", "tests.executors.Appender"):
            assert _wait_ready(client)
            assert client.post("/", Document(text="x"))[0].text == "xx"
