"""A Flow as data: its services, each with its command line, ports, replicas, needs, env, health check.

Rules:

* a Flow is executors (one service each, with its replicas), one gateway, and a bridge when it
  serves HTTP or WebSocket; services are listed in start order (executors, gateway, bridge);
* every service runs the same entry point everywhere: `jina executor|gateway|bridge ARGS`;
* the gateway reaches each executor service by one address per replica or by one name that
  resolves to every replica; the bridge reaches the gateway on its plaintext `internal` port;
* only the gateway's `grpc` port and the bridge's `http` port are public; TLS (when given) is
  on those ports only;
* nothing here chooses a port, writes a file or starts a process: a renderer (the local
  launcher, Docker Compose, Kubernetes) answers those questions through its `Placement`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from jina.excepts import BadConfig
from jina.flow.options import GATEWAY_ONLY_OPTIONS
from jina.topology import ExecutorNode, Topology, TopologyError

EXECUTOR = "executor"
GATEWAY = "gateway"
BRIDGE = "bridge"

#: seconds in-flight requests get to finish when a service stops
STOP_GRACE = 5.0


@dataclass
class ExecutorConfig:
    """One `Flow.add(...)`: what the user asked for, before any placement."""

    name: str
    uses: Any = None
    uses_with: dict[str, Any] = field(default_factory=dict)
    #: what it waits for; empty: the executor added before it
    needs: tuple[str, ...] = ()
    replicas: int = 1
    py_modules: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    uses_metas: dict[str, Any] = field(default_factory=dict)
    #: endpoint → method name, replacing the `@requests` bindings it names (Jina's `uses_requests`)
    uses_requests: dict[str, str] = field(default_factory=dict)
    #: endpoint → {"preferred_batch_size": N, "timeout": ms} (Jina's `uses_dynamic_batching`)
    uses_dynamic_batching: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: separate groups of replicas, each holding part of the data (Jina's shards)
    shards: int = 1
    #: which shards a request goes to: "ANY" (one), "ALL" (every one, answers reduced), or
    #: {endpoint: "ANY"|"ALL", "*": default}
    polling: str | dict[str, str] = "ANY"
    #: the root of the executor's workspace (`self.workspace` is `<workspace>/<name>/<shard>`)
    workspace: str | None = None
    #: a join hands the executor every branch unmerged (docs_matrix / docs_map), as Jina's no_reduce
    no_reduce: bool = False
    #: "host:port" of each replica of an executor that runs outside the Flow (external=True)
    external_hosts: tuple[str, ...] = ()
    #: dial the external executor over TLS (grpcs:// or tls=True)
    tls: bool = False
    #: the port of a local executor, when the user fixed it (one process only)
    port: int | None = None

    @property
    def external(self) -> bool:
        return bool(self.external_hosts)


@dataclass(frozen=True)
class Transport:
    """How the processes talk: compression of internal hops, TLS of the public ports, message size."""

    compression: str = "none"
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    max_message_bytes: int | None = None
    #: the public ports require a client certificate signed by this authority (mutual TLS)
    ssl_ca_certs: str | None = None
    #: the bearer token the gateway and the bridge require (`jina.serve.access`); never rendered
    #: into a command line or an exported file
    access_token: str | None = field(default=None, repr=False)

    @property
    def tls(self) -> bool:
        return bool(self.ssl_certfile)

    def env(self) -> dict[str, str]:
        if self.max_message_bytes is None:
            return {}
        return {
            "JINA_GRPC_SEND_BYTES": str(self.max_message_bytes),
            "JINA_GRPC_RECV_BYTES": str(self.max_message_bytes),
        }


@dataclass(frozen=True)
class Port:
    #: "grpc" (an executor's, or the gateway's public one), "internal" (the gateway's plaintext
    #: port for the bridge and the Flow's own client) or "http" (the bridge's)
    name: str
    #: reached by clients outside the Flow (published)
    public: bool = False
    #: the number the Flow was given for it; None: the renderer chooses
    number: int | None = None


@dataclass(frozen=True)
class HealthCheck:
    #: "grpc" (grpc.health.v1 on `port`) or "http" (GET / on `port`, 200 when serving)
    kind: str
    port: str
    #: the checked port speaks TLS
    tls: bool = False


@dataclass(frozen=True)
class FileRef:
    """A file on this machine that a service reads: executor code, an executor YAML, TLS material."""

    path: str
    #: "code", "tls_cert", "tls_key", "tls_ca" (client certificates' authority) or "workspace" (a
    #: directory the executor writes)
    kind: str


@dataclass(frozen=True)
class Service:
    name: str
    role: str
    ports: tuple[Port, ...]
    health: HealthCheck
    replicas: int = 1
    #: services it calls, so it starts after them (it copes with any order anyway)
    needs: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    files: tuple[FileRef, ...] = ()
    #: the executor it hosts (executor services)
    executor: ExecutorConfig | None = None
    #: which shard of its executor it is (None: the executor is not sharded)
    shard_id: int | None = None
    #: flags of its entry point that do not depend on the placement
    options: Mapping[str, Any] = field(default_factory=dict)

    def port(self, name: str) -> Port:
        for port in self.ports:
            if port.name == name:
                return port
        raise KeyError(f"{self.name} has no {name!r} port")

    def has_port(self, name: str) -> bool:
        return any(port.name == name for port in self.ports)

    @property
    def public_ports(self) -> tuple[Port, ...]:
        return tuple(port for port in self.ports if port.public)

    def file(self, kind: str) -> FileRef | None:
        return next((f for f in self.files if f.kind == kind), None)


class Placement(Protocol):
    """What a renderer decides: the local facts a command line needs."""

    #: True: one command per replica (local processes); False: one per service (containers)
    per_replica: bool

    def bind(self, service: Service, port: Port, replica: int) -> tuple[str, int]:
        """(host, port) the service listens on for `port`."""

    def reach(self, service: Service, port: str) -> tuple[str, ...]:
        """`host:port` addresses its peers dial: one per replica, or one name resolving to all."""

    def file(self, ref: FileRef) -> str:
        """The path the service opens for a file of this machine."""

    def uses(self, executor: ExecutorConfig) -> str | None:
        """The `--uses` argument that makes the executor's class importable where it runs."""

    def log_level(self) -> str | None:
        """The services' `--log-level` (None: their default)."""


