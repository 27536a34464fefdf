"""Jina's everyday Flow surface: CRUD shortcuts, readiness, introspection, env for every executor."""

from __future__ import annotations

import socket

import pytest
from docarray import Document

from jina import Flow
from jina.serve.net import private_address


def test_crud_shortcuts_reach_their_endpoints(flows):
    flow = flows(Flow().add(uses="tests.executors.IndexOnly").add(uses="tests.executors.Tagger", name="t"))
    assert flow.is_flow_ready()
    indexed = flow.index(Document(text="i"))[0]
    assert indexed.tags["indexed"] is True and indexed.tags["t"] is True
    for method in (flow.search, flow.update, flow.delete):
        doc = method(Document(text="s"))[0]
        assert "indexed" not in doc.tags and doc.tags["t"] is True


def test_a_stopped_flow_is_not_ready():
    assert Flow().add().is_flow_ready() is False


def test_flow_env_reaches_every_executor_and_their_own_env_wins(flows):
    flow = flows(
        Flow(env={"SHARED": "flow", "OWN": "flow"})
        .add(uses="tests.executors.Reporter", name="a")
        .add(uses="tests.executors.Reporter", name="b", env={"OWN": "b"})
    )
    for target, own in (("a", "flow"), ("b", "b")):
        doc = flow.post("/", Document(), parameters={"env": ["SHARED", "OWN"]}, target_executor=target)[0]
        assert doc.tags["env"] == {"SHARED": "flow", "OWN": own}


def test_introspection_as_jina_has_it():
    flow = Flow(protocol=["grpc", "http"], port=[12345, 12346], cors=True).add(name="a").add(name="b").needs_all()
    assert flow.num_deployments == 4  # three executors and the gateway, as Jina counts a built Flow
    args = flow.gateway_args
    assert args.protocol == ["grpc", "http"] and args.port == [12345, 12346] and args.cors is True
    assert args.host == "0.0.0.0"
    address = flow.address_private
    socket.inet_aton(address)  # an IPv4 address
    assert address == private_address()


def test_profiling_and_dry_run_through_the_flow(flows):
    flow = flows(Flow().add(uses="tests.executors.Appender", name="a").add(uses="tests.executors.Tagger", name="t"))
    timings = flow.profiling(show_table=False)
    assert {"Roundtrip", "Server", "a", "t"} <= set(timings)
    assert all(value >= 0 for value in timings.values())
    with pytest.warns(DeprecationWarning):
        assert flow.dry_run() is True
