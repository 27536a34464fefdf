"""Deployment: one Executor served on its own, as Jina 3 has it (and what `Executor.serve()` runs).

    with Deployment(uses=MyExecutor, port=12345, replicas=2) as dep:
        dep.post('/', inputs)

A Deployment is a Flow of one Executor: the same gateway answers on `port`, so a `Client` talks to
it exactly as to a Flow (gRPC, HTTP or WebSocket), and its replicas and shards are balanced and
polled by that gateway. Jina's `include_gateway=False` (the executor alone on the port, gRPC only)
is the one form not offered: every Deployment here has its gateway, which clients cannot tell apart.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import yaml

from jina.excepts import BadConfig
from jina.flow.flow import Flow
from jina.flow.options import ADD_OPTIONS, ALL_FLOW_OPTIONS, IGNORED_ADD_OPTIONS, check_names, coerce_bool
from jina.yamlfile import parse_text, read_source

#: executor options a Deployment takes beside the Flow's (host and port are the Deployment's own)
_EXECUTOR_OPTIONS = (ADD_OPTIONS - {"host", "port", "needs", "external", "tls", "when"}) | IGNORED_ADD_OPTIONS
_DEFAULT_NAME = "executor"


class Deployment:
    """One Executor (with its replicas and shards) behind its own gateway on `port`."""

    def __init__(self, uses: Any = None, **kwargs: Any):
        include_gateway = coerce_bool("include_gateway", kwargs.pop("include_gateway", True), "Deployment: ")
        if not include_gateway:
            raise BadConfig(
                "Deployment(include_gateway=False) is not offered: every Deployment has its gateway, which "
                "clients cannot tell apart from a bare executor; leave include_gateway out"
            )
        kwargs = check_names(kwargs, _EXECUTOR_OPTIONS | ALL_FLOW_OPTIONS, "Deployment()")
        executor = {k: kwargs.pop(k) for k in list(kwargs) if k in _EXECUTOR_OPTIONS}
        executor.setdefault("name", _DEFAULT_NAME)
        self.flow = Flow(**kwargs).add(uses=uses, **executor)
        self._given = {"uses": uses, **executor, **kwargs}

    # -- YAML -----------------------------------------------------------------------------------

    @classmethod
    def load_config(cls, source: str | os.PathLike) -> Deployment:
        """A Deployment from YAML: `jtype: Deployment` and its options under `with:`."""
        text, origin, _base = read_source(source)
        data, located = parse_text(text, origin)
        if not isinstance(data, dict) or data.get("jtype") != "Deployment":
            raise BadConfig(f"{located.where('jtype')}a Deployment YAML is a mapping with `jtype: Deployment`")
        unknown = set(data) - {"jtype", "version", "with"}
        if unknown:
            key = sorted(unknown)[0]
            raise BadConfig(f"{located.where(key)}unknown key {key!r}; a Deployment YAML has jtype, version and with")
        options = dict(data.get("with") or {})
        if isinstance(options.get("protocol"), list) and len(options["protocol"]) == 1:
            options["protocol"] = options["protocol"][0]  # as Jina writes it
        if isinstance(options.get("protocol"), str):
            options["protocol"] = options["protocol"].lower()
        if isinstance(options.get("port"), list) and len(options["port"]) == 1:
            options["port"] = options["port"][0]
        try:
            return cls(**options)
        except BadConfig as exc:
            raise BadConfig(f"{origin}: {exc}") from None

    def save_config(self, path: str | os.PathLike) -> None:
        """Write this Deployment as YAML that `load_config` (and Jina's) reads back."""
        options: dict[str, Any] = {}
        for key, value in self._given.items():
            if value is None or key in IGNORED_ADD_OPTIONS:
                continue
            if isinstance(value, type):
                if value.__module__ == "__main__" or "<locals>" in value.__qualname__:
                    value = value.__name__  # resolved through the registry of Executor classes on load
                else:
                    value = f"{value.__module__}.{value.__qualname__}"
            options[key] = value
        Path(path).write_text(yaml.safe_dump({"jtype": "Deployment", "with": options}, sort_keys=False))

    # -- running --------------------------------------------------------------------------------

    def start(self) -> Deployment:
        self.flow.start()
        return self

    def close(self) -> None:
        self.flow.close()

    def __enter__(self) -> Deployment:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def block(self, stop_event: threading.Event | None = None) -> None:
        """Serve until Ctrl-C, SIGTERM, or `stop_event` is set."""
        self.flow.block(stop_event)

    def post(self, on: str = "/", inputs: Any = None, **kwargs: Any):
        return self.flow.post(on, inputs, **kwargs)

    def to_docker_compose_yaml(self, output_path: str | None = None, **options: Any):
        return self.flow.to_docker_compose_yaml(output_path, **options)

    def to_kubernetes_yaml(self, output_base_path: str, **options: Any):
        return self.flow.to_kubernetes_yaml(output_base_path, **options)

    # -- what it is -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self.flow.port

    @property
    def protocol(self) -> str:
        return self.flow.protocol

    @property
    def host(self) -> str:
        return self.flow.host

    @property
    def name(self) -> str:
        return self.flow.executors[0].name

    def __getattr__(self, name: str) -> Any:
        # the rest of the Flow's surface: index/search/..., is_flow_ready, addresses, pids...
        if name.startswith("_") or name == "flow":
            raise AttributeError(name)
        return getattr(self.flow, name)

    def __repr__(self) -> str:
        return f"<Deployment {self.name} {self.flow!r}>"


__all__ = ["Deployment"]
