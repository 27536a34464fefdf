"""The service spec: which services a Flow is, and the command lines a placement makes of them (no sockets)."""

from __future__ import annotations

import json

import pytest

from jina import Flow
from jina.excepts import BadConfig
from jina.flow.spec import BRIDGE, EXECUTOR, GATEWAY, ExecutorConfig, FileRef, Port, Service, command
from jina.topology import Topology


class Fixed:
    """A placement that gives every port a number from a counter and reaches services by name."""

    per_replica = False

    def __init__(self):
        self.numbers: dict[tuple[str, str], int] = {}

    def bind(self, service: Service, port: Port, replica: int) -> tuple[str, int]:
        key = (service.name, port.name)
        self.numbers.setdefault(key, port.number or 9000 + len(self.numbers))
        return "h", self.numbers[key]

    def reach(self, service: Service, port: str) -> tuple[str, ...]:
        return (f"{service.name}.svc:{self.bind(service, service.port(port), 0)[1]}",)

    def file(self, ref: FileRef) -> str:
        return f"/mapped{ref.path}"

    def uses(self, executor: ExecutorConfig) -> str | None:
        return f"uses-of-{executor.name}"

    def log_level(self) -> str | None:
        return None


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def diamond() -> Flow:
    f = Flow(protocol=["grpc", "http"], port=[7001, 7002], compression="gzip", cors=True, max_message_bytes=4096)
    f.add(name="a", uses="tests.executors.Appender", uses_with={"letter": "a"})
    f.add(name="b", needs="a", replicas=3, env={"MODEL": "small"}, py_modules=["/code/b.py"])
    f.add(name="c", needs="a")
    f.add(name="d", needs=["b", "c"])
    return f


def test_a_flow_is_its_executors_then_the_gateway_then_the_bridge():
    spec = diamond().spec()
    assert [(s.name, s.role) for s in spec.services] == [
        ("a", EXECUTOR), ("b", EXECUTOR), ("c", EXECUTOR), ("d", EXECUTOR), ("gateway", GATEWAY), ("bridge", BRIDGE),
    ]  # fmt: skip
    assert spec.service("b").replicas == 3
    assert spec.gateway.needs == ("a", "b", "c", "d")
    assert spec.bridge.needs == ("gateway",)
    assert [(p.name, p.public, p.number) for p in spec.gateway.ports] == [
        ("grpc", True, 7001),
        ("internal", False, None),
    ]
    assert [(p.name, p.public, p.number) for p in spec.bridge.ports] == [("http", True, 7002)]
    assert [(p.name, p.public) for p in spec.service("a").ports] == [("grpc", False)]
    # health: gRPC on the gateway's plaintext port, HTTP on the bridge
    assert (spec.gateway.health.kind, spec.gateway.health.port) == ("grpc", "internal")
    assert (spec.bridge.health.kind, spec.bridge.health.port) == ("http", "http")
    # the message limit reaches every service; an executor's own env only that executor
    assert spec.service("b").env == {"JINA_GRPC_SEND_BYTES": "4096", "JINA_GRPC_RECV_BYTES": "4096", "MODEL": "small"}
    assert spec.gateway.env == {"JINA_GRPC_SEND_BYTES": "4096", "JINA_GRPC_RECV_BYTES": "4096"}
    assert spec.service("b").files == (FileRef("/code/b.py", "code"),)


def test_command_lines_come_from_the_placement():
    spec = diamond().spec()
    place = Fixed()
    b = command(spec, spec.service("b"), place)
    assert b[0] == "executor"
    assert _flag(b, "--uses") == "uses-of-b"
    assert _flag(b, "--replicas") == "3"
    assert "--replica-id" not in b  # one command for every replica
    assert b[b.index("--py-modules") + 1] == "/mapped/code/b.py"
    assert _flag(b, "--compression") == "gzip"
    a = command(spec, spec.service("a"), place)
    assert json.loads(_flag(a, "--uses-with")) == {"letter": "a"}

    gateway = command(spec, spec.gateway, place)
    topology = Topology.from_json(_flag(gateway, "--topology"))
    assert [(n.name, n.addresses) for n in topology.executors] == [
        (name, (f"{name}.svc:{place.numbers[(name, 'grpc')]}",)) for name in "abcd"
    ]
    assert topology.needs("d") == ("b", "c") and topology.needs("b") == ("a",)
    assert _flag(gateway, "--port") == "7001"
    assert _flag(gateway, "--internal-host") == "h"

    bridge = command(spec, spec.bridge, place)
    assert _flag(bridge, "--gateway") == f"gateway.svc:{place.numbers[('gateway', 'internal')]}"
    config = json.loads(_flag(bridge, "--config"))
    assert config["cors"] is True and config["compression"] == "gzip" and config["max_body_bytes"] == 4096


def test_tls_files_are_the_public_ports_and_mapped_by_the_placement(tmp_path):
    f = Flow(protocol=["grpc", "websocket"], ssl_certfile="/tls/c.pem", ssl_keyfile="/tls/k.pem").add(name="e")
    spec = f.spec(ports=f.declared_ports)
    assert spec.service("e").files == ()
    assert {r.kind for r in spec.gateway.files} == {"tls_cert", "tls_key"}
    assert spec.bridge.health.tls
    place = Fixed()
    gateway = command(spec, spec.gateway, place)
    assert _flag(gateway, "--ssl-certfile") == "/mapped/tls/c.pem"
    config = json.loads(_flag(command(spec, spec.bridge, place), "--config"))
    assert (config["ssl_certfile"], config["ssl_keyfile"]) == ("/mapped/tls/c.pem", "/mapped/tls/k.pem")


def test_a_flow_without_grpc_has_only_the_internal_gateway_port():
    f = Flow(protocol="http").add(name="e")
    spec = f.spec(ports=f.declared_ports)
    assert [p.name for p in spec.gateway.ports] == ["internal"]
    assert spec.bridge.port("http").number is None
    assert "--port" not in command(spec, spec.gateway, Fixed())


def test_an_executor_named_bridge_is_refused_when_there_is_a_bridge():
    with pytest.raises(BadConfig, match="'bridge' clashes"):
        Flow(protocol="http").add(name="bridge").spec()
    assert Flow().add(name="bridge").spec().bridge is None
