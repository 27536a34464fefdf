"""The Compose renderer and `jina export docker-compose`, without an engine (the Docker suite runs the files)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from jina import Flow
from jina.deploy import compose
from jina.deploy.compose import override_path
from jina.deploy.context import ExportContext
from jina.deploy.export import flow_spec, source_name
from jina.excepts import BadConfig
from jina.topology import Topology
from tests.conftest import ROOT
from tests.jina.deploy.sample import FLOW, export, write_flow_dir


@pytest.fixture
def flow_dir(tmp_path):
    return write_flow_dir(tmp_path)


def _loader():
    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!override", lambda loader, node: loader.construct_sequence(node, deep=True))
    return Loader


def _flag(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_export_of_a_graph_with_replicas_tls_and_bridge_options(flow_dir):
    result = export(flow_dir)
    assert result.returncode == 1, "tests.executors lies outside the Flow's directory"
    assert "executor 'right'" in result.stderr and "outside the export context" in result.stderr
    assert not (flow_dir / "out").exists(), "nothing is written when the export is refused"

    result = export(flow_dir, FLOW.replace("tests.executors.Appender", "Splitter, py_modules: [code/execs.py]"))
    assert result.returncode == 0, result.stderr
    out = flow_dir / "out"
    main = yaml.safe_load((out / "docker-compose.yml").read_text())
    override = yaml.load((out / "docker-compose.override.yml").read_text(), Loader=_loader())
    services = main["services"]
    assert list(services) == ["split-er", "left", "right", "join", "gateway", "bridge"]
    assert {s["image"] for s in services.values()} == {"jina-mesh:0.1.0"}
    assert services["left"]["deploy"] == {"replicas": 3, "endpoint_mode": "dnsrr"}
    assert all(s["deploy"]["endpoint_mode"] == "dnsrr" for s in services.values())
    assert services["left"]["environment"] == {"MODEL": "small"}

    left = services["left"]["command"]
    assert left[:3] == ["executor", "--name", "left"] and _flag(left, "--port") == "8080"
    assert _flag(left, "--py-modules") == "/flow/code/execs.py" and _flag(left, "--compression") == "deflate"
    assert json.loads(_flag(services["split-er"]["command"], "--uses-with")) == {"size": 3}
    assert services["left"]["volumes"] == [{"type": "bind", "source": "..", "target": "/flow", "read_only": True}]
    assert "volumes" not in services["join"], "a pass-through executor needs no code"

    gateway = services["gateway"]["command"]
    topology = Topology.from_json(_flag(gateway, "--topology"))
    assert [(n.name, n.addresses) for n in topology.executors] == [
        ("split_er", ("split-er:8080",)),
        ("left", ("left:8080",)),
        ("right", ("right:8080",)),
        ("join", ("join:8080",)),
    ]
    assert topology.needs("join") == ("left", "right")
    assert (_flag(gateway, "--port"), _flag(gateway, "--internal-port"), _flag(gateway, "--internal-host")) == (
        "9101", "8081", "0.0.0.0",
    )  # fmt: skip
    assert _flag(gateway, "--ssl-certfile") == "/run/secrets/tls_cert"
    assert services["gateway"]["secrets"] == ["tls_cert", "tls_key"]
    assert main["secrets"] == {"tls_cert": {"file": "../cert.pem"}, "tls_key": {"file": "../key.pem"}}

    bridge = services["bridge"]["command"]
    assert _flag(bridge, "--gateway") == "gateway:8081"
    config = json.loads(_flag(bridge, "--config"))
    assert config["cors"] is True and config["no_debug_endpoints"] is True
    assert config["expose_endpoints"] == {"/search": {"methods": ["GET"], "summary": "find"}}
    assert (config["ssl_certfile"], config["compression"]) == ("/run/secrets/tls_cert", "deflate")
    assert services["bridge"]["healthcheck"]["test"][-2:] == ["https://127.0.0.1:9102/", "--insecure"]
    assert services["gateway"]["healthcheck"]["test"][-1] == "127.0.0.1:8081"

    # only public ports, host mode for Swarm; the override puts them on 127.0.0.1 and orders start-up by health
    published = {name: s.get("ports") for name, s in services.items()}
    assert published["gateway"] == [
        {"target": 9101, "published": "${JINA_GATEWAY_PORT:-9101}", "protocol": "tcp", "mode": "host"}
    ]
    assert published["bridge"][0]["published"] == "${JINA_BRIDGE_PORT:-9102}"
    assert [n for n, p in published.items() if p] == ["gateway", "bridge"]
    assert services["gateway"]["depends_on"] == ["split-er", "left", "right", "join"]
    assert override["services"]["gateway"]["ports"] == [
        {"target": 9101, "published": "${JINA_GATEWAY_PORT:-9101}", "host_ip": "${JINA_PUBLISH_HOST:-127.0.0.1}"}
    ]
    assert override["services"]["bridge"]["depends_on"] == {"gateway": {"condition": "service_healthy"}}
    assert "!override" in (out / "docker-compose.override.yml").read_text()


def test_the_committed_demo_files_are_what_the_exporter_writes():
    deploy = ROOT / "deploy"
    flow = Flow.load_config(deploy / "flow.yml")
    files = compose.render(
        flow_spec(flow), ExportContext(deploy), out_dir=deploy, build=compose.Build("..", "deploy/Dockerfile")
    )
    main, override = compose.dump(files, deploy / "docker-compose.yml", source_name(flow, deploy))
    hint = "regenerate: jina export docker-compose deploy/flow.yml deploy/docker-compose.yml --build-context .. " + (
        "--dockerfile deploy/Dockerfile"
    )
    assert (deploy / "docker-compose.yml").read_text() == main, hint
    assert (deploy / "docker-compose.override.yml").read_text() == override, hint


def test_python_flows_name_their_classes_by_import_path_and_ship_their_modules(tmp_path):
    from tests.executors import Appender

    flow = Flow(port=9201).add(name="a", uses=Appender)
    main, _ = flow.to_docker_compose_yaml(str(tmp_path / "c.yml"), context=ROOT)
    service = yaml.safe_load(main.read_text())["services"]["a"]
    assert _flag(service["command"], "--uses") == "tests.executors:Appender"
    assert service["environment"]["PYTHONPATH"] == "/flow"
    assert service["volumes"][0]["target"] == "/flow"
    assert (tmp_path / "c.override.yml").is_file()


def test_a_class_defined_in_the_script_is_refused_before_anything_is_written(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "from jina import Executor, Flow\n"
        "class Mine(Executor):\n    pass\n"
        "Flow().add(name='mine', uses=Mine).to_docker_compose_yaml('out/docker-compose.yml')\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path,
                            env={"PYTHONPATH": str(ROOT), "PATH": ""})  # fmt: skip
    assert result.returncode == 1
    assert "ExportError: executor 'mine': Mine is defined in the script being run (__main__)" in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jtype: Flow\nexecutors:\n  - {name: e, uses: missing.yml}\n", "executor 'e': "),
        ("jtype: Flow\nexecutors:\n  - {name: e, uses: X, py_modules: [gone.py]}\n", "executor 'e': "),
        (
            "jtype: Flow\nexecutors:\n  - {name: e, uses: nowhere_module.Cls}\n",
            "module 'nowhere_module' cannot be found",
        ),
        ("jtype: Flow\nwith:\n  port: [1, 2\nexecutors: []\n", "flow.yml:4: not valid YAML"),
        ("jtype: Flow\nexecutors:\n  - {name: My_E}\n  - {name: my-e}\n", "would both be called 'my-e'"),
    ],
)
def test_flows_that_cannot_be_exported_are_refused_with_a_reason(tmp_path, text, message):
    result = export(tmp_path, text)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_the_override_is_named_as_compose_looks_for_it(tmp_path):
    assert override_path(tmp_path / "docker-compose.yml").name == "docker-compose.override.yml"
    assert override_path(tmp_path / "compose.yaml").name == "compose.override.yaml"
    assert override_path(tmp_path / "flow").name == "flow.override.yml"


def test_shards_are_services_of_their_own_and_external_executors_are_only_addresses(tmp_path):
    flow = (
        Flow(port=9202)
        .add(name="idx", uses="tests.executors.Appender", shards=2, replicas=2, polling="ALL")
        .add(name="remote", host="grpcs://exec.example:443", external=True)
    )
    main, _ = flow.to_docker_compose_yaml(str(tmp_path / "c.yml"), context=ROOT)
    services = yaml.safe_load(main.read_text())["services"]
    assert list(services) == ["idx-shard-0", "idx-shard-1", "gateway"]
    for shard in (0, 1):
        command = services[f"idx-shard-{shard}"]["command"]
        assert _flag(command, "--name") == "idx" and _flag(command, "--shard-id") == str(shard)
        assert _flag(command, "--shards") == "2" and services[f"idx-shard-{shard}"]["deploy"]["replicas"] == 2
    topology = Topology.from_json(_flag(services["gateway"]["command"], "--topology"))
    idx, remote = topology.executors
    assert idx.shards == (("idx-shard-0:8080",), ("idx-shard-1:8080",)) and idx.polling == "ALL"
    assert remote.addresses == ("exec.example:443",) and remote.tls and remote.external
    assert set(services["gateway"]["depends_on"]) <= {"idx-shard-0", "idx-shard-1"}


def test_an_access_token_is_taken_from_the_environment_never_written(tmp_path):
    flow = Flow(protocol=["grpc", "http"], access_token="never-in-a-file").add(
        name="a", uses="tests.executors:Appender"
    )
    main, override = flow.to_docker_compose_yaml(str(tmp_path / "c.yml"), context=ROOT)
    for path in (main, override):
        assert "never-in-a-file" not in path.read_text()
    services = yaml.safe_load(main.read_text())["services"]
    for name in ("gateway", "bridge"):
        assert services[name]["environment"]["JINA_MESH_ACCESS_TOKEN"].startswith("${JINA_MESH_ACCESS_TOKEN:?")
    assert "JINA_MESH_ACCESS_TOKEN" not in services["a"].get("environment", {})


def test_mutual_tls_is_refused_with_a_reason(tmp_path, pki):
    flow = Flow(ssl_certfile=pki["cert"], ssl_keyfile=pki["key"], ssl_ca_certs=pki["ca"]).add(name="a")
    with pytest.raises(BadConfig, match="ssl_ca_certs"):
        flow.to_docker_compose_yaml(str(tmp_path / "c.yml"), context=ROOT)
