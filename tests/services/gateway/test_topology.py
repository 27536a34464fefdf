from __future__ import annotations

import pytest

from services.gateway.topology import ExecutorNode, Topology


def test_parse_chain_with_replicas():
    topology = Topology.parse(["enc=127.0.0.1:5001", "idx=h1:5002,h2:5003"])
    assert topology.executors == (
        ExecutorNode("enc", ("127.0.0.1:5001",)),
        ExecutorNode("idx", ("h1:5002", "h2:5003")),
    )
    assert Topology.parse([]).executors == ()


@pytest.mark.parametrize(
    "spec",
    ["noequals", "=h:1", "a=", "a=host", "a=host:0", "a=host:99999", "bad name=h:1", "a=:5"],
)
def test_parse_errors(spec):
    with pytest.raises(ValueError):
        Topology.parse([spec])


def test_duplicate_names():
    with pytest.raises(ValueError, match="twice"):
        Topology.parse(["a=h:1", "a=h:2"])
