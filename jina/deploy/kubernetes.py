"""The Kubernetes renderer: a Flow as plain Kubernetes objects, one file per service, for `kubectl apply -f DIR`.

Rules:

* every exported service (each executor; with the gateway, the gateway and the bridge too) is an
  `apps/v1` Deployment and a `v1` Service of the same DNS-safe name; all run the same image
  (whose ENTRYPOINT is `jina`) with the service's command line as `args`; a Deployment's
  replicas are the service's;
* an executor's Service is headless (`clusterIP: None`): its name resolves to every ready pod,
  and the gateway balances each request over them and re-resolves, so scaling needs neither a
  restart nor a service mesh; the gateway's and the bridge's are ClusterIP Services on their
  ports (the gateway's also on its plaintext `internal` port, which the bridge dials);
* probes are the services' own health: grpc.health.v1 for executors (startup, readiness and
  liveness on 8080; the startup probe gives a model 10 minutes to load, like a local Flow's
  `timeout_ready`) and the gateway (readiness on its internal port with the service "", which is
  SERVING only when every executor group answers; liveness on `jina.JinaInfoRPC`, SERVING while
  the process serves, so a gateway whose executors are down leaves the rotation without being
  restarted); the bridge's readiness is `GET /` (HTTPS with TLS), its liveness a TCP connect, as
  its `/` answers 503 while the gateway is not serving;
* the gateway's topology and the bridge's configuration are one ConfigMap mounted at
  /etc/jina/config and read with `@FILE`; with code='mount' the context files an executor uses
  are its own ConfigMap, mounted read-only at /flow with their relative layout (over Kubernetes'
  1 MiB: refused, build an image with the code); TLS certificate and key are a
  `kubernetes.io/tls` Secret mounted at /etc/jina/tls, written from the Flow's files unless an
  existing one is named (`tls_secret`);
* a pod template carries a digest of what it reads from ConfigMaps and the Secret, so applying a
  changed export rolls its pods;
* pods run as uid 10001 without privileges, capabilities or a service account token (what the
  "restricted" Pod Security Standard asks); the gateway's and bridge's root filesystems are
  read-only (an emptyDir at /tmp), an executor's stays writable: its code may write where it
  likes (a workspace); they request 100m CPU and 128Mi of memory and have no limits;
* with a namespace every object is in it and a Namespace object creates it; without one, none
  names a namespace (kubectl's current one is used);
* files are named for `kubectl apply -f DIR`, which applies them in name order: 00-namespace.yml,
  01-config.yml (ConfigMaps), 02-tls.yml (the Secret, mode 0600), then `<service>.yml` (its
  Deployment and Service); service names start with a letter, so they never collide with those.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from jina.deploy.containers import ContainerPlacement, container_port
from jina.deploy.context import FLOW_DIR, ExportContext, ExportError
from jina.flow.spec import BRIDGE, EXECUTOR, GATEWAY, FlowSpec, Service, command
from jina.serve import access
from jina.version import __version__
from jina.wire import JINA_INFO_RPC

CONFIG_DIR = "/etc/jina/config"
TLS_DIR = "/etc/jina/tls"
TLS_PATHS = {"tls_cert": f"{TLS_DIR}/tls.crt", "tls_key": f"{TLS_DIR}/tls.key"}
TOPOLOGY_KEY = "topology.json"
BRIDGE_KEY = "bridge.json"
#: role → (the flag whose JSON moves into the settings ConfigMap, its key there)
_SETTINGS = {GATEWAY: ("--topology", TOPOLOGY_KEY), BRIDGE: ("--config", BRIDGE_KEY)}
#: uid and gid of the image's `jina` user (deploy/Dockerfile)
RUN_AS = 10001
RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}}
#: what Kubernetes accepts in one ConfigMap (its data and binaryData together)
CONFIG_MAP_LIMIT = 1024 * 1024
#: kubectl's client-side apply copies an object into an annotation, and annotations hold 256 KiB
_APPLY_ANNOTATION_LIMIT = 256 * 1024
#: the liveness service of the gateway: not gated by its executors' readiness
GATEWAY_LIVENESS_SERVICE = JINA_INFO_RPC
DIGEST_ANNOTATION = "jina-mesh/config-digest"
MANAGED_BY = "jina-mesh"

NAMESPACE_FILE = "00-namespace.yml"
CONFIG_FILE = "01-config.yml"
TLS_FILE = "02-tls.yml"

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_NOT_KEY = re.compile(r"[^-._a-zA-Z0-9]+")

# probe timings (seconds); executors get a startup probe, as loading a model may take minutes
_STARTUP = {"periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 120}
_READINESS = {"initialDelaySeconds": 2, "periodSeconds": 5, "timeoutSeconds": 2, "failureThreshold": 3}
_LIVENESS = {"initialDelaySeconds": 10, "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 6}


def _check_name(value: str, what: str, pattern: re.Pattern[str], kind: str) -> None:
    if not pattern.match(value):
        suggestion = re.sub(r"[^a-z0-9-]+", "-", value.lower()).strip("-")[:63].rstrip("-")
        hint = f" (such as {suggestion!r})" if suggestion else ""
        raise ExportError(
            f"{what} {value!r} is not a valid Kubernetes name ({kind}: lower-case letters, digits and '-', "
            f"starting and ending with a letter or digit); choose one that is{hint}"
        )


class _Builder:
    """The objects of one export, named and labelled consistently."""

    def __init__(self, spec: FlowSpec, context: ExportContext, namespace: str | None, tls_secret: str | None):
        self.spec = spec
        self.context = context
        self.namespace = namespace
        self.part_of = namespace or MANAGED_BY
        self.config_map = f"{self.part_of}-config"
        self.tls_secret = tls_secret or f"{self.part_of}-tls"
        self.place = ContainerPlacement(spec, context, TLS_PATHS)

    def metadata(self, name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
        meta: dict[str, Any] = {"name": name}
        if self.namespace:
            meta["namespace"] = self.namespace
        meta["labels"] = {
            **(labels or {}),
            "app.kubernetes.io/part-of": self.part_of,
            "app.kubernetes.io/managed-by": MANAGED_BY,
        }
        return meta

    def selector(self, service: Service) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.place.names[service.name], "app.kubernetes.io/part-of": self.part_of}

    def labels(self, service: Service) -> dict[str, str]:
        return {"app.kubernetes.io/name": self.place.names[service.name], "app.kubernetes.io/component": service.role}


# -- what each service reads ------------------------------------------------------------------


def _replace_option(args: list[str], option: str, value: str) -> str | None:
    """Put `value` after `option` in `args`; returns what was there (None: the option is absent)."""
    if option not in args:
        return None
    index = args.index(option) + 1
    previous = args[index]
    args[index] = value
    return previous


def _pretty_json(text: str) -> str:
    return json.dumps(json.loads(text), indent=2) + "\n"


def _config_key(index: int, relative: str) -> str:
    """A ConfigMap key for a context file (keys cannot hold '/'; `items` put the file at its path)."""
    base = _NOT_KEY.sub("_", relative.rsplit("/", 1)[-1])[:200]
    return f"{index:02d}-{base}"


def _code_config_map(build: _Builder, service: Service) -> tuple[dict[str, Any], list[dict[str, str]], str] | None:
    """(ConfigMap, its volume items, digest) of the context files the executor uses; None: it uses none."""
    relatives = sorted(build.context.used_by.get(service.name, ()))
    if build.context.code != "mount" or not relatives:
        return None
    data: dict[str, str] = {}
    binary: dict[str, str] = {}
    items: list[dict[str, str]] = []
    digest = hashlib.sha256()
    size = 0
    for index, relative in enumerate(relatives):
        content = build.context.shipped[relative].read_bytes()
        size += len(content)
        key = _config_key(index, relative)
        try:
            data[key] = content.decode("utf-8")
        except UnicodeDecodeError:
            binary[key] = base64.b64encode(content).decode("ascii")
        items.append({"key": key, "path": relative})
        digest.update(relative.encode() + b"\0" + content + b"\0")
    if size > CONFIG_MAP_LIMIT:
        raise ExportError(
            f"executor {service.name!r}: its code ({len(relatives)} files, {size / 1024 / 1024:.1f} MiB) does not "
            f"fit in a Kubernetes ConfigMap (at most 1 MiB); build an image that holds the context at {FLOW_DIR} "
            "and export with --code image --image IMAGE"
        )
    name = build.place.names[service.name]
    config_map: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": build.metadata(f"{name}-code", build.labels(service)),
    }
    if data:
        config_map["data"] = data
    if binary:
        config_map["binaryData"] = binary
    return config_map, items, digest.hexdigest()


# -- the objects of one service ---------------------------------------------------------------


def _grpc_probe(port: int, timing: dict[str, int], service: str | None = None) -> dict[str, Any]:
    check: dict[str, Any] = {"port": port}
    if service is not None:
        check["service"] = service
    return {"grpc": check, **timing}


def _after_startup(timing: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in timing.items() if k != "initialDelaySeconds"}


def _probes(service: Service) -> dict[str, dict[str, Any]]:
    if service.role == EXECUTOR:
        port = container_port(service, service.port("grpc"))
        return {
            "startupProbe": _grpc_probe(port, _STARTUP),
            # these start once the startup probe succeeded
            "readinessProbe": _grpc_probe(port, _after_startup(_READINESS)),
            "livenessProbe": _grpc_probe(port, _after_startup(_LIVENESS)),
        }
    if service.role == GATEWAY:
        port = container_port(service, service.port("internal"))
        return {
            "readinessProbe": _grpc_probe(port, _READINESS, ""),
            "livenessProbe": _grpc_probe(port, _LIVENESS, GATEWAY_LIVENESS_SERVICE),
        }
    port = container_port(service, service.port(service.health.port))
    scheme = "HTTPS" if service.health.tls else "HTTP"
    return {
        "readinessProbe": {"httpGet": {"path": "/", "port": port, "scheme": scheme}, **_READINESS},
        "livenessProbe": {"tcpSocket": {"port": port}, **_LIVENESS},
    }


#: the Secret (in the Flow's namespace) that holds a Flow's access token under the key `token`; the
#: export never writes the token itself: `kubectl create secret generic jina-access-token --from-literal=token=...`
ACCESS_TOKEN_SECRET = "jina-access-token"


def _env(build: _Builder, service: Service) -> list[dict[str, Any]]:
    env = {name: str(value) for name, value in service.env.items()}
    roots = build.context.python_path.get(service.name)
    if roots:
        env["PYTHONPATH"] = ":".join([*roots, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    entries: list[dict[str, Any]] = [{"name": name, "value": value} for name, value in env.items()]
    if build.spec.transport.access_token and service.role in (GATEWAY, BRIDGE):
        secret = {"secretKeyRef": {"name": ACCESS_TOKEN_SECRET, "key": "token"}}
        entries.append({"name": access.ENV_VARIABLE, "valueFrom": secret})
    return entries


class _Mounts:
    def __init__(self) -> None:
        self.volumes: list[dict[str, Any]] = []
        self.mounts: list[dict[str, Any]] = []
        self.digest = hashlib.sha256()
        self.digested = False

    def add(self, name: str, path: str, source: dict[str, Any], *, read_only: bool = True) -> None:
        self.volumes.append({"name": name, **source})
        self.mounts.append({"name": name, "mountPath": path, **({"readOnly": True} if read_only else {})})

    def read(self, what: str, content: bytes | str) -> None:
        self.digest.update(what.encode() + b"\0")
        self.digest.update(content if isinstance(content, bytes) else content.encode())
        self.digested = True


def _deployment(
    build: _Builder, service: Service, args: list[str], mounts: _Mounts, ports: list[dict[str, Any]]
) -> dict[str, Any]:
    name = build.place.names[service.name]
    writable_root = service.role == EXECUTOR
    if not writable_root:
        mounts.add("tmp", "/tmp", {"emptyDir": {}}, read_only=False)
    container: dict[str, Any] = {
        "name": name,
        "image": build.context.image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "ports": [{"name": p["name"], "containerPort": p["targetPort"], "protocol": "TCP"} for p in ports],
    }
    env = _env(build, service)
    if env:
        container["env"] = env
    container["resources"] = copy.deepcopy(RESOURCES)
    container["securityContext"] = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": not writable_root,
        "capabilities": {"drop": ["ALL"]},
    }
    container.update(_probes(service))
    if mounts.mounts:
        container["volumeMounts"] = mounts.mounts
    template_meta: dict[str, Any] = {"labels": {**build.metadata(name, build.labels(service))["labels"]}}
    if mounts.digested:
        template_meta["annotations"] = {DIGEST_ANNOTATION: mounts.digest.hexdigest()}
    pod: dict[str, Any] = {
        "automountServiceAccountToken": False,
        # no FOO_SERVICE_HOST/FOO_PORT variables: peers are found by DNS, and JINA_* must stay the user's
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
    }
    if mounts.volumes:
        pod["volumes"] = mounts.volumes
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": build.metadata(name, build.labels(service)),
        "spec": {
            "replicas": service.replicas,
            "selector": {"matchLabels": build.selector(service)},
            "template": {"metadata": template_meta, "spec": pod},
        },
    }


def _service(build: _Builder, service: Service, ports: list[dict[str, Any]]) -> dict[str, Any]:
    name = build.place.names[service.name]
    body: dict[str, Any] = {}
    if service.role == EXECUTOR:
        # headless: the name resolves to every ready pod; the gateway balances over them
        body["clusterIP"] = "None"
    else:
        body["type"] = "ClusterIP"
    body["selector"] = build.selector(service)
    body["ports"] = [
        {"name": p["name"], "port": p["targetPort"], "targetPort": p["name"], "protocol": "TCP"} for p in ports
    ]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": build.metadata(name, build.labels(service)),
        "spec": body,
    }


def render(
    spec: FlowSpec,
    context: ExportContext,
    *,
    namespace: str | None,
    include_gateway: bool,
    tls_secret: str | None,
) -> dict[str, list[dict]]:
    """File name → the Kubernetes objects it holds (see the rules above); nothing is written here."""
    if namespace is not None:
        _check_name(namespace, "namespace", _DNS_LABEL, "a DNS-1123 label of at most 63 characters")
    if tls_secret is not None:
        _check_name(tls_secret, "TLS Secret", _DNS_SUBDOMAIN, "a DNS-1123 subdomain")
    build = _Builder(spec, context, namespace, tls_secret)
    services = [s for s in spec.services if include_gateway or s.role == EXECUTOR]
    # every command line first: they check the Flow (classes, files) and fill the context in
    args = {s.name: command(spec, s, build.place) for s in services}

    flow_config: dict[str, str] = {}
    config_maps: list[dict[str, Any]] = []
    uses_tls = any(s.file("tls_cert") for s in services)
    tls_data: dict[str, bytes] = {}
    if uses_tls and tls_secret is None:
        tls_data = {
            "tls.crt": Path(str(spec.transport.ssl_certfile)).read_bytes(),
            "tls.key": Path(str(spec.transport.ssl_keyfile)).read_bytes(),
        }
    documents: dict[str, list[dict]] = {}
    for service in services:
        argv = args[service.name]
        mounts = _Mounts()
        option, key = _SETTINGS.get(service.role, ("", ""))
        value = _replace_option(argv, option, f"@{CONFIG_DIR}/{key}") if option else None
        if value is not None:
            flow_config[key] = _pretty_json(value)
            mounts.read(key, flow_config[key])
            items = [{"key": key, "path": key}]
            mounts.add("config", CONFIG_DIR, {"configMap": {"name": build.config_map, "items": items}})
        code = _code_config_map(build, service) if service.role == EXECUTOR else None
        if code is not None:
            config_map, items, digest = code
            config_maps.append(config_map)
            mounts.add("code", str(FLOW_DIR), {"configMap": {"name": config_map["metadata"]["name"], "items": items}})
            mounts.read("code", digest)
        if service.file("tls_cert"):
            secret = {"secretName": build.tls_secret, "defaultMode": 0o440}
            mounts.add("tls", TLS_DIR, {"secret": secret})
            for key, content in sorted(tls_data.items()):
                mounts.read(key, content)
        ports = [{"name": port.name, "targetPort": container_port(service, port)} for port in service.ports]
        deployment = _deployment(build, service, argv, mounts, ports)
        documents[f"{build.place.names[service.name]}.yml"] = [deployment, _service(build, service, ports)]

    head: dict[str, list[dict]] = {}
    if namespace:
        namespace_object = {"apiVersion": "v1", "kind": "Namespace", "metadata": build.metadata(namespace)}
        del namespace_object["metadata"]["namespace"]
        head[NAMESPACE_FILE] = [namespace_object]
    if flow_config:
        flow_map = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": build.metadata(build.config_map, {"app.kubernetes.io/component": "config"}),
            "data": dict(sorted(flow_config.items())),
        }
        config_maps.insert(0, flow_map)
    if config_maps:
        head[CONFIG_FILE] = config_maps
    if tls_data:
        head[TLS_FILE] = [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": build.metadata(build.tls_secret, {"app.kubernetes.io/component": "tls"}),
                "type": "kubernetes.io/tls",
                "data": {key: base64.b64encode(content).decode("ascii") for key, content in tls_data.items()},
            }
        ]
    return {**head, **documents}


def holds_secret(objects: list[dict]) -> bool:
    return any(obj.get("kind") == "Secret" for obj in objects)


# -- writing ----------------------------------------------------------------------------------


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True  # each object written out in full, never as a YAML alias of another


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # multi-line text (JSON settings, code) as a literal block; PyYAML falls back to quoting when it cannot
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _represent_str)


def _describe(obj: dict[str, Any]) -> str:
    return f"{obj['kind']} {obj['metadata']['name']}"


def dump(objects: list[dict], source: str) -> str:
    """Multi-document YAML of `objects`, with a header saying what it is and how to apply it."""
    namespace = next((o["metadata"].get("namespace") for o in objects if o["metadata"].get("namespace")), None)
    flag = f" -n {namespace}" if namespace else ""
    lines = [
        f"# The Flow {source} as Kubernetes objects, written by `jina export kubernetes` (jina-mesh {__version__}):",
        f"# {', '.join(_describe(o) for o in objects)}.",
        "#   kubectl apply -f DIR      DIR: this file's directory; applies the whole Flow, in file-name order",
    ]
    if holds_secret(objects):
        lines.append("#   it holds a TLS private key: keep this file private (mode 0600) and out of version control")
    for obj in objects:
        if obj["kind"] == "Service" and obj["spec"].get("clusterIP") != "None":
            port = obj["spec"]["ports"][0]["port"]
            lines.append(
                f"#   kubectl port-forward{flag} service/{obj['metadata']['name']} {port}    reach it from this "
                "machine (a ClusterIP Service: publish it with a LoadBalancer or an Ingress)"
            )
        if obj["kind"] in ("ConfigMap", "Secret") and len(json.dumps(obj)) > _APPLY_ANNOTATION_LIMIT - 4096:
            lines.append(
                f"#   {_describe(obj)} is too large for kubectl's client-side apply: use `kubectl apply "
                "--server-side -f DIR`"
            )
    body = yaml.dump_all(objects, Dumper=_Dumper, sort_keys=False, width=4096, explicit_start=True)
    return "\n".join(lines) + "\n" + body


__all__ = ["dump", "holds_secret", "render"]
