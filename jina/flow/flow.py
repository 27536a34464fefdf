"""Flow: a chain of Executors behind a gateway, started as separate processes and stopped together."""

from __future__ import annotations

import difflib
import json
import logging
import signal
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jina import logs
from jina.clients.hosts import normalize_protocol
from jina.excepts import BadConfig
from jina.executor import Executor
from jina.flow import launcher
from jina.flow.ports import free_port, port_is_free

_logger = logging.getLogger("jina.flow")

# Flow options this version acts on, and those it accepts for the HTTP bridge (a later issue).
_OPTIONS = {"protocol", "port", "host", "prefetch", "timeout_send", "timeout_ready", "name", "debug"}
_BRIDGE_OPTIONS = {
    "cors",
    "expose_endpoints",
    "no_debug_endpoints",
    "no_crud_endpoints",
    "uvicorn_kwargs",
    "expose_graphql_endpoint",
    "title",
    "description",
    "compression",
    "ssl_certfile",
    "ssl_keyfile",
}
_ADD_OPTIONS = {"uses", "name", "uses_with", "host", "port"}

#: seconds in-flight requests get to finish when a Flow stops
STOP_GRACE = 5.0


def _check_options(given: dict[str, Any], known: set[str], what: str) -> None:
    for key in given:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=3)
            hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
            raise BadConfig(f"{what} got an unknown option {key!r}{hint}")


