"""From a Flow's configuration to the processes that run it: command lines, ports, topology."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jina import logs
from jina.excepts import BadConfig
from jina.flow import launcher
from jina.flow.ports import free_port
from jina.topology import ExecutorNode, Topology, TopologyError

#: seconds in-flight requests get to finish when a Flow stops
STOP_GRACE = 5.0


@dataclass
class ExecutorConfig:
    name: str
    uses: Any = None
    uses_with: dict[str, Any] = field(default_factory=dict)
    #: what it waits for; empty: the executor added before it
    needs: tuple[str, ...] = ()
    replicas: int = 1
    py_modules: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    uses_metas: dict[str, Any] = field(default_factory=dict)

    def process_names(self) -> list[str]:
        return [self.name] if self.replicas == 1 else [f"{self.name}/rep-{i}" for i in range(self.replicas)]


def check_topology(executors: list[ExecutorConfig]) -> Topology:
    """The graph the executors form; a missing `needs` or a cycle is a BadConfig."""
    try:
        return Topology(tuple(ExecutorNode(e.name, ("127.0.0.1:1",), tuple(e.needs)) for e in executors))
    except TopologyError as exc:
        raise BadConfig(str(exc)) from None


def uses_argument(executor: ExecutorConfig, workdir: Path) -> str | None:
    """How an executor process gets its class: as given, by import path, or pickled by value."""
    uses = executor.uses
    if uses is None or isinstance(uses, str):
        return uses
    if uses.__module__ != "__main__" and "<locals>" not in uses.__qualname__:
        return f"{uses.__module__}:{uses.__qualname__}"
    # Defined in the user's script (or a function): hand the class over by value.
    import cloudpickle

    path = workdir / f"{executor.name}.pickle"
    with path.open("wb") as handle:
        cloudpickle.dump(uses, handle)
    return f"pickle:{path}"


@dataclass(frozen=True)
class Transport:
    """How the processes talk: compression of internal hops, TLS of the public ports, message size."""

    compression: str = "none"
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    max_message_bytes: int | None = None

    def env(self) -> dict[str, str]:
        if self.max_message_bytes is None:
            return {}
        return {
            "JINA_GRPC_SEND_BYTES": str(self.max_message_bytes),
            "JINA_GRPC_RECV_BYTES": str(self.max_message_bytes),
        }


@dataclass
class Plan:
    services: list[launcher.ServiceProcess]
    gateway_port: int


def plan_services(
    *,
    executors: list[ExecutorConfig],
    ports: dict[str, int],
    host: str,
    prefetch: int,
    timeout_send: int | None,
    bridge_options: dict[str, Any],
    debug: bool,
    workdir: Path,
    transport: Transport | None = None,
) -> Plan:
    transport = transport or Transport()
    env = launcher.child_env(transport.env())
    common = {"log_level": logs.level_from_env("WARNING"), "grace": STOP_GRACE, "compression": transport.compression}
    services: list[launcher.ServiceProcess] = []
    nodes = []
    for executor in executors:
        uses = uses_argument(executor, workdir)
        addresses = []
        for replica_id, process_name in enumerate(executor.process_names()):
            port = free_port()
            flags = launcher.flags(
                name=executor.name,
                host="127.0.0.1",
                port=port,
                uses=uses,
                uses_with=json.dumps(executor.uses_with) if executor.uses_with else None,
                debug=debug,
                replicas=executor.replicas if executor.replicas > 1 else None,
                replica_id=replica_id if executor.replicas > 1 else None,
                **common,
            )
            if executor.py_modules:
                flags += ["--py-modules", *executor.py_modules]
            child = dict(env)
            child.update({k: str(v) for k, v in executor.env.items()})
            services.append(
                launcher.ServiceProcess(process_name, launcher.python_argv("executor", *flags), child, port)
            )
            addresses.append(f"127.0.0.1:{port}")
        nodes.append(ExecutorNode(executor.name, tuple(addresses), tuple(executor.needs)))
    public_grpc = "grpc" in ports
    # The bridge and the Flow's own client reach the gateway on a plaintext loopback port; the
    # public gRPC port (when there is one) may speak TLS.
    internal_port = free_port()
    flags = launcher.flags(
        name="gateway",
        host=host,
        port=ports["grpc"] if public_grpc else None,
        internal_port=internal_port,
        prefetch=prefetch,
        timeout_send=timeout_send or None,
        topology=Topology(tuple(nodes)).to_json() if nodes else None,
        ssl_certfile=transport.ssl_certfile if public_grpc else None,
        ssl_keyfile=transport.ssl_keyfile if public_grpc else None,
        **common,
    )
    ready_port = ports["grpc"] if public_grpc else internal_port
    services.append(launcher.ServiceProcess("gateway", launcher.python_argv("gateway", *flags), env, ready_port))
    bridge_port = ports.get("http") or ports.get("websocket")
    if bridge_port is not None:
        config = {**bridge_options, "debug": debug, "compression": transport.compression}
        if transport.ssl_certfile:
            config.update(ssl_certfile=transport.ssl_certfile, ssl_keyfile=transport.ssl_keyfile)
        if transport.max_message_bytes:
            config["max_body_bytes"] = transport.max_message_bytes
        flags = launcher.flags(
            gateway=f"127.0.0.1:{internal_port}",
            host=host,
            port=bridge_port,
            config=json.dumps(config),
            log_level=common["log_level"],
        )
        services.append(launcher.ServiceProcess("bridge", launcher.python_argv("bridge", *flags), env, bridge_port))
    return Plan(services=services, gateway_port=internal_port)
