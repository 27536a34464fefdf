"""Writing a Flow for container engines: `Flow.to_docker_compose_yaml` / `to_kubernetes_yaml`, `jina export`.

Everything is rendered and checked in memory first; files are written only when the whole
export succeeded, so a refused Flow leaves nothing behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from jina.deploy import compose
from jina.deploy.context import DEFAULT_IMAGE, ExportContext, context_for
from jina.excepts import BadConfig
from jina.flow.spec import FlowSpec
from jina.serve.tls import check_tls_pair

if TYPE_CHECKING:
    from jina.flow.flow import Flow


def flow_spec(flow: Flow) -> FlowSpec:
    """The Flow's services with only the ports it fixed (containers choose the others)."""
    check_tls_pair(flow.ssl_certfile, flow.ssl_keyfile)
    if flow.ssl_ca_certs:
        # the engines' health probes of the bridge would need a client certificate of their own
        raise BadConfig(
            "ssl_ca_certs (mutual TLS) is not exported yet: require client certificates at your ingress "
            "or load balancer, or use access_token"
        )
    return flow.spec(ports=flow.declared_ports)


def source_name(flow: Flow, out_dir: Path) -> str:
    """The Flow's YAML file as seen from where the export is written (for the files' headers)."""
    source = flow.config_source
    if not source or source == "<yaml string>":
        return "defined in Python"
    path = Path(source).resolve()
    relative = os.path.relpath(path, out_dir.resolve())
    return str(path) if relative.startswith(f"..{os.sep}..") else relative


def to_docker_compose_yaml(
    flow: Flow,
    output_path: str | os.PathLike | None = None,
    network_name: str | None = None,
    include_gateway: bool = True,
    *,
    context: str | os.PathLike | None = None,
    image: str = DEFAULT_IMAGE,
    code: str = "mount",
    build_context: str | None = None,
    dockerfile: str | None = None,
) -> list[Path]:
    """Write the Compose file (and its override, see `jina.deploy.compose`); returns the paths written."""
    main = Path(output_path or "docker-compose.yml")
    out_dir = main.resolve().parent
    export = ExportContext(context_for(flow, context), image=image, code=code)
    build = compose.Build(build_context, dockerfile) if build_context else None
    files = compose.render(
        flow_spec(flow), export, out_dir=out_dir, build=build, network=network_name, include_gateway=include_gateway
    )
    main_text, override_text = compose.dump(files, main, source_name(flow, out_dir))
    out_dir.mkdir(parents=True, exist_ok=True)
    override = compose.override_path(main)
    main.write_text(main_text)
    override.write_text(override_text)
    return [main, override]


def _write_private(path: Path, text: str) -> None:
    """Created 0600 (never readable by others, not even for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode otherwise
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def to_kubernetes_yaml(
    flow: Flow,
    output_base_path: str | os.PathLike,
    k8s_namespace: str | None = None,
    include_gateway: bool = True,
    *,
    context: str | os.PathLike | None = None,
    image: str = DEFAULT_IMAGE,
    code: str = "mount",
    tls_secret: str | None = None,
) -> list[Path]:
    """Write one YAML file per object group into `output_base_path`; returns the paths written."""
    from jina.deploy import kubernetes

    export = ExportContext(context_for(flow, context), image=image, code=code)
    documents = kubernetes.render(
        flow_spec(flow),
        export,
        namespace=k8s_namespace or flow.options.get("name"),
        include_gateway=include_gateway,
        tls_secret=tls_secret,
    )
    out_dir = Path(output_base_path)
    texts = {name: kubernetes.dump(objects, source_name(flow, out_dir)) for name, objects in documents.items()}
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in texts.items():
        path = out_dir / name
        if kubernetes.holds_secret(documents[name]):
            _write_private(path, text)  # it carries the TLS private key
        else:
            path.write_text(text)
        written.append(path)
    return written
