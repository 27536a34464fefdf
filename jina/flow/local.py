"""The local renderer: a Flow's services as child processes of this one, on free loopback ports."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from jina import logs
from jina.flow import launcher
from jina.flow.ports import free_port
from jina.flow.spec import BRIDGE, EXECUTOR, GATEWAY, ExecutorConfig, FileRef, FlowSpec, Port, Service, command
from jina.serve import access


class LocalPlacement:
    """Public ports on the Flow's host, everything else on 127.0.0.1; one process per replica."""

    per_replica = True

    def __init__(self, host: str, workdir: Path):
        self.host = host
        self.workdir = workdir
        self._ports: dict[tuple[str, str, int], int] = {}

    def bind(self, service: Service, port: Port, replica: int) -> tuple[str, int]:
        key = (service.name, port.name, replica)
        if key not in self._ports:
            self._ports[key] = port.number or free_port()
        return (self.host if port.public else "127.0.0.1"), self._ports[key]

    def reach(self, service: Service, port: str) -> tuple[str, ...]:
        chosen = service.port(port)
        return tuple(f"127.0.0.1:{self.bind(service, chosen, r)[1]}" for r in range(service.replicas))

    def file(self, ref: FileRef) -> str:
        return ref.path

    def uses(self, executor: ExecutorConfig) -> str | None:
        """As given, by import path, or (a class of the user's script) pickled by value."""
        uses = executor.uses
        if uses is None or isinstance(uses, str):
            return uses
        if uses.__module__ != "__main__" and "<locals>" not in uses.__qualname__:
            return f"{uses.__module__}:{uses.__qualname__}"
        import cloudpickle

        path = self.workdir / f"{executor.name}.pickle"
        with path.open("wb") as handle:
            cloudpickle.dump(uses, handle)
        return f"pickle:{path}"

    def log_level(self) -> str | None:
        return logs.level_from_env("WARNING")


@dataclass
class Processes:
    services: list[launcher.ServiceProcess]
    #: the gateway's plaintext loopback port (the Flow's own client and the bridge use it)
    gateway_port: int


def _process_names(service: Service) -> list[str]:
    """Jina's names: `name`, `name/rep-0`, `name/shard-0`, `name/shard-0/rep-0`."""
    if service.role != EXECUTOR or service.executor is None:
        return [service.name]
    base = service.executor.name
    if service.shard_id is not None:
        base = f"{base}/shard-{service.shard_id}"
    if service.replicas == 1:
        return [base]
    return [f"{base}/rep-{i}" for i in range(service.replicas)]


def _ready_port(service: Service, place: LocalPlacement, replica: int) -> int:
    """The port a process reports ready on: its public one when it has one."""
    port = service.public_ports[0] if service.public_ports else service.ports[0]
    return place.bind(service, port, replica)[1]


def _token_env(spec: FlowSpec, service: Service) -> dict[str, str]:
    """The access token reaches the gateway and the bridge in their environment (never their command
    line); every other process gets it empty, whatever this process's environment holds."""
    token = spec.transport.access_token if service.role in (GATEWAY, BRIDGE) else None
    return {access.ENV_VARIABLE: token or ""}


def render(spec: FlowSpec, host: str, workdir: Path) -> Processes:
    """Every process of the Flow, not started yet."""
    place = LocalPlacement(host, workdir)
    processes: list[launcher.ServiceProcess] = []
    for service in spec.services:
        env = launcher.child_env({**service.env, **_token_env(spec, service)})
        for replica, name in enumerate(_process_names(service)):
            argv = launcher.python_argv(*command(spec, service, place, replica))
            processes.append(launcher.ServiceProcess(name, argv, env, _ready_port(service, place, replica)))
    gateway = spec.gateway
    return Processes(processes, place.bind(gateway, gateway.port("internal"), 0)[1])


__all__ = ["GATEWAY", "LocalPlacement", "Processes", "render"]
