"""Flow: a chain of Executors behind a gateway, started as separate processes and stopped together."""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jina import logs, registry
from jina.clients.hosts import normalize_protocol
from jina.excepts import BadConfig
from jina.extras import require_graphql
from jina.flow import launcher, local, supervisor, yaml_config
from jina.flow.executor_options import (
    check_batching,
    check_mapping,
    check_polling,
    external_addresses,
    local_port,
    positive_int,
)
from jina.flow.options import (
    ADD_OPTIONS,
    BRIDGE_OPTIONS,
    IGNORED_ADD_OPTIONS,
    check_names,
    coerce_bool,
    normalize_flow_options,
)
from jina.flow.ports import free_port
from jina.flow.spec import (
    STOP_GRACE,
    ExecutorConfig,
    FlowSpec,
    Transport,
    build_spec,
    check_topology,
    hanging_executors,
)
from jina.serve.net import port_is_free, private_address
from jina.serve.tls import check_tls_pair, read_client_ca

_logger = logging.getLogger("jina.flow")

__all__ = ["STOP_GRACE", "Flow"]

#: options Flow() names as parameters (the rest arrive in **kwargs)
_PARAMETERS = ("protocol", "port", "host", "prefetch", "timeout_send", "timeout_ready")


def _assign_ports(protocols: list[str], port: Any) -> dict[str, int | None]:
    """protocol → the port asked for (None: choose one). HTTP and WebSocket share the bridge's port."""
    given = port if isinstance(port, (list, tuple)) else [port]
    if port is not None and isinstance(port, (list, tuple)) and len(given) != len(protocols):
        raise BadConfig(f"port: {len(given)} ports for {len(protocols)} protocols {protocols}")
    ports: dict[str, int | None] = {}
    for index, protocol in enumerate(protocols):
        value = given[index] if index < len(given) else None
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536):
            raise BadConfig(f"port {value!r} is not a TCP port number")
        ports[protocol] = value
    http, websocket = ports.get("http"), ports.get("websocket")
    if http and websocket and http != websocket:
        raise BadConfig("HTTP and WebSocket are served by one bridge: give them the same port")
    if "grpc" in ports and ports["grpc"] is not None and ports["grpc"] in (http, websocket):
        raise BadConfig(f"port {ports['grpc']} is given to gRPC and to the bridge")
    return ports


_YAML_SUFFIXES = (".yml", ".yaml")


def _resolve_uses(uses: Any, py_modules: Any, name: str) -> Any:
    """A class, or a string the executor process resolves; a bare class name with no `py_modules`
    is an Executor subclass defined in this program (Jina keeps a registry of them)."""
    if uses is None:
        return None
    if not isinstance(uses, str):
        if not registry.is_executor_class(uses):
            raise BadConfig(f"uses={uses!r} is not an Executor subclass (nor a 'module.Class' string)")
        return uses
    bare = not any(c in uses for c in ".:/") and not uses.endswith(_YAML_SUFFIXES)
    if not bare or py_modules or uses in ("Executor", "BaseExecutor"):
        return uses
    if uses.startswith(("jinahub", "jinaai", "docker")):
        return uses  # the executor process explains why these are not served
    found = registry.registered(uses)
    if found is None:
        raise BadConfig(
            f"executor {name!r}: uses={uses!r}: no Executor subclass named {uses!r} is defined in this program; "
            "give 'module.Class', an Executor YAML file, or the file defining it in py_modules"
        )
    return found


def _seconds_or_forever(milliseconds: float) -> float | None:
    """Jina's `timeout_ready` is in milliseconds, and -1 (any negative value) waits forever."""
    return None if milliseconds is None or milliseconds < 0 else milliseconds / 1000


