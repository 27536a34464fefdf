from __future__ import annotations

import pytest

from jina.topology import ExecutorNode, Topology


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


def test_graph_order_ancestors_and_defaults():
    from jina.topology import GATEWAY

    topology = Topology(
        (
            ExecutorNode("a", ("h:1",)),
            ExecutorNode("b", ("h:2",), needs=("a",)),
            ExecutorNode("c", ("h:3",), needs=("a",)),
            ExecutorNode("d", ("h:4",), needs=("b", "c")),
        )
    )
    assert topology.needs("a") == (GATEWAY,)
    order = topology.order()
    assert order.index("a") < order.index("b") < order.index("d") and order.index("c") < order.index("d")
    assert topology.ancestors("d") == {"a", "b", "c", GATEWAY}
    assert topology.consumers("a") == 2 and topology.end_node == "d"
    assert Topology.from_json(topology.to_json()).to_json() == topology.to_json()


@pytest.mark.parametrize(
    ("executors", "message"),
    [
        ([ExecutorNode("a", ("h:1",), needs=("ghost",))], "needs 'ghost', which is not in the Flow"),
        (
            [ExecutorNode("a", ("h:1",), needs=("b",)), ExecutorNode("b", ("h:2",), needs=("a",))],
            "cycle: a -> b -> a",
        ),
        ([ExecutorNode("a", ())], "has no address"),
    ],
)
def test_graph_errors(executors, message):
    with pytest.raises(ValueError, match=message):
        Topology(tuple(executors))


def test_topology_json_errors():
    with pytest.raises(ValueError, match="not valid JSON"):
        Topology.from_json("{nope")
    with pytest.raises(ValueError, match="end 'x'"):
        Topology.from_json('{"executors": [{"name": "a", "addresses": ["h:1"]}], "end": "x"}')
