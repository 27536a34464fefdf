"""Placement in containers (Compose, Swarm, Kubernetes): one container per replica, one DNS name per service.

Rules:

* every service gets a DNS-safe name (RFC 1123 label: lower-case letters, digits, '-', starting
  with a letter, at most 63 characters) derived from its Flow name; two that collide are an error;
* each container listens on 0.0.0.0; executors on 8080, the gateway's internal port on 8081
  (8082 when its public port is 8081), public ports on the number the Flow gave them (8080 when
  it gave none);
* peers dial the service's name, which resolves to every replica (the gateway balances over
  them and re-resolves); there is one command line per service, shared by its replicas.
"""

from __future__ import annotations

import re

from jina.deploy.context import ExportContext, ExportError
from jina.flow.spec import GATEWAY, ExecutorConfig, FileRef, FlowSpec, Port, Service

SERVICE_PORT = 8080
INTERNAL_PORT = 8081
_NOT_DNS = re.compile(r"[^a-z0-9-]+")


def dns_name(name: str) -> str:
    label = _NOT_DNS.sub("-", name.lower()).strip("-")
    if not label or not label[0].isalpha():
        label = f"x-{label}".rstrip("-")
    return label[:63].rstrip("-")


def service_names(spec: FlowSpec) -> dict[str, str]:
    """Flow name → DNS name of every service; a collision is an ExportError naming both."""
    names: dict[str, str] = {}
    taken: dict[str, str] = {}
    for service in spec.services:
        label = dns_name(service.name)
        if label in taken:
            raise ExportError(
                f"executors {taken[label]!r} and {service.name!r} would both be called {label!r} in containers "
                "(names are lower-cased, other characters become '-'); rename one"
            )
        taken[label] = service.name
        names[service.name] = label
    return names


def container_port(service: Service, port: Port) -> int:
    if port.number:
        return port.number
    if service.role == GATEWAY and port.name == "internal":
        public = service.port("grpc").number if service.has_port("grpc") else None
        return INTERNAL_PORT + 1 if public == INTERNAL_PORT else INTERNAL_PORT
    return SERVICE_PORT


class ContainerPlacement:
    """Listen on 0.0.0.0 at fixed ports; reach a service by its DNS name."""

    per_replica = False

    def __init__(self, spec: FlowSpec, context: ExportContext, tls_paths: dict[str, str]):
        self.names = service_names(spec)
        self.context = context
        self._tls_paths = tls_paths

    def bind(self, service: Service, port: Port, replica: int) -> tuple[str, int]:
        return "0.0.0.0", container_port(service, port)

    def reach(self, service: Service, port: str) -> tuple[str, ...]:
        return (f"{self.names[service.name]}:{container_port(service, service.port(port))}",)

    def file(self, ref: FileRef) -> str:
        if ref.kind == "workspace":
            return ref.path  # a directory inside the container (mount a volume there to keep it)
        if ref.kind in self._tls_paths:
            return self._tls_paths[ref.kind]
        return self.context.code_file(ref)

    def uses(self, executor: ExecutorConfig) -> str | None:
        # checked here, with the executor's name for the messages, before its command line maps them
        for module in executor.py_modules:
            if module.endswith(".py"):
                self.context.code_file(FileRef(module, "code"), executor.name)
        self.context.modules(executor)
        return self.context.uses(executor)

    def log_level(self) -> str | None:
        return None  # the image's JINA_LOG_LEVEL


def health_port(service: Service) -> int:
    return container_port(service, service.port(service.health.port))


def ping_target(service: Service) -> str:
    """What `jina ping` checks inside the service's own container."""
    port = health_port(service)
    if service.health.kind == "http":
        return f"{'https' if service.health.tls else 'http'}://127.0.0.1:{port}/"
    return f"127.0.0.1:{port}"


__all__ = ["ContainerPlacement", "ExportError", "container_port", "dns_name", "ping_target", "service_names"]
