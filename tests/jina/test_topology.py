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


def test_shards_polling_tls_and_join_round_trip_and_defaults_stay_out_of_the_json():
    import json

    text = json.dumps(
        {
            "executors": [
                {"name": "a", "addresses": ["h:1"], "tls": True},
                # a sharded executor may leave out the flattened addresses
                {"name": "idx", "shards": [["h:2", "h:3"], ["h:4"]], "polling": {"/foo": "all", "*": "ANY"}},
                {"name": "j", "addresses": ["h:5"], "needs": ["a", "idx"], "join": "merge+parts"},
            ]
        }
    )
    topology = Topology.from_json(text)
    a, idx, j = topology.executors
    assert a.tls and a.groups == (("h:1",),) and a.polling == "ANY" and a.join == "merge"
    assert idx.addresses == ("h:2", "h:3", "h:4") and idx.groups == (("h:2", "h:3"), ("h:4",))
    assert j.join == "merge+parts" and topology.node("j") is j
    assert Topology.from_json(topology.to_json()).to_json() == topology.to_json()
    written = {n["name"]: n for n in json.loads(topology.to_json())["executors"]}
    assert set(written["a"]) == {"name", "addresses", "needs", "tls"}
    assert written["idx"]["shards"] == [["h:2", "h:3"], ["h:4"]]
    assert written["idx"]["polling"] == {"/foo": "all", "*": "ANY"}
    # the format before these keys reads as before
    old = Topology.from_json('{"executors": [{"name": "a", "addresses": ["h:1"], "needs": "gateway"}], "end": "a"}')
    assert old.executors == (ExecutorNode("a", ("h:1",), ("gateway",)),)


@pytest.mark.parametrize(
    ("polling", "endpoint", "policy"),
    [
        ("ANY", "/foo", "ANY"),
        ("all", "/foo", "ALL"),
        # Jina's defaults, whatever the policy: a sharded index is searched everywhere, written once
        ("ANY", "/search", "ALL"),
        ("ALL", "/index", "ANY"),
        ({"/foo": "ALL"}, "foo", "ALL"),
        ({"/foo": "ALL"}, "/bar", "ANY"),
        ({"*": "ALL"}, "/bar", "ALL"),
        ({"search": "ANY"}, "/search", "ANY"),
        ({"*": "ANY", "/index": "ALL"}, "/index", "ALL"),
    ],
)
def test_polling_for_an_endpoint(polling, endpoint, policy):
    assert ExecutorNode("e", ("h:1",), polling=polling).polling_for(endpoint) == policy


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ({"polling": "SOME"}, "executor 'e': unknown polling 'SOME'; expected ANY or ALL"),
        ({"polling": {"/search": "ALL_ASYNC"}}, "unknown polling 'ALL_ASYNC' for '/search'"),
        ({"polling": 2}, "unknown polling 2"),
        ({"join": "zip"}, "unknown join 'zip'; expected one of merge, merge\\+parts, parts"),
        ({"tls": "yes"}, "tls must be true or false"),
        ({"shards": [["h:1"], []]}, "every shard needs at least one address"),
        ({"shards": [["h:1"], ["h:9"]]}, "are not the shards' addresses"),
        ({"shards": "h:1"}, "shards must be a list of address lists"),
        ({"replicas": 2}, "unknown key\\(s\\) replicas"),
    ],
)
def test_bad_executor_options_are_named(item, message):
    import json

    text = json.dumps({"executors": [{"name": "e", "addresses": ["h:1"], **item}]})
    with pytest.raises(ValueError, match=message):
        Topology.from_json(text)