@dataclass(frozen=True)
class FlowSpec:
    services: tuple[Service, ...]
    protocols: tuple[str, ...]
    transport: Transport
    #: the gateway's routing: executor names and their needs (addresses filled in per placement)
    topology: Topology
    #: every executor of the Flow as `add()` recorded it, external ones included
    executor_configs: tuple[ExecutorConfig, ...] = ()

    def shards_of(self, name: str) -> tuple[Service, ...]:
        """The services of one executor: one, or one per shard (none for an external executor)."""
        return tuple(s for s in self.executors if s.executor is not None and s.executor.name == name)

    def service(self, name: str) -> Service:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    @property
    def executors(self) -> tuple[Service, ...]:
        return tuple(s for s in self.services if s.role == EXECUTOR)

    @property
    def gateway(self) -> Service:
        return next(s for s in self.services if s.role == GATEWAY)

    @property
    def bridge(self) -> Service | None:
        return next((s for s in self.services if s.role == BRIDGE), None)


# -- building ---------------------------------------------------------------------------------


def check_topology(executors: Sequence[ExecutorConfig]) -> Topology:
    """The graph the executors form; a missing `needs` or a cycle is a BadConfig."""
    try:
        return Topology(tuple(ExecutorNode(e.name, ("placeholder:1",), tuple(e.needs)) for e in executors))
    except TopologyError as exc:
        raise BadConfig(str(exc)) from None


def hanging_executors(executors: Sequence[ExecutorConfig]) -> list[str]:
    """The executors no other executor waits for (a Flow's loose ends), in the order they were added."""
    topology = check_topology(executors)
    return [e.name for e in executors if topology.consumers(e.name) == 0]


def shard_service_name(executor: str, shard: int) -> str:
    return f"{executor}-shard-{shard}"


def join_mode(executor: ExecutorConfig, needs: tuple[str, ...]) -> str:
    """How the gateway hands a join its branches (see the topology's `join`): Flow-started executors get
    the gateway's merge and every branch (docs_matrix / docs_map); external ones the merge only."""
    if len(needs) < 2:
        return "merge"
    if executor.no_reduce:
        return "parts"
    return "merge" if executor.external else "merge+parts"


def _code_files(executor: ExecutorConfig) -> tuple[FileRef, ...]:
    files = [FileRef(m, "code") for m in executor.py_modules if m.endswith(".py")]
    if isinstance(executor.uses, str) and executor.uses.endswith((".yml", ".yaml")):
        files.append(FileRef(executor.uses, "code"))
    return tuple(files)


def _tls_files(transport: Transport) -> tuple[FileRef, ...]:
    if not transport.tls:
        return ()
    pair = (FileRef(str(transport.ssl_certfile), "tls_cert"), FileRef(str(transport.ssl_keyfile), "tls_key"))
    return (*pair, FileRef(transport.ssl_ca_certs, "tls_ca")) if transport.ssl_ca_certs else pair