@dataclass
class _ExecutorConfig:
    name: str
    uses: Any = None
    uses_with: dict[str, Any] = field(default_factory=dict)


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
        _check_options(kwargs, _OPTIONS | _BRIDGE_OPTIONS, "Flow()")
        protocols = protocol if isinstance(protocol, (list, tuple)) else [protocol]
        self.protocols = [normalize_protocol(p) for p in protocols]
        if self.protocols != ["grpc"]:
            raise BadConfig(
                f"protocol {protocol!r}: HTTP and WebSocket need the bridge, which this version does not ship yet"
            )
        if port is not None and not (isinstance(port, int) and 0 < port < 65536):
            raise BadConfig(f"port {port!r} is not a TCP port number")
        if not isinstance(prefetch, int) or prefetch < 0:
            raise BadConfig(f"prefetch must be an integer >= 0 (0 = no limit), got {prefetch!r}")
        self._port = port
        self.host = host
        self.prefetch = prefetch
        self.timeout_send = timeout_send
        self.timeout_ready = timeout_ready
        self.debug = bool(kwargs.pop("debug", False))
        self.options = kwargs
        self._executors: list[_ExecutorConfig] = []
        self._services: list[launcher.ServiceProcess] = []
        self._workdir: tempfile.TemporaryDirectory | None = None
        self._client = None
        self._lock = threading.Lock()

    # -- building ---------------------------------------------------------------------------

    def add(
        self, uses: Any = None, name: str | None = None, uses_with: dict[str, Any] | None = None, **kwargs: Any
    ) -> Flow:
        """Append an Executor: a class, a 'module.Class' path, or nothing (a pass-through Executor)."""
        _check_options(kwargs, _ADD_OPTIONS, "Flow.add()")
        if self._services:
            raise BadConfig("cannot add an Executor to a running Flow")
        if uses is not None and not isinstance(uses, str):
            if not (isinstance(uses, type) and issubclass(uses, Executor)):
                raise BadConfig(f"uses={uses!r} is not an Executor subclass (nor a 'module.Class' string)")
        if uses_with is not None and not isinstance(uses_with, dict):
            raise BadConfig(f"uses_with must be a dict, got {type(uses_with).__name__}")
        name = name or f"executor{len(self._executors)}"
        if any(e.name == name for e in self._executors) or name == "gateway":
            raise BadConfig(f"an Executor named {name!r} is already in this Flow")
        self._executors.append(_ExecutorConfig(name=name, uses=uses, uses_with=dict(uses_with or {})))
        return self

    @property
    def port(self) -> int:
        """The gateway's port (a free one is chosen on first access when none was given)."""
        if self._port is None:
            self._port = free_port()
        return self._port

    @property
    def protocol(self) -> str:
        return self.protocols[0]

    @property
    def executor_names(self) -> list[str]:
        return [e.name for e in self._executors]

    # -- running ----------------------------------------------------------------------------

    def _uses_argument(self, executor: _ExecutorConfig) -> str | None:
        uses = executor.uses
        if uses is None or isinstance(uses, str):
            return uses
        if uses.__module__ != "__main__" and "<locals>" not in uses.__qualname__:
            return f"{uses.__module__}:{uses.__qualname__}"
        # Defined in the user's script (or a function): hand the class over by value.
        import cloudpickle

        assert self._workdir is not None
        path = Path(self._workdir.name) / f"{executor.name}.pickle"
        with path.open("wb") as handle:
            cloudpickle.dump(uses, handle)
        return f"pickle:{path}"

    def _log_level(self) -> str:
        return logs.level_from_env("WARNING")

    def _plan(self) -> list[launcher.ServiceProcess]:
        env = launcher.child_env()
        common = {"log_level": self._log_level(), "grace": STOP_GRACE}
        services = []
        addresses = []
        for executor in self._executors:
            port = free_port()
            flags = launcher.flags(
                name=executor.name,
                host="127.0.0.1",
                port=port,
                uses=self._uses_argument(executor),
                uses_with=json.dumps(executor.uses_with) if executor.uses_with else None,
                debug=self.debug,
                **common,
            )
            services.append(launcher.ServiceProcess(executor.name, launcher.python_argv("executor", *flags), env, port))
            addresses.append(f"{executor.name}=127.0.0.1:{port}")
        flags = launcher.flags(
            name="gateway",
            host=self.host,
            port=self.port,
            prefetch=self.prefetch,
            timeout_send=self.timeout_send or None,
            **common,
        )
        if addresses:
            flags += ["--executors", *addresses]
        services.append(launcher.ServiceProcess("gateway", launcher.python_argv("gateway", *flags), env, self.port))
        return services

    def start(self) -> Flow:
        with self._lock:
            if self._services:
                return self
            logs.configure("flow", logs.level_from_env("INFO"))
            if self._port is not None and not port_is_free(self._port, self.host):
                raise BadConfig(f"port {self._port} is already in use; choose another Flow(port=...)")
            self._workdir = tempfile.TemporaryDirectory(prefix="jina-flow-")
            try:
                self._services = self._plan()
                for service in self._services:
                    service.start()
                launcher.wait_ready(self._services, self.timeout_ready)
            except BaseException:
                self._stop_services()
                raise
        _logger.info("Flow is ready to serve: %s on %s:%d", "+".join(self.protocols), self.host, self.port)
        return self

    def _stop_services(self) -> None:
        gateway = [s for s in self._services if s.name == "gateway"]
        executors = [s for s in self._services if s.name != "gateway"]
        # the gateway first: it finishes what it is routing while the executors still serve
        launcher.stop_all(gateway, STOP_GRACE)
        launcher.stop_all(executors, STOP_GRACE)
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

    def __enter__(self) -> Flow:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def addresses(self) -> dict[str, str]:
        """name → host:port of every running process (executors listen on 127.0.0.1)."""
        return {s.name: f"{'127.0.0.1' if s.name != 'gateway' else self.host}:{s.port}" for s in self._services}

    @property
    def pids(self) -> dict[str, int]:
        return {s.name: s.pid for s in self._services if s.pid is not None}

    def block(self, stop_event: threading.Event | None = None) -> None:
        """Serve until Ctrl-C, SIGTERM, or `stop_event` is set."""
        event = stop_event or threading.Event()
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, lambda *_: event.set())
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
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    # -- talking to it ----------------------------------------------------------------------

    def _get_client(self):
        if self._client is None:
            from jina.clients import Client

            host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
            self._client = Client(host=host, port=self.port, protocol="grpc", prefetch=self.prefetch or None)
        return self._client

    def post(self, on: str = "/", inputs: Any = None, **kwargs: Any):
        """Client.post() against this Flow's gateway."""
        if not self._services:
            raise BadConfig("the Flow is not running: use `with f:` or f.start() before f.post()")
        return self._get_client().post(on, inputs, **kwargs)

    def __repr__(self) -> str:
        state = "running" if self._services else "stopped"
        return f"<Flow {'+'.join(self.protocols)} port={self._port} executors={self.executor_names} {state}>"
