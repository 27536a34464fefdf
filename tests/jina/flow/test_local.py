"""The local renderer: one process per replica on loopback ports, public ports on the Flow's host."""

from __future__ import annotations

from jina import Executor, Flow
from jina.flow import local
from jina.topology import Topology


class DefinedInATest(Executor):
    pass


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_every_replica_is_a_process_on_its_own_loopback_port(tmp_path):
    f = Flow(protocol=["grpc", "http"], port=[7101, 7102], host="0.0.0.0")
    f.add(name="a", uses="tests.executors.Appender", replicas=2).add(name="b")
    processes = local.render(f.spec(), f.host, tmp_path)
    names = [p.name for p in processes.services]
    assert names == ["a/rep-0", "a/rep-1", "b", "gateway", "bridge"]
    by_name = {p.name: p for p in processes.services}
    replica_ports = [by_name["a/rep-0"].port, by_name["a/rep-1"].port]
    assert len(set(replica_ports)) == 2
    assert _flag(by_name["a/rep-1"].argv, "--replica-id") == "1"
    assert _flag(by_name["a/rep-0"].argv, "--host") == "127.0.0.1"

    gateway = by_name["gateway"].argv
    topology = Topology.from_json(_flag(gateway, "--topology"))
    assert topology.executors[0].addresses == tuple(f"127.0.0.1:{p}" for p in replica_ports)
    assert (_flag(gateway, "--host"), _flag(gateway, "--port")) == ("0.0.0.0", "7101")
    assert _flag(gateway, "--internal-port") == str(processes.gateway_port)
    assert "--internal-host" not in gateway  # loopback, the default
    assert by_name["gateway"].port == 7101

    bridge = by_name["bridge"].argv
    assert _flag(bridge, "--gateway") == f"127.0.0.1:{processes.gateway_port}"
    assert (_flag(bridge, "--host"), _flag(bridge, "--port")) == ("0.0.0.0", "7102")
    assert bridge[:3] == [bridge[0], "-m", "jina"]


def test_a_class_without_an_import_path_is_handed_over_by_value(tmp_path):
    class Local(Executor):
        pass

    f = Flow().add(name="here", uses=Local).add(name="there", uses=DefinedInATest)
    processes = local.render(f.spec(), f.host, tmp_path)
    by_name = {p.name: p for p in processes.services}
    assert _flag(by_name["here"].argv, "--uses") == f"pickle:{tmp_path / 'here.pickle'}"
    assert (tmp_path / "here.pickle").is_file()
    assert _flag(by_name["there"].argv, "--uses") == f"{__name__}:DefinedInATest"
