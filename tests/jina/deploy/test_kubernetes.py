"""`jina export kubernetes` / `Flow.to_kubernetes_yaml`: every object checked against the Kubernetes API schema.

No cluster is needed: the objects are validated with `kubernetes-validate` (the OpenAPI schema of
the newest release it ships, strict: no unknown fields), then for what a schema cannot say (names,
labels, selectors matching pods, probes and mounts naming real ports and volumes, ConfigMap keys
and size, the restricted Pod Security Standard), and the Flow's settings and code taken out of the
ConfigMaps are read by the gateway, the bridge and the executor loader themselves.
"""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import kubernetes_validate
import pytest
import trustme
import yaml
from jina_mesh.bridge.config import ConfigError
from jina_mesh.bridge.main import build_parser as bridge_parser
from jina_mesh.bridge.main import config_from_args, read_config
from jina_mesh.services.gateway.main import build_parser as gateway_parser

from jina import Flow
from jina.deploy import kubernetes
from jina.deploy.context import ExportContext, ExportError
from jina.topology import Topology
from tests.conftest import ROOT, run_python

K8S_VERSION = kubernetes_validate.utils.latest_version()

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_1035 = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_SUBDOMAIN = re.compile(r"^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
PORT_NAME = re.compile(r"^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]+(-[a-z0-9]+)*$")
CONFIG_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")
RESTRICTED_VOLUMES = {"configMap", "secret", "emptyDir", "projected", "downwardAPI", "persistentVolumeClaim"}

EXECUTORS_PY = """\
from jina import Executor, requests


class Upper(Executor):
    @requests
    def upper(self, docs, **kwargs):
        for doc in docs:
            doc.text = (doc.text or "").upper()


class Tagger(Executor):
    def __init__(self, tag="x", **kwargs):
        super().__init__(**kwargs)
        self.tag = tag

    @requests
    def tag_docs(self, docs, **kwargs):
        for doc in docs:
            doc.tags[self.tag] = True
"""

PACKAGE_TAGGER_PY = """\
from jina import Executor, requests


class PackagedTagger(Executor):
    def __init__(self, tag="p", **kwargs):
        super().__init__(**kwargs)
        self.tag = tag

    @requests
    def tag_docs(self, docs, **kwargs):
        for doc in docs:
            doc.tags[self.tag] = True
"""

JOINER_PY = """\
from jina import Executor, requests


class Joiner(Executor):
    @requests
    def join(self, docs, **kwargs):
        return docs
"""


# -- the Flow -----------------------------------------------------------------------------------


@pytest.fixture
def pki(tmp_path):
    """A server certificate and key made for this run (outside the export context, as usual)."""
    folder = tmp_path / "pki"
    folder.mkdir()
    server = trustme.CA().issue_cert("localhost", "gateway", "bridge")
    cert, key = folder / "cert.pem", folder / "key.pem"
    server.cert_chain_pems[0].write_to_path(cert)
    for blob in server.cert_chain_pems[1:]:
        blob.write_to_path(cert, append=True)
    server.private_key_pem.write_to_path(key)
    return {"cert": str(cert), "key": str(key)}


@pytest.fixture
def flow_dir(tmp_path, pki, monkeypatch):
    """A YAML Flow: a diamond a → (Tag_B ×3, c) → d, TLS, compression, CORS, an exposed endpoint.

    Its executors use a py_modules file, a module of a package (by import path) and an Executor
    YAML with its own py_modules, all under the Flow's directory (the export context)."""
    folder = tmp_path / "flow"
    folder.mkdir()
    package = f"tagpkg_{uuid.uuid4().hex[:8]}"  # unique: the export imports it in this process
    (folder / "executors.py").write_text(EXECUTORS_PY)
    (folder / package).mkdir()
    (folder / package / "__init__.py").write_text("")
    (folder / package / "tagger.py").write_text(PACKAGE_TAGGER_PY)
    (folder / "joiner").mkdir()
    (folder / "joiner" / "joiner.py").write_text(JOINER_PY)
    (folder / "joiner" / "joiner.yml").write_text("jtype: Joiner\npy_modules: [joiner.py]\n")
    flow = {
        "jtype": "Flow",
        "with": {
            "protocol": ["grpc", "http"],
            "port": [12345, 12346],
            "cors": True,
            "no_debug_endpoints": True,
            "compression": "gzip",
            "ssl_certfile": pki["cert"],
            "ssl_keyfile": pki["key"],
            "expose_endpoints": {"/shout": {"summary": "Upper-case the texts", "tags": ["demo"]}},
        },
        "executors": [
            {"name": "a", "uses": "Upper", "py_modules": ["executors.py"]},
            {
                "name": "Tag_B",
                "uses": "Tagger",
                "py_modules": ["executors.py"],
                "uses_with": {"tag": "b"},
                "replicas": 3,
                "needs": "a",
                "env": {"MODEL": "small", "BATCH": 8},
            },
            {"name": "c", "uses": f"{package}.tagger.PackagedTagger", "uses_with": {"tag": "c"}, "needs": "a"},
            {"name": "d", "uses": "joiner/joiner.yml", "needs": ["Tag_B", "c"]},
        ],
    }
    (folder / "flow.yml").write_text(yaml.safe_dump(flow, sort_keys=False))
    monkeypatch.syspath_prepend(str(folder))
    yield folder
    for name in [m for m in sys.modules if m == package or m.startswith(f"{package}.")]:
        del sys.modules[name]


def jina_export(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "jina", "export", "kubernetes", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def read_export(out: Path) -> dict[str, list[dict]]:
    return {path.name: list(yaml.safe_load_all(path.read_text())) for path in sorted(out.glob("*.yml"))}


@pytest.fixture
def exported_cli(flow_dir, tmp_path):
    out = tmp_path / "k8s-cli"
    result = jina_export("flow.yml", str(out), "--k8s-namespace", "search", cwd=flow_dir)
    assert result.returncode == 0, result.stderr
    assert sorted(Path(line).name for line in result.stdout.split()) == sorted(p.name for p in out.iterdir())
    return out


@pytest.fixture
def exported_api(flow_dir, tmp_path):
    out = tmp_path / "k8s-api"
    Flow.load_config(flow_dir / "flow.yml").to_kubernetes_yaml(str(out), k8s_namespace="search")
    return out


# -- checks beyond the schema -------------------------------------------------------------------


def by_kind(documents: dict[str, list[dict]], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for objects in documents.values() for o in objects if o["kind"] == kind}


def check_labels(labels: dict[str, str]) -> None:
    for key, value in labels.items():
        prefix, _, name = key.rpartition("/")
        assert not prefix or DNS_SUBDOMAIN.match(prefix), key
        assert re.match(r"^([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$", name), key
        assert len(value) <= 63 and LABEL_VALUE.match(value), (key, value)


def check_probe(probe: dict, ports: dict[int, str]) -> None:
    handlers = [h for h in ("exec", "httpGet", "tcpSocket", "grpc") if h in probe]
    assert len(handlers) == 1, probe
    port = probe[handlers[0]]["port"]
    assert port in ports or port in ports.values(), (probe, ports)
    assert probe["periodSeconds"] >= 1 and probe["failureThreshold"] >= 1


def check_pod(template: dict, selector: dict[str, str]) -> None:
    labels = template["metadata"]["labels"]
    check_labels(labels)
    assert selector.items() <= labels.items()
    pod = template["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    assert len(volumes) == len(pod.get("volumes", []))
    for volume in volumes.values():
        assert DNS_LABEL.match(volume["name"])
        assert set(volume) - {"name"} <= RESTRICTED_VOLUMES
    # the restricted Pod Security Standard
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    for container in pod["containers"]:
        assert DNS_LABEL.match(container["name"])
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
        assert all(isinstance(a, str) for a in container["args"])
        ports = {p["containerPort"]: p["name"] for p in container.get("ports", [])}
        assert len(ports) == len(container.get("ports", []))
        assert all(PORT_NAME.match(name) for name in ports.values())
        for kind in ("startupProbe", "readinessProbe", "livenessProbe"):
            if kind in container:
                check_probe(container[kind], ports)
        mounts = container.get("volumeMounts", [])
        assert {m["name"] for m in mounts} == set(volumes)
        assert len({m["mountPath"] for m in mounts}) == len(mounts)
        names = [e["name"] for e in container.get("env", [])]
        assert len(names) == len(set(names)) and all(isinstance(e["value"], str) for e in container.get("env", []))


def validate(obj: dict, where: str) -> None:
    """Valid for the API server of the newest release known: types, required and unknown fields."""
    try:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        at = "/".join(str(p) for p in exc.absolute_path)
        pytest.fail(
            f"{where}: {obj['kind']} {obj['metadata'].get('name')}: {at}: {exc.message} (Kubernetes {K8S_VERSION})"
        )


def check_export(documents: dict[str, list[dict]], *, tls_secret: str | None = None) -> None:
    """Every object valid for the API server, and the objects consistent with each other."""
    for name, objects in documents.items():
        assert re.match(r"^[a-z0-9][-a-z0-9.]*\.yml$", name)
        for obj in objects:
            validate(obj, name)
            meta = obj["metadata"]
            pattern = DNS_1035 if obj["kind"] == "Service" else DNS_LABEL if obj["kind"] == "Namespace" else None
            assert (pattern or DNS_SUBDOMAIN).match(meta["name"]), meta["name"]
            check_labels(meta.get("labels", {}))
            assert meta["labels"]["app.kubernetes.io/managed-by"] == "jina-mesh"
    config_maps = by_kind(documents, "ConfigMap")
    secrets = by_kind(documents, "Secret")
    deployments = by_kind(documents, "Deployment")
    for config_map in config_maps.values():
        keys = {**config_map.get("data", {}), **config_map.get("binaryData", {})}
        assert all(CONFIG_KEY.match(key) and len(key) <= 253 for key in keys)
        assert sum(len(v.encode()) for v in keys.values()) <= 1024 * 1024
    for deployment in deployments.values():
        check_pod(deployment["spec"]["template"], deployment["spec"]["selector"]["matchLabels"])
        for volume in deployment["spec"]["template"]["spec"].get("volumes", []):
            if "configMap" in volume:
                source = config_maps[volume["configMap"]["name"]]
                keys = {**source.get("data", {}), **source.get("binaryData", {})}
                paths = [item["path"] for item in volume["configMap"]["items"]]
                assert all(item["key"] in keys for item in volume["configMap"]["items"])
                assert len(paths) == len(set(paths)) and not any(p.startswith("/") or ".." in p for p in paths)
            if "secret" in volume:
                assert volume["secret"]["secretName"] in (*secrets, tls_secret)
    for name, service in by_kind(documents, "Service").items():
        pod = deployments[name]["spec"]["template"]
        assert service["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
        container_ports = {p["name"]: p["containerPort"] for p in pod["spec"]["containers"][0]["ports"]}
        for port in service["spec"]["ports"]:
            assert container_ports[port["targetPort"]] == port["port"]


def container(deployment: dict) -> dict:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def argument(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


# -- exporting ------------------------------------------------------------------------------------


def test_the_cli_and_the_api_write_the_same_valid_objects(exported_cli, exported_api):
    cli, api = read_export(exported_cli), read_export(exported_api)
    assert cli == api
    assert sorted(cli) == ["00-namespace.yml", "01-config.yml", "02-tls.yml", "a.yml", "bridge.yml"] + [
        "c.yml",
        "d.yml",
        "gateway.yml",
        "tag-b.yml",
    ]
    check_export(cli)
    for path in exported_cli.iterdir():
        text = path.read_text()
        assert text.startswith("# The Flow ") and "flow.yml" in text.splitlines()[0]
        assert "kubectl apply -f DIR" in text


def test_objects_of_the_flow(exported_cli, pki):
    documents = read_export(exported_cli)
    deployments = by_kind(documents, "Deployment")
    services = by_kind(documents, "Service")
    assert set(deployments) == set(services) == {"a", "tag-b", "c", "d", "gateway", "bridge"}
    for name in ("a", "tag-b", "c", "d", "gateway", "bridge"):
        assert [o["kind"] for o in documents[f"{name}.yml"]] == ["Deployment", "Service"]
        spec = container(deployments[name])
        assert spec["image"] == "jina-mesh:0.1.0" and spec["imagePullPolicy"] == "IfNotPresent"
        assert spec["resources"] == {"requests": {"cpu": "100m", "memory": "128Mi"}}
        labels = deployments[name]["metadata"]["labels"]
        assert labels["app.kubernetes.io/name"] == name and labels["app.kubernetes.io/part-of"] == "search"

    # replicas, and executors behind headless Services on 8080
    assert {n: d["spec"]["replicas"] for n, d in deployments.items()} == {
        "a": 1,
        "tag-b": 3,
        "c": 1,
        "d": 1,
        "gateway": 1,
        "bridge": 1,
    }
    for name in ("a", "tag-b", "c", "d"):
        spec = container(deployments[name])
        assert deployments[name]["metadata"]["labels"]["app.kubernetes.io/component"] == "executor"
        assert spec["args"][:3] == ["executor", "--name", {"tag-b": "Tag_B"}.get(name, name)]
        assert argument(spec["args"], "--port") == "8080" and argument(spec["args"], "--compression") == "gzip"
        assert spec["ports"] == [{"name": "grpc", "containerPort": 8080, "protocol": "TCP"}]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert spec[probe]["grpc"] == {"port": 8080}
        assert services[name]["spec"]["clusterIP"] == "None"
        assert services[name]["spec"]["ports"] == [
            {"name": "grpc", "port": 8080, "targetPort": "grpc", "protocol": "TCP"}
        ]
    tag_b = container(deployments["tag-b"])
    assert json.loads(argument(tag_b["args"], "--uses-with")) == {"tag": "b"}
    assert argument(tag_b["args"], "--replicas") == "3"
    assert {"name": "MODEL", "value": "small"} in tag_b["env"] and {"name": "BATCH", "value": "8"} in tag_b["env"]
    c_env = {e["name"]: e["value"] for e in container(deployments["c"])["env"]}
    assert c_env["PYTHONPATH"] == "/flow"

    # the gateway: every executor by its Service name on 8080, probes on the internal port
    gateway = container(deployments["gateway"])
    assert gateway["args"][0] == "gateway"
    assert argument(gateway["args"], "--topology") == "@/etc/jina/config/topology.json"
    assert argument(gateway["args"], "--port") == "12345" and argument(gateway["args"], "--internal-port") == "8081"
    assert argument(gateway["args"], "--ssl-certfile") == "/etc/jina/tls/tls.crt"
    assert argument(gateway["args"], "--ssl-keyfile") == "/etc/jina/tls/tls.key"
    assert [p["name"] for p in gateway["ports"]] == ["grpc", "internal"]
    assert gateway["readinessProbe"]["grpc"] == {"port": 8081, "service": ""}
    assert gateway["livenessProbe"]["grpc"] == {"port": 8081, "service": "jina.JinaInfoRPC"}
    assert gateway["securityContext"]["readOnlyRootFilesystem"] is True
    assert services["gateway"]["spec"]["type"] == "ClusterIP" and "clusterIP" not in services["gateway"]["spec"]
    assert [(p["name"], p["port"]) for p in services["gateway"]["spec"]["ports"]] == [
        ("grpc", 12345),
        ("internal", 8081),
    ]
    parsed = gateway_parser().parse_args(gateway["args"][1:])
    assert parsed.topology.startswith("@") and parsed.internal_host == "0.0.0.0"

    # the bridge: dials the gateway's internal port, HTTPS readiness, TCP liveness
    bridge = container(deployments["bridge"])
    assert bridge["args"][:3] == ["bridge", "--gateway", "gateway:8081"]
    assert argument(bridge["args"], "--config") == "@/etc/jina/config/bridge.json"
    assert bridge["readinessProbe"]["httpGet"] == {"path": "/", "port": 12346, "scheme": "HTTPS"}
    assert bridge["livenessProbe"]["tcpSocket"] == {"port": 12346}
    assert [(p["name"], p["port"]) for p in services["bridge"]["spec"]["ports"]] == [("http", 12346)]

    # the Flow's settings: one ConfigMap, read by the gateway and the bridge with @FILE
    config_maps = by_kind(documents, "ConfigMap")
    settings = config_maps["search-config"]["data"]
    topology = Topology.from_json(settings["topology.json"])
    assert {n.name: n.addresses for n in topology.executors} == {
        "a": ("a:8080",),
        "Tag_B": ("tag-b:8080",),
        "c": ("c:8080",),
        "d": ("d:8080",),
    }
    assert [topology.needs(n) for n in ("a", "Tag_B", "c", "d")] == [("gateway",), ("a",), ("a",), ("Tag_B", "c")]
    assert topology.end == "d"
    bridge_json = json.loads(settings["bridge.json"])
    assert bridge_json["cors"] is True and bridge_json["no_debug_endpoints"] is True
    assert bridge_json["expose_endpoints"] == {"/shout": {"summary": "Upper-case the texts", "tags": ["demo"]}}
    assert bridge_json["ssl_certfile"] == "/etc/jina/tls/tls.crt"

    # TLS: a kubernetes.io/tls Secret from the Flow's files, mounted where the args say, file mode 0600
    secret = by_kind(documents, "Secret")["search-tls"]
    assert secret["type"] == "kubernetes.io/tls"
    assert base64.b64decode(secret["data"]["tls.crt"]) == Path(pki["cert"]).read_bytes()
    assert base64.b64decode(secret["data"]["tls.key"]) == Path(pki["key"]).read_bytes()
    assert stat.S_IMODE((exported_cli / "02-tls.yml").stat().st_mode) == 0o600
    assert stat.S_IMODE((exported_cli / "01-config.yml").stat().st_mode) != 0o600
    for name in ("gateway", "bridge"):
        pod = deployments[name]["spec"]["template"]["spec"]
        assert {"name": "tls", "secret": {"secretName": "search-tls", "defaultMode": 0o440}} in pod["volumes"]
        assert {"name": "tls", "mountPath": "/etc/jina/tls", "readOnly": True} in container(deployments[name])[
            "volumeMounts"
        ]
        assert pod["securityContext"]["fsGroup"] == 10001  # the pod's user reads the 0440 files

    # the namespace: created, and on every other object
    assert documents["00-namespace.yml"] == [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "search",
                "labels": {"app.kubernetes.io/part-of": "search", "app.kubernetes.io/managed-by": "jina-mesh"},
            },
        }
    ]
    for name, objects in documents.items():
        for obj in objects:
            if obj["kind"] != "Namespace":
                assert obj["metadata"]["namespace"] == "search", (name, obj["kind"])


def test_settings_in_the_config_map_are_read_by_the_bridge_and_the_gateway(exported_cli, tmp_path):
    """The files the pods read, read by the real argument parsers (paths moved out of /etc/jina)."""
    documents = read_export(exported_cli)
    settings = by_kind(documents, "ConfigMap")["search-config"]["data"]
    config_dir = tmp_path / "etc-jina-config"
    config_dir.mkdir()
    for key, value in settings.items():
        (config_dir / key).write_text(value)

    def moved(args: list[str]) -> list[str]:
        return [a.replace("/etc/jina/config", str(config_dir)) for a in args]

    bridge = container(by_kind(documents, "Deployment")["bridge"])
    config = config_from_args(bridge_parser().parse_args(moved(bridge["args"])[1:]))
    assert config.gateway == "gateway:8081" and config.port == 12346
    assert config.cors and config.no_debug_endpoints and config.compression == "gzip"
    assert [e.path for e in config.expose_endpoints] == ["/shout"]
    assert config.ssl_certfile == "/etc/jina/tls/tls.crt" and config.ssl_keyfile == "/etc/jina/tls/tls.key"

    gateway = container(by_kind(documents, "Deployment")["gateway"])
    parsed = gateway_parser().parse_args(moved(gateway["args"])[1:])
    assert [n.name for n in Topology.from_json(parsed.topology).executors] == ["a", "Tag_B", "c", "d"]


def test_executors_code_travels_in_config_maps(exported_cli, flow_dir, tmp_path):
    """Each executor's /flow, rebuilt from its ConfigMap, holds what it needs: its class loads from there."""
    documents = read_export(exported_cli)
    config_maps = by_kind(documents, "ConfigMap")
    package = next(p.name for p in flow_dir.iterdir() if p.name.startswith("tagpkg_"))
    expected = {
        "a": {"executors.py"},
        "tag-b": {"executors.py"},
        "c": {f"{package}/__init__.py", f"{package}/tagger.py"},
        "d": {"joiner/joiner.yml", "joiner/joiner.py"},
    }
    for name, files in expected.items():
        deployment = by_kind(documents, "Deployment")[name]
        volume = next(v for v in deployment["spec"]["template"]["spec"]["volumes"] if v["name"] == "code")
        assert volume["configMap"]["name"] == f"{name}-code"
        assert {"name": "code", "mountPath": "/flow", "readOnly": True} in container(deployment)["volumeMounts"]
        assert container(deployment)["securityContext"]["readOnlyRootFilesystem"] is False  # may write a workspace
        data = config_maps[f"{name}-code"]["data"]
        items = {item["path"]: data[item["key"]] for item in volume["configMap"]["items"]}
        assert set(items) == files
        root = tmp_path / "pods" / name / "flow"
        for relative, content in items.items():
            assert content == (flow_dir / relative).read_text()
            (root / relative).parent.mkdir(parents=True, exist_ok=True)
            (root / relative).write_text(content)
        # the executor's own command line, with /flow moved to the rebuilt tree, loads its class
        args = [a.replace("/flow", str(root)) for a in container(deployment)["args"]]
        env = {e["name"]: e["value"].replace("/flow", str(root)) for e in container(deployment).get("env", [])}
        uses = argument(args, "--uses")
        modules = args[args.index("--py-modules") + 1 :] if "--py-modules" in args else []
        script = (
            "import sys\nfrom services.executor.loader import load_executor\n"
            f"print(load_executor({uses!r}, {modules!r}).cls.__name__)"
        )
        path = f"{env['PYTHONPATH']}:{ROOT}" if "PYTHONPATH" in env else str(ROOT)
        result = run_python(script, cwd=tmp_path, env={"PYTHONPATH": path})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == {"a": "Upper", "tag-b": "Tagger", "c": "PackagedTagger", "d": "Joiner"}[name]


def test_an_existing_tls_secret_is_referenced_not_written(flow_dir, tmp_path):
    out = tmp_path / "k8s"
    result = jina_export("flow.yml", str(out), "--tls-secret", "my-cert", "--k8s-namespace", "search", cwd=flow_dir)
    assert result.returncode == 0, result.stderr
    documents = read_export(out)
    check_export(documents, tls_secret="my-cert")
    assert "02-tls.yml" not in documents and not by_kind(documents, "Secret")
    for name in ("gateway", "bridge"):
        volumes = by_kind(documents, "Deployment")[name]["spec"]["template"]["spec"]["volumes"]
        assert {"name": "tls", "secret": {"secretName": "my-cert", "defaultMode": 0o440}} in volumes
    assert not any(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in out.iterdir())


def test_no_gateway_writes_the_executors_only(flow_dir, tmp_path):
    out = tmp_path / "k8s"
    result = jina_export("flow.yml", str(out), "--no-gateway", cwd=flow_dir)
    assert result.returncode == 0, result.stderr
    documents = read_export(out)
    check_export(documents)
    assert sorted(documents) == ["01-config.yml", "a.yml", "c.yml", "d.yml", "tag-b.yml"]
    assert set(by_kind(documents, "ConfigMap")) == {"a-code", "tag-b-code", "c-code", "d-code"}
    assert {
        o["metadata"]["labels"]["app.kubernetes.io/component"] for o in by_kind(documents, "Deployment").values()
    } == {"executor"}
    # no namespace given (and the Flow has no name): kubectl's current namespace
    for objects in documents.values():
        for obj in objects:
            assert "namespace" not in obj["metadata"]
            assert obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "jina-mesh"


def test_code_in_the_image_mounts_nothing(flow_dir, tmp_path):
    out = tmp_path / "k8s"
    result = jina_export(
        "flow.yml", str(out), "--code", "image", "--image", "registry.example/search:1.2", cwd=flow_dir
    )
    assert result.returncode == 0, result.stderr
    documents = read_export(out)
    check_export(documents)
    assert set(by_kind(documents, "ConfigMap")) == {"jina-mesh-config"}
    deployment = by_kind(documents, "Deployment")["a"]
    assert container(deployment)["image"] == "registry.example/search:1.2"
    assert argument(container(deployment)["args"], "--py-modules") == "/flow/executors.py"
    assert "volumes" not in deployment["spec"]["template"]["spec"]


def test_the_flow_name_is_the_default_namespace(flow_dir, tmp_path):
    flow = Flow.load_config(flow_dir / "flow.yml")
    flow.options["name"] = "from-the-flow"
    written = flow.to_kubernetes_yaml(str(tmp_path / "k8s"))
    assert written[0].name == "00-namespace.yml"
    documents = read_export(tmp_path / "k8s")
    check_export(documents)
    assert {o["metadata"].get("namespace") for objs in documents.values() for o in objs} == {None, "from-the-flow"}


def test_a_flow_without_executors_tls_or_bridge(tmp_path):
    out = tmp_path / "k8s"
    Flow().to_kubernetes_yaml(str(out), context=tmp_path)
    documents = read_export(out)
    check_export(documents)
    assert sorted(documents) == ["gateway.yml"]
    gateway = container(by_kind(documents, "Deployment")["gateway"])
    assert "--topology" not in gateway["args"] and [p["name"] for p in gateway["ports"]] == ["grpc", "internal"]


@pytest.mark.parametrize(
    ("options", "gateway_ports", "bridge_port"),
    [
        ({"protocol": "http"}, [("internal", 8081)], 8080),
        ({"protocol": ["grpc", "websocket"], "port": [8081, 9000]}, [("grpc", 8081), ("internal", 8082)], 9000),
        ({"protocol": "grpc", "port": 443}, [("grpc", 443), ("internal", 8081)], None),
    ],
)
def test_protocols_and_ports(tmp_path, options, gateway_ports, bridge_port):
    flow = Flow(**options).add(name="pass_through", replicas=2)
    documents = kubernetes.render(
        flow.spec(ports=flow.declared_ports),
        ExportContext(tmp_path),
        namespace="ns",
        include_gateway=True,
        tls_secret=None,
    )
    check_export(documents)
    services = by_kind(documents, "Service")
    assert [(p["name"], p["port"]) for p in services["gateway"]["spec"]["ports"]] == gateway_ports
    internal = dict(gateway_ports)["internal"]
    assert container(by_kind(documents, "Deployment")["gateway"])["readinessProbe"]["grpc"]["port"] == internal
    if bridge_port is None:
        assert "bridge" not in services
    else:
        assert services["bridge"]["spec"]["ports"][0]["port"] == bridge_port
        bridge = container(by_kind(documents, "Deployment")["bridge"])
        assert argument(bridge["args"], "--gateway") == f"gateway:{internal}"
        assert bridge["readinessProbe"]["httpGet"]["scheme"] == "HTTP"
    # an executor of the image's own (no code): nothing to ship, nothing mounted
    assert "volumes" not in by_kind(documents, "Deployment")["pass-through"]["spec"]["template"]["spec"]
    assert by_kind(documents, "Deployment")["pass-through"]["spec"]["replicas"] == 2


def test_dump_reads_back_as_the_objects(tmp_path):
    awkward = "line with trailing spaces   \n\ttabbed\nno newline at the end"
    objects = [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"a": awkward, "b": "x\n"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "y"}, "data": {"c": "'quoted' 8080"}},
    ]
    text = kubernetes.dump(objects, "flow.yml")
    assert list(yaml.safe_load_all(text)) == objects
    assert text.count("\n---\n") == 2
    assert kubernetes.holds_secret([{"kind": "Secret"}]) and not kubernetes.holds_secret(objects)


# -- refusals -------------------------------------------------------------------------------------


def test_code_over_a_mebibyte_is_refused(tmp_path):
    (tmp_path / "big.py").write_text(
        "from jina import Executor\n\n\nclass Big(Executor):\n    pass\n\n\nDATA = '" + "x" * (1024 * 1024) + "'\n"
    )
    flow = Flow().add(name="big_one", uses="Big", py_modules=[str(tmp_path / "big.py")])
    with pytest.raises(ExportError, match=r"executor 'big_one'.*1 MiB.*--code image"):
        kubernetes.render(
            flow.spec(ports=flow.declared_ports),
            ExportContext(tmp_path),
            namespace=None,
            include_gateway=True,
            tls_secret=None,
        )
    # in an image, it fits
    documents = kubernetes.render(
        flow.spec(ports=flow.declared_ports),
        ExportContext(tmp_path, code="image"),
        namespace=None,
        include_gateway=True,
        tls_secret=None,
    )
    assert "big-one.yml" in documents and not by_kind(documents, "ConfigMap").get("big-one-code")


@pytest.mark.parametrize(
    ("namespace", "tls_secret", "message"),
    [("My Flow", None, "namespace 'My Flow'.*'my-flow'"), (None, "Bad_Secret", "TLS Secret 'Bad_Secret'")],
)
def test_invalid_names_are_refused(tmp_path, namespace, tls_secret, message):
    flow = Flow()
    with pytest.raises(ExportError, match=message):
        kubernetes.render(
            flow.spec(ports=flow.declared_ports),
            ExportContext(tmp_path),
            namespace=namespace,
            include_gateway=True,
            tls_secret=tls_secret,
        )


def test_a_class_of_the_script_is_refused(tmp_path):
    out = tmp_path / "k8s"
    script = tmp_path / "make_flow.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from jina import Executor, Flow, requests


            class InScript(Executor):
                @requests
                def foo(self, docs, **kwargs):
                    pass


            Flow().add(name="scripted", uses=InScript).to_kubernetes_yaml({str(out)!r})
            """
        )
    )
    result = run_python(script, cwd=tmp_path)
    assert result.returncode == 1
    assert "ExportError" in result.stderr and "executor 'scripted'" in result.stderr and "__main__" in result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    ("executor", "message"),
    [
        ("uses: missing.yml", r"executor 'broken': .*missing\.yml does not exist"),
        ("uses: Foo\n    py_modules: [missing.py]", r"executor 'broken': .*missing\.py does not exist"),
        (
            "uses: Foo\n    py_modules: [../outside.py]",
            r"executor 'broken': .*outside\.py is outside the export context",
        ),
    ],
)
def test_missing_or_outside_files_are_refused_before_writing(tmp_path, executor, message):
    folder = tmp_path / "flow"
    folder.mkdir()
    (tmp_path / "outside.py").write_text("")
    (folder / "flow.yml").write_text(f"jtype: Flow\nexecutors:\n  - name: ok\n  - name: broken\n    {executor}\n")
    out = tmp_path / "out"
    out.mkdir()
    result = jina_export("flow.yml", str(out), cwd=folder)
    assert result.returncode == 1, result.stdout
    assert result.stderr.startswith("jina export: ") and re.search(message, result.stderr), result.stderr
    assert list(out.iterdir()) == []


def test_invalid_yaml_names_its_file_and_line(tmp_path):
    (tmp_path / "flow.yml").write_text("jtype: Flow\nexecutors:\n  - name: a\n    uses: [unclosed\n")
    result = jina_export("flow.yml", str(tmp_path / "out"), cwd=tmp_path)
    assert result.returncode == 1
    assert re.search(r"flow\.yml:\d+: not valid YAML", result.stderr), result.stderr
    assert not (tmp_path / "out").exists()


# -- the bridge reads --config from a file -------------------------------------------------------


def test_bridge_config_from_json_text_or_a_file(tmp_path):
    path = tmp_path / "bridge.json"
    path.write_text(json.dumps({"cors": True, "title": "from a file"}))
    from_file = config_from_args(bridge_parser().parse_args(["--gateway", "g:1", "--config", f"@{path}"]))
    from_text = config_from_args(bridge_parser().parse_args(["--gateway", "g:1", "--config", path.read_text()]))
    assert from_file == from_text
    assert from_file.cors and from_file.title == "from a file" and from_file.gateway == "g:1"
    with pytest.raises(ConfigError, match=r"--config @.*missing\.json: cannot be read"):
        read_config(f"@{tmp_path / 'missing.json'}")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"--config @.*bad\.json: not valid JSON"):
        read_config(f"@{tmp_path / 'bad.json'}")
    with pytest.raises(ConfigError, match="a JSON object"):
        read_config("[1, 2]")


def test_the_bridge_command_reports_an_unreadable_config_file(tmp_path):
    result = run_python(
        "import sys; from jina_mesh.bridge.main import main; sys.exit(main(sys.argv[1:]))",
        "--gateway",
        "127.0.0.1:1",
        "--config",
        f"@{tmp_path / 'nope.json'}",
        cwd=tmp_path,
    )
    assert result.returncode == 1
    assert "nope.json: cannot be read" in result.stderr


def test_an_access_token_comes_from_a_secret_never_written(tmp_path):
    out = tmp_path / "k8s"
    flow = Flow(protocol=["grpc", "http"], access_token="never-in-a-file").add(
        name="a", uses="tests.executors:Appender"
    )
    flow.to_kubernetes_yaml(str(out), context=ROOT)
    texts = {path.name: path.read_text() for path in out.rglob("*.yml")}
    assert texts and not any("never-in-a-file" in text for text in texts.values())
    found = {}
    for name, text in texts.items():
        for obj in yaml.safe_load_all(text):
            validate(obj, name)
            if obj["kind"] != "Deployment":
                continue
            for container in obj["spec"]["template"]["spec"]["containers"]:
                env = {e["name"]: e for e in container.get("env", [])}
                found[obj["metadata"]["name"]] = env.get("JINA_MESH_ACCESS_TOKEN")
    secret_ref = {"secretKeyRef": {"name": kubernetes.ACCESS_TOKEN_SECRET, "key": "token"}}
    assert found["gateway"]["valueFrom"] == secret_ref and found["bridge"]["valueFrom"] == secret_ref
    assert found["a"] is None