def build_spec(
    *,
    executors: list[ExecutorConfig],
    protocols: list[str],
    ports: Mapping[str, int | None],
    prefetch: int,
    timeout_send: int | None,
    bridge_options: Mapping[str, Any],
    debug: bool,
    transport: Transport | None = None,
    flow_env: Mapping[str, Any] | None = None,
    workspace: str | None = None,
) -> FlowSpec:
    """The services of a Flow; `ports` maps each protocol to its public port (None: not fixed);
    `flow_env` and `workspace` apply to every executor (their own win)."""
    transport = transport or Transport()
    topology = check_topology(executors)
    shared_env = transport.env()
    common = {"grace": STOP_GRACE, "compression": transport.compression}
    services: list[Service] = []
    taken = {e.name for e in executors}
    for executor in executors:
        if executor.external:
            continue
        env = {**shared_env, **{k: str(v) for k, v in {**(flow_env or {}), **executor.env}.items()}}
        join = join_mode(executor, topology.needs(executor.name))
        options = {
            "uses_with": _json(executor.uses_with),
            "uses_metas": _json(executor.uses_metas),
            "uses_requests": _json(executor.uses_requests),
            "uses_dynamic_batching": _json(executor.uses_dynamic_batching),
            "workspace": executor.workspace or workspace,
            "no_reduce": join == "parts",
            "join_parts": join == "merge+parts",
            "debug": debug,
            **common,
        }
        sharded = executor.shards > 1
        for shard in range(executor.shards):
            name = shard_service_name(executor.name, shard) if sharded else executor.name
            if sharded and name in taken:
                raise BadConfig(
                    f"executor {name!r} clashes with shard {shard} of executor {executor.name!r}; rename it"
                )
            services.append(
                Service(
                    name=name,
                    role=EXECUTOR,
                    ports=(Port("grpc", number=executor.port),),
                    health=HealthCheck("grpc", "grpc"),
                    replicas=executor.replicas,
                    env=env,
                    files=_code_files(executor),
                    executor=executor,
                    shard_id=shard if sharded else None,
                    options=options,
                )
            )
    public_grpc = "grpc" in protocols
    gateway_ports = (Port("grpc", public=True, number=ports.get("grpc")),) if public_grpc else ()
    services.append(
        Service(
            name=GATEWAY,
            role=GATEWAY,
            ports=(*gateway_ports, Port("internal")),
            # the internal port is plaintext even when the public one speaks TLS
            health=HealthCheck("grpc", "internal"),
            needs=tuple(s.name for s in services),
            env=shared_env,
            files=_tls_files(transport) if public_grpc else (),
            options={
                "prefetch": prefetch,
                "timeout_send": timeout_send or None,
                "max_queued_requests": bridge_options.get("max_queued_requests") or None,
                "debug": debug,
                **common,
            },
        )
    )
    bridge_port = ports.get("http") or ports.get("websocket")
    if "http" in protocols or "websocket" in protocols:
        if any(e.name == BRIDGE for e in executors):
            raise BadConfig("an Executor named 'bridge' clashes with the Flow's HTTP/WebSocket bridge; rename it")
        bridge_only = {k: v for k, v in bridge_options.items() if k not in GATEWAY_ONLY_OPTIONS}
        config = {**bridge_only, "debug": debug, "compression": transport.compression}
        if transport.max_message_bytes:
            config["max_body_bytes"] = transport.max_message_bytes
        services.append(
            Service(
                name=BRIDGE,
                role=BRIDGE,
                ports=(Port("http", public=True, number=bridge_port),),
                health=HealthCheck("http", "http", tls=transport.tls),
                needs=(GATEWAY,),
                env=shared_env,
                files=_tls_files(transport),
                options={"config": config},
            )
        )
    return FlowSpec(
        services=tuple(services),
        protocols=tuple(protocols),
        transport=transport,
        topology=topology,
        executor_configs=tuple(executors),
    )


def _json(value: Mapping[str, Any]) -> str | None:
    return json.dumps(value) if value else None


# -- command lines ----------------------------------------------------------------------------


def flags(**options: object) -> list[str]:
    """Command-line flags from keyword arguments: `log_level='INFO'` → `--log-level INFO`;
    `True` → a bare flag; `None` and `False` → left out."""
    argv: list[str] = []
    for name, value in options.items():
        if value is None or value is False:
            continue
        argv.append("--" + name.replace("_", "-"))
        if value is not True:
            argv.append(str(value))
    return argv


