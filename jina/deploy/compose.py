"""The Docker Compose renderer: one file that Compose runs and Swarm deploys unchanged, and Compose's override.

Rules:

* one Compose service per Flow service, all on the same image, each running its entry point
  (`jina executor|gateway|bridge ...`); replicas are `deploy.replicas`, and every service is
  `endpoint_mode: dnsrr`, so its name resolves to each replica (the gateway balances over them)
  and nothing needs Swarm's IPVS load balancer;
* only the public ports are published, in host mode (Swarm publishes on every interface; it
  cannot bind one address), on the Flow's port unless `JINA_<SERVICE>_PORT` (JINA_GATEWAY_PORT,
  JINA_BRIDGE_PORT) says another; executors' code is the context directory, bind-mounted read-only at
  /flow; TLS files are Compose secrets;
* the main file keeps to what `docker stack deploy` accepts: `depends_on` is a list there;
* the override, which `docker compose` reads next to the main file (Swarm does not), publishes
  on 127.0.0.1 (`JINA_PUBLISH_HOST` to change it) and starts each service once what it needs is
  healthy (`condition: service_healthy`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from jina.deploy.containers import ContainerPlacement, container_port, ping_target
from jina.deploy.context import ExportContext
from jina.flow.spec import BRIDGE, EXECUTOR, GATEWAY, FlowSpec, Service, command
from jina.serve import access
from jina.version import __version__

#: health probes: quick enough for start-up ordering, cheap enough to run all the time
HEALTHCHECK = {"interval": "3s", "timeout": "5s", "retries": 3, "start_period": "60s"}
SECRETS = {"tls_cert": "/run/secrets/tls_cert", "tls_key": "/run/secrets/tls_key"}
PUBLISH_HOST = "${JINA_PUBLISH_HOST:-127.0.0.1}"
#: Compose fills the access token in from its own environment, and refuses to start without it
ACCESS_TOKEN_FROM_ENV = "${JINA_MESH_ACCESS_TOKEN:?set JINA_MESH_ACCESS_TOKEN to the Flow's access token}"


@dataclass(frozen=True)
class Build:
    """A `build:` section, so `docker compose up` builds the image (paths relative to the output file)."""

    context: str
    dockerfile: str | None = None

    def to_dict(self) -> dict[str, str]:
        return {"context": self.context, **({"dockerfile": self.dockerfile} if self.dockerfile else {})}


@dataclass
class ComposeFiles:
    main: dict[str, Any]
    override: dict[str, Any]


class _Override(list):
    """A list Compose must take instead of merging it (`!override`)."""


class _Inline(list):
    """A short list written on one line (command lines, health tests)."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Override, lambda dumper, data: dumper.represent_sequence("!override", list(data)))
_Dumper.add_representer(
    _Inline, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", list(data), flow_style=True)
)


def _relative(path: Path, out_dir: Path) -> str:
    relative = os.path.relpath(path.resolve(), out_dir.resolve())
    return relative if relative.startswith(".") else f"./{relative}"


def _published(name: str, number: int) -> str:
    """The host port: the Flow's, or `JINA_<SERVICE>_PORT` from the environment (e.g. JINA_GATEWAY_PORT)."""
    return f"${{JINA_{name.upper().replace('-', '_')}_PORT:-{number}}}"


def _healthcheck(service: Service) -> dict[str, Any]:
    test = ["CMD", "jina", "ping", "--timeout", "2", ping_target(service)]
    if service.health.tls:
        test.append("--insecure")  # a liveness check of its own loopback port, not of its identity
    return {"test": _Inline(test), **HEALTHCHECK}


def render(
    spec: FlowSpec,
    context: ExportContext,
    *,
    out_dir: Path,
    build: Build | None = None,
    network: str | None = None,
    include_gateway: bool = True,
) -> ComposeFiles:
    place = ContainerPlacement(spec, context, SECRETS)
    services = [s for s in spec.services if include_gateway or s.role == EXECUTOR]
    included = {s.name for s in services}
    main: dict[str, dict[str, Any]] = {}
    override: dict[str, dict[str, Any]] = {}
    uses_secrets = False
    for service in services:
        name = place.names[service.name]
        entry: dict[str, Any] = {"image": context.image}
        if build is not None:
            entry["build"] = build.to_dict()
        entry["command"] = _Inline(command(spec, service, place))
        env = dict(service.env)
        if spec.transport.access_token and service.role in (GATEWAY, BRIDGE):
            # the token is read from the environment of `docker compose up`, never written here
            env[access.ENV_VARIABLE] = ACCESS_TOKEN_FROM_ENV
        roots = context.python_path.get(service.name)
        if roots:
            env["PYTHONPATH"] = ":".join(roots)
        if env:
            entry["environment"] = env
        if context.code == "mount" and context.used_by.get(service.name):
            entry["volumes"] = [
                {"type": "bind", "source": _relative(context.directory, out_dir), "target": "/flow", "read_only": True}
            ]
        if service.file("tls_cert"):
            entry["secrets"] = list(SECRETS)
            uses_secrets = True
        ports = [(container_port(service, p), _published(name, p.number or container_port(service, p)))
                 for p in service.public_ports]  # fmt: skip
        if ports:
            entry["ports"] = [
                {"target": target, "published": published, "protocol": "tcp", "mode": "host"}
                for target, published in ports
            ]
            override.setdefault(name, {})["ports"] = _Override(
                {"target": target, "published": published, "host_ip": PUBLISH_HOST} for target, published in ports
            )
        needs = [place.names[n] for n in service.needs if n in included]
        if needs:
            entry["depends_on"] = needs
            override.setdefault(name, {})["depends_on"] = {n: {"condition": "service_healthy"} for n in needs}
        entry["healthcheck"] = _healthcheck(service)
        entry["restart"] = "unless-stopped"
        entry["deploy"] = {"replicas": service.replicas, "endpoint_mode": "dnsrr"}
        main[name] = entry
    document: dict[str, Any] = {"services": main}
    if network:
        document["networks"] = {"default": {"name": network}}
    if uses_secrets:
        cert, key = spec.transport.ssl_certfile, spec.transport.ssl_keyfile
        document["secrets"] = {
            "tls_cert": {"file": _relative(Path(str(cert)), out_dir)},
            "tls_key": {"file": _relative(Path(str(key)), out_dir)},
        }
    return ComposeFiles(main=document, override={"services": override})


def override_path(main: Path) -> Path:
    """Where Compose looks for the override of `main`: docker-compose.yml → docker-compose.override.yml."""
    suffix = main.suffix or ".yml"
    return main.with_name(f"{main.stem if main.suffix else main.name}.override{suffix}")


def dump(files: ComposeFiles, main: Path, source: str) -> tuple[str, str]:
    """(main text, override text), each with a header saying what it is and how to run it."""
    header = (
        f"# The Flow {source} as Docker Compose services, written by `jina export docker-compose` "
        f"(jina-mesh {__version__}).\n"
        f"#   docker compose up                       Compose; it also reads {override_path(main).name}\n"
        f"#   docker stack deploy -c {main.name} NAME    Swarm: the same file, ports on every interface\n"
    )
    override_header = (
        f"# Read by `docker compose` together with {main.name} (not by `docker stack deploy`): public ports on\n"
        "# 127.0.0.1 (JINA_PUBLISH_HOST=0.0.0.0 to open them) and each service started once what it needs is healthy.\n"
    )
    body = yaml.dump(files.main, Dumper=_Dumper, sort_keys=False, width=4096)
    override = yaml.dump(files.override, Dumper=_Dumper, sort_keys=False, width=4096)
    return header + body, override_header + override