class Flow:
    """Executors chained behind a gateway.

    `Flow(protocol='grpc', port=None, host='0.0.0.0').add(uses=MyExecutor)`; `with f:` starts the
    gateway and one process per Executor (fresh interpreters, in parallel), returns when all
    serve, and stops them all on exit, error or Ctrl-C.
    """

    def __init__(
        self,
        protocol: str | list[str] = "grpc",
        port: int | None = None,
        host: str = "0.0.0.0",
        prefetch: int = 1000,
        timeout_send: int | None = None,
        timeout_ready: float = 600_000,
        **kwargs: Any,
    ):
        # options loaded from YAML arrive checked already (with file:line in their warnings)
        kwargs = kwargs.pop("_checked_options", None) or normalize_flow_options(kwargs)
        protocols = protocol if isinstance(protocol, (list, tuple)) else [protocol]
        self.protocols = list(dict.fromkeys(normalize_protocol(p) for p in protocols))
        if not self.protocols:
            raise BadConfig("protocol: give at least one of grpc, http, websocket")
        self._ports = _assign_ports(self.protocols, port)
        if not isinstance(prefetch, int) or prefetch < 0:
            raise BadConfig(f"prefetch must be an integer >= 0 (0 = no limit), got {prefetch!r}")
        self.host = host
        self.prefetch = prefetch
        self.timeout_send = timeout_send
        if not isinstance(timeout_ready, (int, float)) or isinstance(timeout_ready, bool):
            raise BadConfig(f"timeout_ready is milliseconds (-1: wait forever), got {timeout_ready!r}")
        self.timeout_ready = timeout_ready
        self.debug = bool(kwargs.pop("debug", False))
        self.compression: str = kwargs.pop("compression", None) or "none"
        self.ssl_certfile: str | None = kwargs.pop("ssl_certfile", None)
        self.ssl_keyfile: str | None = kwargs.pop("ssl_keyfile", None)
        self.ssl_ca_certs: str | None = kwargs.pop("ssl_ca_certs", None)
        # kept out of `options`, gateway_args and repr: a secret
        self._access_token: str | None = kwargs.pop("access_token", None) or None
        self.max_message_bytes: int | None = kwargs.pop("max_message_bytes", None)
        self.options = kwargs
        self._executors: list[ExecutorConfig] = []
        self._services: list[launcher.ServiceProcess] = []
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._client = None
        self._gateway_port: int | None = None
        self._lock = threading.Lock()
        #: where the Flow was loaded from (a YAML file), if it was
        self.config_source: str | None = None
        self._blocking: threading.Event | None = None
        self._sigterm_taken = False
        #: how processes that exit while the Flow runs are restarted (None: they are not); set before start()
        self.restart_policy: supervisor.RestartPolicy | None = supervisor.policy_from(
            kwargs.pop("max_restarts", None), kwargs.pop("restart_window", None)
        )
        self._supervisor: supervisor.Supervisor | None = None
        #: why the Flow stopped by itself (a process spent its restart budget), if it did
        self._failure: supervisor.RestartBudgetExceeded | None = None

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def load_config(cls, source: str | os.PathLike) -> Flow:
        """A Flow from a YAML file or a YAML string (`jtype: Flow`, `with:`, `executors:`)."""
        return yaml_config.load_flow_config(source, cls._from_checked_options)

    @classmethod
    def _from_checked_options(cls, options: dict[str, Any]) -> Flow:
        # options loaded from YAML are checked already, with file:line in their warnings
        named = {k: options.pop(k) for k in _PARAMETERS if k in options}
        return cls(**named, _checked_options=options)

    def save_config(self, path: str | os.PathLike) -> None:
        """Write this Flow as YAML that `load_config` reads back (without its access token, a secret:
        write `access_token: ${{ ENV.NAME }}` into the file to read it from the environment)."""
        if self._access_token:
            _logger.warning("save_config: access_token is not written to %s (a secret)", path)
        yaml_config.save_flow_config(self, path)

    def add(
        self,
        uses: Any = None,
        name: str | None = None,
        uses_with: dict[str, Any] | None = None,
        needs: str | list[str] | None = None,
        replicas: int = 1,
        py_modules: str | list[str] | None = None,
        env: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Flow:
        """Add an Executor: a class, 'module.Class', 'Class' (defined in this program or by `py_modules`),
        an Executor YAML file, or nothing (a pass-through Executor). `needs` names what it waits for
        (default: the Executor added before it; several make a join); `replicas` runs that many
        processes of it, `shards` that many groups of replicas (`polling` says which get a request).
        `host=..., port=..., external=True` adds an Executor that already runs elsewhere."""
        kwargs = check_names(kwargs, ADD_OPTIONS | IGNORED_ADD_OPTIONS, "Flow.add()")
        for ignored in IGNORED_ADD_OPTIONS:
            kwargs.pop(ignored, None)
        if self._services:
            raise BadConfig("cannot add an Executor to a running Flow")
        name = name or f"executor{len(self._executors)}"
        if any(e.name == name for e in self._executors) or name == "gateway":
            raise BadConfig(f"an Executor named {name!r} is already in this Flow")
        uses = _resolve_uses(uses, py_modules, name)
        if uses_with is not None and not isinstance(uses_with, dict):
            raise BadConfig(f"uses_with must be a dict, got {type(uses_with).__name__}")
        replicas = positive_int(replicas, "replicas", name)
        shards = positive_int(kwargs.get("shards", 1), "shards", name)
        if env is not None and not isinstance(env, dict):
            raise BadConfig(f"env must be a mapping of environment variables, got {type(env).__name__}")
        external = coerce_bool("external", kwargs.get("external", False), f"executor {name!r}: ")
        hosts: tuple[str, ...] = ()
        tls = False
        if external:
            local_only = {"uses": uses, "uses_with": uses_with, "py_modules": py_modules}
            local_only.update({k: kwargs.get(k) for k in ("workspace", "uses_requests", "uses_dynamic_batching")})
            given = sorted(k for k, v in local_only.items() if v) + (["shards"] if shards != 1 else [])
            if replicas != 1:
                raise BadConfig(f"executor {name!r} is external: give one host per replica instead of replicas=")
            if given:
                raise BadConfig(f"executor {name!r} is external (it runs elsewhere): {given} do not apply to it")
            tls_given = kwargs.get("tls")
            tls_flag = None if tls_given is None else coerce_bool("tls", tls_given, f"executor {name!r}: ")
            hosts, tls = external_addresses(kwargs.get("host"), kwargs.get("port"), tls_flag, name)
        elif kwargs.get("host") not in (None, "0.0.0.0", ["0.0.0.0"], "127.0.0.1", ["127.0.0.1"]):
            raise BadConfig(
                f"executor {name!r}: host={kwargs['host']!r} is where an executor that already runs is found; "
                "add external=True (this Flow starts its own executors on this machine)"
            )
        elif kwargs.get("tls"):
            raise BadConfig(f"executor {name!r}: tls=True is for an external executor (external=True, host=...)")
        workspace = kwargs.get("workspace")
        if workspace is not None and not isinstance(workspace, (str, os.PathLike)):
            raise BadConfig(f"executor {name!r}: workspace must be a directory path, got {workspace!r}")
        self._executors.append(
            ExecutorConfig(
                name=name,
                uses=uses,
                uses_with=dict(uses_with or {}),
                needs=tuple([needs] if isinstance(needs, str) else needs or ()),
                replicas=replicas,
                py_modules=tuple([py_modules] if isinstance(py_modules, str) else py_modules or ()),
                env=dict(env or {}),
                uses_metas=check_mapping(kwargs.get("uses_metas"), "uses_metas", name),
                uses_requests=check_mapping(kwargs.get("uses_requests"), "uses_requests", name),
                uses_dynamic_batching=check_batching(kwargs.get("uses_dynamic_batching"), name),
                shards=shards,
                polling=check_polling(kwargs.get("polling", "ANY"), name),
                workspace=str(workspace) if workspace is not None else None,
                no_reduce=coerce_bool("no_reduce", kwargs.get("no_reduce", False), f"executor {name!r}: "),
                external_hosts=hosts,
                tls=tls,
                port=None if external else local_port(kwargs.get("port"), name, replicas * shards),
            )
        )
        return self

    def needs(self, needs: str | list[str], name: str = "joiner", *args: Any, **kwargs: Any) -> Flow:
        """Add a join that waits for every Executor in `needs` (a pass-through unless `uses` is given)."""
        if not needs or isinstance(needs, str):
            raise BadConfig("needs(): give the list of Executors to wait for")
        return self.add(*args, name=name, needs=list(needs), **kwargs)

    def needs_all(self, name: str = "joiner", *args: Any, **kwargs: Any) -> Flow:
        """Add a join that waits for every Executor nothing else waits for (the Flow's loose ends)."""
        loose = hanging_executors(self._executors)
        if not loose:
            raise BadConfig("needs_all(): the Flow has no Executor to wait for")
        return self.add(*args, name=name, needs=loose, **kwargs)

    def expose_endpoint(self, exec_endpoint: str, **options: Any) -> None:
        """Serve an Executor endpoint at its own HTTP route (`path`, `methods`, `summary`, `tags`...)."""
        if self._services:
            raise BadConfig("cannot expose an endpoint of a running Flow")
        if not isinstance(exec_endpoint, str):
            raise BadConfig(f"expose_endpoint: {exec_endpoint!r} is not an endpoint")
        exposed = dict(self.options.get("expose_endpoints") or {})
        exposed[exec_endpoint] = options
        self.options["expose_endpoints"] = exposed

    @property
    def ports(self) -> dict[str, int]:
        """protocol → its public port (free ones are chosen on first access when none were given)."""
        for protocol, port in self._ports.items():
            if port is None:
                shared = "websocket" if protocol == "http" else "http" if protocol == "websocket" else None
                self._ports[protocol] = self._ports.get(shared) or free_port()
        return dict(self._ports)  # type: ignore[arg-type]

    @property
    def declared_ports(self) -> dict[str, int | None]:
        """protocol → the port the Flow was given (None: not fixed; `ports` chooses one when running)."""
        return dict(self._ports)

    @property
    def port(self) -> int:
        """The port of the first protocol."""
        return self.ports[self.protocols[0]]

    @property
    def bridge_port(self) -> int | None:
        """The HTTP/WebSocket port, when the Flow serves either."""
        ports = self.ports
        return ports.get("http") or ports.get("websocket")

    @property
    def protocol(self) -> str:
        return self.protocols[0]

    @property
    def executor_names(self) -> list[str]:
        return [e.name for e in self._executors]

    @property
    def executors(self) -> tuple[ExecutorConfig, ...]:
        """The Executors added, in order, as `add()` was given them."""
        return tuple(self._executors)

    def spec(self, ports: dict[str, int | None] | None = None) -> FlowSpec:
        """This Flow's services as data (what every renderer reads); `ports` defaults to `self.ports`."""
        bridge_options = {k: v for k, v in self.options.items() if k in BRIDGE_OPTIONS and v is not None}
        return build_spec(
            executors=self._executors,
            protocols=self.protocols,
            ports=self.ports if ports is None else ports,
            prefetch=self.prefetch,
            timeout_send=self.timeout_send,
            bridge_options=bridge_options,
            debug=self.debug,
            flow_env=self.options.get("env"),
            workspace=self.options.get("workspace"),
            transport=Transport(
                compression=self.compression,
                ssl_certfile=self.ssl_certfile,
                ssl_keyfile=self.ssl_keyfile,
                max_message_bytes=self.max_message_bytes,
                ssl_ca_certs=self.ssl_ca_certs,
                access_token=self._access_token,
            ),
        )

    def to_docker_compose_yaml(
        self, output_path: str | None = None, network_name: str | None = None, include_gateway: bool = True, **options
    ) -> list[Path]:
        """Write this Flow as a Docker Compose file (also deployable on Swarm) and Compose's override file
        next to it; options: `context`, `image`, `code`, `build_context`, `dockerfile` (see `jina export`)."""
        from jina.deploy.export import to_docker_compose_yaml

        return to_docker_compose_yaml(self, output_path, network_name, include_gateway, **options)

    def to_kubernetes_yaml(
        self, output_base_path: str, k8s_namespace: str | None = None, include_gateway: bool = True, **options
    ) -> list[Path]:
        """Write this Flow as Kubernetes objects (one YAML file per service, plus config) into a directory;
        options: `context`, `image`, `code`, `tls_secret` (see `jina export`)."""
        from jina.deploy.export import to_kubernetes_yaml

        return to_kubernetes_yaml(self, output_base_path, k8s_namespace, include_gateway, **options)

    # -- running ----------------------------------------------------------------------------

    def start(self) -> Flow:
        with self._lock:
            if self._services:
                return self
            logs.configure("flow", logs.level_from_env("INFO"))
            for port in set(self._ports.values()):
                if port is not None and not port_is_free(port, self.host):
                    raise BadConfig(f"port {port} is already in use; choose another Flow(port=...)")
            for executor in self._executors:
                if executor.port is not None and not port_is_free(executor.port, "127.0.0.1"):
                    raise BadConfig(f"executor {executor.name!r}: port {executor.port} is already in use")
            check_topology(self._executors)
            if self.options.get("expose_graphql_endpoint") and {"http", "websocket"} & set(self.protocols):
                require_graphql()  # the optional dependency, before any process
            check_tls_pair(self.ssl_certfile, self.ssl_keyfile)
            read_client_ca(self.ssl_ca_certs, self.ssl_certfile)
            self._workdir = tempfile.TemporaryDirectory(prefix="jina-flow-")
            try:
                processes = local.render(self.spec(), self.host, Path(self._workdir.name))
                self._services = processes.services
                self._gateway_port = processes.gateway_port
                for service in self._services:
                    service.start()
                launcher.wait_ready(self._services, _seconds_or_forever(self.timeout_ready))
            except BaseException:
                self._stop_services()
                raise
            self._supervise()
        self._take_sigterm()
        where = ", ".join(f"{p} on {self.host}:{port}" for p, port in self.ports.items())
        _logger.info("Flow is ready to serve: %s", where)
        return self

    # -- supervision (jina/flow/supervisor.py): restart what exits, stop the Flow past the budget --

    def _supervise(self) -> None:
        self._failure = None
        if self.restart_policy is None:
            return
        self._supervisor = supervisor.Supervisor(
            self._services,
            policy=self.restart_policy,
            ready_timeout=_seconds_or_forever(self.timeout_ready),
            on_restarted=self._on_restarted,
            on_failed=self._on_supervision_failed,
        )
        self._supervisor.start()

    def _on_restarted(self, service: launcher.ServiceProcess) -> None:
        if service.name != "gateway":
            return
        # a fresh channel to the new gateway: the old client's channel was measured not to
        # reconnect within 30 s (UNAVAILABLE "Failed to connect ... Timeout occurred: FD Shutdown")
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def _on_supervision_failed(self, error: supervisor.RestartBudgetExceeded) -> None:
        # runs in the supervisor's thread: stop the processes; close() (or the end of `with`) cleans up
        self._failure = error
        self._stop_processes()
        if self._blocking is not None:
            self._blocking.set()

    def _unsupervise(self) -> None:
        if self._supervisor is not None:
            self._supervisor.stop()
            self._supervisor = None

    def _check_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def _stop_processes(self) -> None:
        # front to back: each finishes what it is passing on while the ones behind it still serve
        for front in ("bridge", "gateway"):
            launcher.stop_all([s for s in self._services if s.name == front], STOP_GRACE)
        launcher.stop_all([s for s in self._services if s.name not in ("bridge", "gateway")], STOP_GRACE)

    def _stop_services(self) -> None:
        self._unsupervise()
        self._stop_processes()
        self._services = []
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None
            if self._services:
                self._stop_services()
            self._give_back_sigterm()

    def __enter__(self) -> Flow:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def addresses(self) -> dict[str, str]:
        """name → host:port of every running process (executors listen on 127.0.0.1)."""
        public = {"bridge", "gateway"} if "grpc" in self.protocols else {"bridge"}
        return {s.name: f"{self.host if s.name in public else '127.0.0.1'}:{s.port}" for s in self._services}

    @property
    def pids(self) -> dict[str, int]:
        return {s.name: s.pid for s in self._services if s.pid is not None}

    def _take_sigterm(self) -> None:
        """While the Flow runs, SIGTERM stops it like Ctrl-C does: `block()` returns, or the code in
        `with f:` is interrupted (KeyboardInterrupt) and the exit stops every process. Only when the
        program left SIGTERM at its default (a handler of its own stays in charge)."""
        if threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
            return

        def on_sigterm(*_: object) -> None:
            if self._blocking is not None:
                self._blocking.set()
            else:
                raise KeyboardInterrupt("SIGTERM")

        signal.signal(signal.SIGTERM, on_sigterm)
        self._sigterm_taken = True

    def _give_back_sigterm(self) -> None:
        if self._sigterm_taken and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            self._sigterm_taken = False

    def block(self, stop_event: threading.Event | None = None) -> None:
        """Serve until Ctrl-C, SIGTERM, or `stop_event` is set; raise `RestartBudgetExceeded` if a process
        kept exiting (the supervisor restarts one that exits, within its `restart_policy`)."""
        event = stop_event or threading.Event()
        self._blocking = event
        try:
            while self._failure is None and not event.wait(0.2):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self._blocking = None
        self._check_failure()

    # -- talking to it ----------------------------------------------------------------------

    def _get_client(self):
        if self._client is None:
            from jina.clients import Client

            # the gateway's plaintext loopback port (its public one may speak TLS)
            host = "127.0.0.1"
            self._client = Client(
                host=host, port=self._gateway_port, protocol="grpc", prefetch=self.prefetch or None,
                compression=self.compression, max_message_bytes=self.max_message_bytes,
                access_token=self._access_token,
            )  # fmt: skip
        return self._client

    def post(self, on: str = "/", inputs: Any = None, **kwargs: Any):
        """Client.post() against this Flow's gateway."""
        if not self._services:
            raise BadConfig("the Flow is not running: use `with f:` or f.start() before f.post()")
        self._check_failure()
        return self._get_client().post(on, inputs, **kwargs)

    def index(self, inputs: Any = None, **kwargs: Any):
        return self.post("/index", inputs, **kwargs)

    def search(self, inputs: Any = None, **kwargs: Any):
        return self.post("/search", inputs, **kwargs)

    def update(self, inputs: Any = None, **kwargs: Any):
        return self.post("/update", inputs, **kwargs)

    def delete(self, inputs: Any = None, **kwargs: Any):
        return self.post("/delete", inputs, **kwargs)

    def profiling(self, show_table: bool = True) -> dict[str, float]:
        """Per-hop timings (ms) of one request, as `Client.profiling()`."""
        if not self._services:
            raise BadConfig("the Flow is not running: use `with f:` or f.start() before f.profiling()")
        return self._get_client().profiling(show_table=show_table)

    def dry_run(self, timeout: float | None = 5.0) -> bool:
        """Jina's old name of `is_flow_ready()` (deprecated there too)."""
        if not self._services:
            return False
        return self._get_client().dry_run(timeout=timeout)

    def is_flow_ready(self, timeout: float | None = 5.0) -> bool:
        """True when the gateway answers and every executor it routes to does."""
        if not self._services:
            return False
        return self._get_client().is_flow_ready(timeout=timeout)

    # -- what it is ---------------------------------------------------------------------------

    @property
    def num_deployments(self) -> int:
        """Executors plus the gateway, as Jina counts a built Flow's deployments."""
        return len(self._executors) + 1

    @property
    def gateway_args(self) -> SimpleNamespace:
        """The gateway's settings: protocol(s), port(s), host and the options given to it."""
        ports = self.ports
        return SimpleNamespace(
            protocol=list(self.protocols),
            port=[ports[p] for p in self.protocols],
            host=self.host,
            prefetch=self.prefetch,
            timeout_send=self.timeout_send,
            compression=self.compression,
            ssl_certfile=self.ssl_certfile,
            ssl_keyfile=self.ssl_keyfile,
            **{k: v for k, v in self.options.items() if k in BRIDGE_OPTIONS},
        )

    @property
    def address_private(self) -> str:
        """This machine's address on its local network (found locally: no packet leaves the machine)."""
        return private_address()

    def plot(self, output: str | os.PathLike | None = None, vertical_layout: bool = False, **_jina: Any) -> Flow:
        """Draw the Flow (executors, replicas, shards, needs) into `output` (.svg or .png), locally."""
        from jina.flow.plot import PlotNode, write_plot

        nodes = [
            PlotNode(
                name=e.name,
                needs=tuple(e.needs),
                replicas=e.replicas,
                shards=e.shards,
                external=e.external,
                uses=e.uses if isinstance(e.uses, str) else getattr(e.uses, "__name__", ""),
            )
            for e in self._executors
        ]
        write_plot(nodes, output or "flow.svg", vertical=vertical_layout)
        return self

    def __repr__(self) -> str:
        state = "running" if self._services else "stopped"
        return f"<Flow {'+'.join(self.protocols)} ports={self._ports} executors={self.executor_names} {state}>"
