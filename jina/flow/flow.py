"""Flow: a chain of Executors behind a gateway, started as separate processes and stopped together."""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
from pathlib import Path
from typing import Any

from jina import logs
from jina.clients.hosts import normalize_protocol
from jina.excepts import BadConfig
from jina.executor import Executor
from jina.flow import launcher, local, yaml_config
from jina.flow.options import ADD_OPTIONS, BRIDGE_OPTIONS, check_names, normalize_flow_options
from jina.flow.ports import free_port
from jina.flow.spec import STOP_GRACE, ExecutorConfig, FlowSpec, Transport, build_spec, check_topology
from jina.serve.net import port_is_free
from jina.serve.tls import check_tls_pair

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
        timeout_ready: float = 600.0,
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
        self.timeout_ready = timeout_ready
        self.debug = bool(kwargs.pop("debug", False))
        self.compression: str = kwargs.pop("compression", None) or "none"
        self.ssl_certfile: str | None = kwargs.pop("ssl_certfile", None)
        self.ssl_keyfile: str | None = kwargs.pop("ssl_keyfile", None)
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
        """Write this Flow as YAML that `load_config` reads back."""
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
        """Add an Executor: a class, 'module.Class', 'Class' (with `py_modules`), an Executor YAML file,
        or nothing (a pass-through Executor). `needs` names what it waits for (default: the Executor
        added before it; several make a join); `replicas` runs that many processes of it."""
        kwargs = check_names(kwargs, ADD_OPTIONS, "Flow.add()")
        if self._services:
            raise BadConfig("cannot add an Executor to a running Flow")
        if uses is not None and not isinstance(uses, str):
            if not (isinstance(uses, type) and issubclass(uses, Executor)):
                raise BadConfig(f"uses={uses!r} is not an Executor subclass (nor a 'module.Class' string)")
        if uses_with is not None and not isinstance(uses_with, dict):
            raise BadConfig(f"uses_with must be a dict, got {type(uses_with).__name__}")
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
            raise BadConfig(f"replicas must be a positive integer, got {replicas!r}")
        if env is not None and not isinstance(env, dict):
            raise BadConfig(f"env must be a mapping of environment variables, got {type(env).__name__}")
        name = name or f"executor{len(self._executors)}"
        if any(e.name == name for e in self._executors) or name == "gateway":
            raise BadConfig(f"an Executor named {name!r} is already in this Flow")
        self._executors.append(
            ExecutorConfig(
                name=name,
                uses=uses,
                uses_with=dict(uses_with or {}),
                needs=tuple([needs] if isinstance(needs, str) else needs or ()),
                replicas=replicas,
                py_modules=tuple([py_modules] if isinstance(py_modules, str) else py_modules or ()),
                env=dict(env or {}),
                uses_metas=dict(kwargs.get("uses_metas") or {}),
            )
        )
        return self

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
        bridge_options = {
            k: v
            for k, v in self.options.items()
            if k in BRIDGE_OPTIONS and v is not None and k != "expose_graphql_endpoint"
        }
        return build_spec(
            executors=self._executors,
            protocols=self.protocols,
            ports=self.ports if ports is None else ports,
            prefetch=self.prefetch,
            timeout_send=self.timeout_send,
            bridge_options=bridge_options,
            debug=self.debug,
            transport=Transport(
                compression=self.compression,
                ssl_certfile=self.ssl_certfile,
                ssl_keyfile=self.ssl_keyfile,
                max_message_bytes=self.max_message_bytes,
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
            check_topology(self._executors)
            check_tls_pair(self.ssl_certfile, self.ssl_keyfile)
            self._workdir = tempfile.TemporaryDirectory(prefix="jina-flow-")
            try:
                processes = local.render(self.spec(), self.host, Path(self._workdir.name))
                self._services = processes.services
                self._gateway_port = processes.gateway_port
                for service in self._services:
                    service.start()
                launcher.wait_ready(self._services, self.timeout_ready)
            except BaseException:
                self._stop_services()
                raise
        self._take_sigterm()
        where = ", ".join(f"{p} on {self.host}:{port}" for p, port in self.ports.items())
        _logger.info("Flow is ready to serve: %s", where)
        return self

    def _stop_services(self) -> None:
        # front to back: each finishes what it is passing on while the ones behind it still serve
        for front in ("bridge", "gateway"):
            launcher.stop_all([s for s in self._services if s.name == front], STOP_GRACE)
        launcher.stop_all([s for s in self._services if s.name not in ("bridge", "gateway")], STOP_GRACE)
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
        """Serve until Ctrl-C, SIGTERM, or `stop_event` is set."""
        event = stop_event or threading.Event()
        self._blocking = event
        reported: set[str] = set()
        try:
            while not event.wait(0.2):
                for service in self._services:
                    if not service.alive() and service.name not in reported:
                        reported.add(service.name)
                        _logger.error("%s exited unexpectedly (code %s)", service.name, service.process.returncode)
        except KeyboardInterrupt:
            pass
        finally:
            self._blocking = None

    # -- talking to it ----------------------------------------------------------------------

    def _get_client(self):
        if self._client is None:
            from jina.clients import Client

            # the gateway's plaintext loopback port (its public one may speak TLS)
            host = "127.0.0.1"
            self._client = Client(
                host=host, port=self._gateway_port, protocol="grpc", prefetch=self.prefetch or None,
                compression=self.compression, max_message_bytes=self.max_message_bytes,
            )  # fmt: skip
        return self._client

    def post(self, on: str = "/", inputs: Any = None, **kwargs: Any):
        """Client.post() against this Flow's gateway."""
        if not self._services:
            raise BadConfig("the Flow is not running: use `with f:` or f.start() before f.post()")
        return self._get_client().post(on, inputs, **kwargs)

    def __repr__(self) -> str:
        state = "running" if self._services else "stopped"
        return f"<Flow {'+'.join(self.protocols)} ports={self._ports} executors={self.executor_names} {state}>"