def _executor_args(spec: FlowSpec, service: Service, place: Placement, replica: int | None) -> list[str]:
    executor = service.executor
    assert executor is not None
    host, port = place.bind(service, service.port("grpc"), replica or 0)
    several = service.replicas > 1
    options = service.options
    workspace = options["workspace"]
    argv = flags(
        name=executor.name,
        host=host,
        port=port,
        uses=place.uses(executor),
        **{k: options[k] for k in ("uses_with", "uses_metas", "uses_requests", "uses_dynamic_batching")},
        workspace=place.file(FileRef(workspace, "workspace")) if workspace else None,
        **{k: options[k] for k in ("no_reduce", "join_parts", "debug")},
        # Jina names each local replica `name/rep-i` (also the only one): its runtime_args.name
        replicas=service.replicas if several or place.per_replica else None,
        replica_id=replica if place.per_replica else None,
        shards=executor.shards if service.shard_id is not None else None,
        shard_id=service.shard_id,
        log_level=place.log_level(),
        **{k: options[k] for k in ("grace", "compression")},
    )
    if executor.py_modules:
        argv += ["--py-modules", *(_module_path(m, place) for m in executor.py_modules)]
    return argv


def _module_path(module: str, place: Placement) -> str:
    return place.file(FileRef(module, "code")) if module.endswith(".py") else module


def gateway_topology(spec: FlowSpec, place: Placement) -> Topology:
    """The executor graph with the addresses the gateway dials under this placement."""
    nodes = []
    for executor in spec.executor_configs:
        needs = spec.topology.needs(executor.name)
        node: dict[str, Any] = {"name": executor.name, "needs": list(needs)}
        if executor.external:
            node.update(addresses=list(executor.external_hosts), tls=executor.tls, external=True)
        else:
            shards = [list(place.reach(s, "grpc")) for s in spec.shards_of(executor.name)]
            node["addresses"] = [address for shard in shards for address in shard]
            if executor.shards > 1:
                node["shards"] = shards
        if executor.polling != "ANY":
            node["polling"] = executor.polling
        mode = join_mode(executor, needs)
        if mode != "merge":
            node["join"] = mode
        nodes.append(node)
    return Topology.from_json(json.dumps({"executors": nodes}))


def _gateway_args(spec: FlowSpec, service: Service, place: Placement, replica: int | None) -> list[str]:
    public = service.port("grpc") if service.has_port("grpc") else None
    host, port = place.bind(service, public, 0) if public is not None else (None, None)
    internal_host, internal_port = place.bind(service, service.port("internal"), 0)
    cert, key, ca = service.file("tls_cert"), service.file("tls_key"), service.file("tls_ca")
    return flags(
        name=GATEWAY,
        host=host,
        port=port,
        internal_host=internal_host if internal_host != "127.0.0.1" else None,
        internal_port=internal_port,
        **{k: service.options.get(k) for k in ("prefetch", "timeout_send", "max_queued_requests", "debug")},
        topology=gateway_topology(spec, place).to_json() if spec.executor_configs else None,
        ssl_certfile=place.file(cert) if cert else None,
        ssl_keyfile=place.file(key) if key else None,
        ssl_ca_certs=place.file(ca) if ca else None,
        log_level=place.log_level(),
        **{k: service.options[k] for k in ("grace", "compression")},
    )


def bridge_config(service: Service, place: Placement) -> dict[str, Any]:
    """The bridge's `--config` JSON under this placement (TLS file paths filled in)."""
    config = dict(service.options["config"])
    cert, key = service.file("tls_cert"), service.file("tls_key")
    if cert and key:
        config.update(ssl_certfile=place.file(cert), ssl_keyfile=place.file(key))
    ca = service.file("tls_ca")
    if ca:
        config.update(ssl_ca_certs=place.file(ca))
    return config


def _bridge_args(spec: FlowSpec, service: Service, place: Placement, replica: int | None) -> list[str]:
    host, port = place.bind(service, service.port("http"), 0)
    gateway = place.reach(spec.gateway, "internal")[0]
    return flags(
        gateway=gateway,
        host=host,
        port=port,
        config=json.dumps(bridge_config(service, place)),
        log_level=place.log_level(),
    )


_ARGUMENTS: dict[str, Callable[[FlowSpec, Service, Placement, int | None], list[str]]] = {
    EXECUTOR: _executor_args,
    GATEWAY: _gateway_args,
    BRIDGE: _bridge_args,
}


def command(spec: FlowSpec, service: Service, place: Placement, replica: int | None = None) -> list[str]:
    """`[role, *flags]`: what follows `jina` on the service's command line."""
    return [service.role, *_ARGUMENTS[service.role](spec, service, place, replica)]
