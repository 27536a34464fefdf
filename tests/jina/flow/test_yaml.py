"""Flows from YAML: the seed's forms, real Jina's saved form (gateway section, version), uses forms,
substitution, round trips, and errors with file:line."""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml
from docarray import Document

from jina import Client, Flow
from jina.excepts import BadConfig
from jina.flow.ports import free_port
from tests.conftest import ROOT, run_python, running

YAML = Path(__file__).parent / "yaml"


def openapi_operations(flow: Flow) -> dict:
    spec = httpx.get(f"http://127.0.0.1:{flow.ports['http']}/openapi.json").json()
    return {
        path: {verb: (op["summary"], op["tags"]) for verb, op in ops.items()} for path, ops in spec["paths"].items()
    }


def test_seed_yaml_forms_say_what_the_python_forms_say(caplog):
    caplog.set_level(logging.WARNING, logger="jina")
    cases = {
        "seed_grpc.yml": Flow(protocol="grpc"),
        "seed_http.yml": Flow(protocol="http"),
        "seed_websocket.yml": Flow(protocol="websocket"),
        "seed_cors.yml": Flow(protocol="http", cors=True),
        "seed_no_debug_no_crud.yml": Flow(protocol="http", no_debug_endpoints=True, no_crud_endpoints=True),
        "seed_graphql.yml": Flow(protocol="http", expose_graphql_endpoint=True),
    }
    for name, python_flow in cases.items():
        loaded = Flow.load_config(YAML / name)
        assert (loaded.protocols, loaded.options) == (python_flow.protocols, python_flow.options), name


def test_seed_yaml_quirks_are_accepted_with_warnings_naming_the_right_spelling(caplog):
    caplog.set_level(logging.WARNING, logger="jina")
    Flow.load_config(YAML / "seed_no_debug_no_crud.yml")
    assert "seed_no_debug_no_crud.yml:4: no_debug_endpoints: 'True,' is a string, read as True" in caplog.text
    caplog.clear()
    Flow.load_config(YAML / "seed_graphql.yml")
    assert (
        "seed_graphql.yml:4: 'expose_graphql_endpont' is misspelled; read as 'expose_graphql_endpoint'" in caplog.text
    )
    assert Flow(protocol="http", expose_graphql_endpont=True).options["expose_graphql_endpoint"] is True


@pytest.mark.parametrize(
    ("yaml_file", "python"),
    [
        ("seed_expose_foo.yml", lambda f: f.expose_endpoint("/foo", summary="my endpoint")),
        (
            "seed_expose_bar.yml",
            lambda f: f.expose_endpoint("/bar", summary="my endpoint", tags=["fine-tuning"], methods=["PUT"]),
        ),  # fmt: skip
        ("seed_no_debug_no_crud.yml", None),
        ("seed_cors.yml", None),
    ],
)
def test_seed_http_yaml_serves_the_same_routes_as_python(flows, yaml_file, python, caplog):
    caplog.set_level(logging.WARNING, logger="jina")
    from_yaml = Flow.load_config(YAML / yaml_file)
    from_yaml.host = "127.0.0.1"
    from_python = Flow(protocol="http", host="127.0.0.1", **{
        k: v for k, v in from_yaml.options.items() if k != "expose_endpoints"
    })  # fmt: skip
    if python is not None:
        python(from_python)
    flows(from_yaml.add(uses="tests.executors:Appender"))
    flows(from_python.add(uses="tests.executors:Appender"))
    assert openapi_operations(from_yaml) == openapi_operations(from_python)


def test_jina_flow_command_serves_grpc_and_http(tmp_path, monkeypatch):
    env = {**__import__("os").environ, "TEST_FLOW_LETTER": "+", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "jina", "flow", "--uses", str(YAML / "two_executors.yml")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        lines = [proc.stdout.readline().split() for _ in range(2)]
        ports = {protocol: int(address.rsplit(":", 1)[1]) for protocol, address in lines}
        with Client(port=ports["grpc"]) as client:
            assert client.post("/", Document(text="a")).texts == ["A+"]
        response = httpx.post(f"http://127.0.0.1:{ports['http']}/post", json={"data": [{"text": "b"}]})
        assert response.json()["data"][0]["text"] == "B+"
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err


def test_uses_an_executor_yaml_file(flows):
    flow = flows(Flow.load_config(YAML / "uses_executor_yaml.yml"))
    assert flow.post("/", Document(text="x")).texts == ["X?"]


def test_env_substitution_and_unset_variables(monkeypatch):
    monkeypatch.setenv("TEST_FLOW_PORT", "23456")
    flow = Flow.load_config("jtype: Flow\nwith:\n  port: ${{ ENV.TEST_FLOW_PORT }}\n")
    assert flow.port == 23456
    monkeypatch.delenv("TEST_FLOW_PORT")
    with pytest.raises(BadConfig, match=r"<yaml string>:3: \$\{\{ ENV.TEST_FLOW_PORT \}\} is used but"):
        Flow.load_config("jtype: Flow\nwith:\n  port: ${{ ENV.TEST_FLOW_PORT }}\n")


def test_save_and_load_round_trip(tmp_path):
    flow = (
        Flow(protocol=["grpc", "http"], port=[12345, 12346], cors=True, prefetch=5,
             expose_endpoints={"/foo": {"summary": "s"}})
        .add(uses="tests.executors.Appender", name="a", uses_with={"letter": "x"}, replicas=2)
        .add(uses="Shouter", name="b", needs="a", py_modules=[str(YAML / "shouter.py")], env={"K": "v"})
        .add(name="c", needs=["a", "b"])
    )  # fmt: skip
    path = tmp_path / "flow.yml"
    flow.save_config(path)
    again = Flow.load_config(path)
    again.save_config(tmp_path / "again.yml")
    assert (tmp_path / "again.yml").read_text() == path.read_text()
    assert again.protocols == ["grpc", "http"] and again.ports == {"grpc": 12345, "http": 12346}
    assert [(e.name, e.needs, e.replicas) for e in again.executors] == [
        ("a", (), 2), ("b", ("a",), 1), ("c", ("a", "b"), 1),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("jtype: Flow\nwith:\n  port: [1, 2\n", r"<yaml string>:4: not valid YAML"),
        (
            "jtype: Flow\nwith:\n  protocl: grpc\n",
            r"<yaml string>:3: .*unknown option 'protocl'; did you mean 'protocol'",
        ),
        ("jtype: Flow\nexecutors:\n  - name: a\n    replcas: 2\n", r":4: .*'replcas'; did you mean 'replicas'"),
        ("jtype: Flow\nexecutors:\n  - name: a\n    needs: ghost\n", r":2: executor 'a' needs 'ghost'"),
        ("jtype: Flow\nexecutors:\n  - {name: a, needs: b}\n  - {name: b, needs: a}\n", r"cycle: a -> b -> a"),
        ("jtype: Flw\n", r":1: expected `jtype: Flow`"),
        ("jtype: Flow\nwith:\n  cors: maybe\n", r":3: cors must be true or false"),
        ("jtype: Flow\nexecutor:\n  - name: a\n", r":2: unknown key 'executor'"),
        ("missing.yml", r"missing.yml: no such file"),
        ("jtype: Flow\nversion: '2'\n", r"<yaml string>:2: version '2' is not a Flow YAML version"),
        (
            "jtype: Flow\ngateway:\n  port: [1]\n  protocl: [GRPC]\n",
            r":4: gateway: got an unknown option 'protocl'; did",
        ),
        ("jtype: Flow\ngateway: [grpc]\n", r":2: `gateway` must be a mapping"),
        ("jtype: Flow\nwith: {protocol: grpc}\ngateway:\n  port: [1, 2]\n", r":4: port: 2 ports for 1 protocols"),
        (
            "jtype: Flow\nexecutors:\n  - name: a\n    compression: gzip\n",
            r":4: 'compression' is a Flow option here and cannot differ per executor",
        ),
        ("jtype: Flow\nexecutors:\n  - name: a\n    polling: '{\"/\": ALL'\n", r":4: .* is neither a mapping nor JSON"),
        ("jtype: Flow\nwith:\n  port: ${MISSING_PORT:-80}\n", r":3: .*`\$\{` starts a variable"),
        ("jtype: Flow\nexecutors:\n  - name: a\n    external: true\n    host: [10.0.0.1]\n", r":5: .*has no port"),
        ("jtype: Flow\nexecutors:\n  - name: a\n  - name: a\n", r":4: an Executor named 'a' is already"),
    ],
)
def test_errors_name_the_file_and_line(text, message):
    with pytest.raises(BadConfig, match=message):
        Flow.load_config(text)


def test_bad_yaml_file_error_names_the_file(tmp_path):
    path = tmp_path / "flow.yml"
    path.write_text("jtype: Flow\nwith:\n  protocol: [grpc\n")
    with pytest.raises(BadConfig) as info:
        Flow.load_config(path)
    assert str(info.value).startswith(f"{path}:4: not valid YAML")
    assert json.dumps(str(info.value))


# -- YAML as real Jina writes it -----------------------------------------------------------------


def test_real_jina_saved_fixture_loads():
    flow = Flow.load_config(YAML / "jina_saved_flow.yml")
    assert flow.protocols == ["grpc", "http"] and flow.ports == {"grpc": 12345, "http": 12346}
    assert flow.options == {"cors": True}
    shout, remote, join = flow.executors
    assert (shout.name, shout.uses, shout.replicas, shout.uses_with, shout.env) == (
        "shout", "EnvShouter", 2, {"suffix": "!"}, {"SHOUT_ENV": "from-yaml"},
    )  # fmt: skip
    assert shout.py_modules == (str(YAML / "env_shouter.py"),)
    assert shout.port is None  # Jina's `port` of a replicated executor is not used by Jina either
    assert (remote.needs, remote.external_hosts, remote.tls) == (("gateway",), ("10.0.0.5:8081",), False)
    assert sorted(join.needs) == ["remote", "shout"]
    assert join.port == yaml.safe_load((YAML / "jina_saved_flow.yml").read_text())["executors"][2]["port"][0]


def _fixture_copy(tmp_path: Path, remote_port: int) -> tuple[Path, dict[str, int]]:
    """jina_saved_flow.yml with free ports, and `remote` on 127.0.0.1:remote_port (the rest as Jina wrote it)."""
    text = (YAML / "jina_saved_flow.yml").read_text()
    data = yaml.safe_load(text)
    ports = {"grpc": free_port(), "http": free_port()}
    replace = {
        data["gateway"]["port"][0]: ports["grpc"],
        data["gateway"]["port"][1]: ports["http"],
        data["executors"][1]["port"][0]: remote_port,
        data["executors"][2]["port"][0]: free_port(),
    }
    for old, new in replace.items():
        text, count = re.subn(rf"^(\s*- ){old}$", rf"\g<1>{new}", text, flags=re.MULTILINE)
        assert count
    text = text.replace("- 10.0.0.5\n", "- 127.0.0.1\n")
    (tmp_path / "env_shouter.py").write_text((YAML / "env_shouter.py").read_text())
    path = tmp_path / "jina_saved_flow.yml"
    path.write_text(text)
    return path, ports


def test_real_jina_saved_fixture_serves_with_its_external_executor(flows, tmp_path):
    remote_port = free_port()
    path, ports = _fixture_copy(tmp_path, remote_port)
    tagger = ("--port", str(remote_port), "--name", "remote", "--uses", "tests.executors.Tagger")
    with running("executor", remote_port, *tagger):
        flow = flows(Flow.load_config(path))
        assert flow.ports == ports
        with Client(port=ports["grpc"]) as client:
            docs = client.post("/", [Document(text=f"hi {i}") for i in range(4)])
        assert docs.texts == [f"HI {i}!" for i in range(4)]
        assert {(d.tags["env"], d.tags["remote"]) for d in docs} == {("from-yaml", True)}
        response = httpx.post(f"http://127.0.0.1:{ports['http']}/post", json={"data": [{"text": "web"}]})
        assert response.json()["data"][0]["text"] == "WEB!"
        assert response.headers.get("access-control-allow-origin") is None  # no Origin sent
        preflight = httpx.options(
            f"http://127.0.0.1:{ports['http']}/post",
            headers={"Origin": "http://example.com", "Access-Control-Request-Method": "POST"},
        )
        assert preflight.headers["access-control-allow-origin"] in ("*", "http://example.com")  # cors: true


def test_the_gateway_section_wins_over_with_and_reads_jina_spellings(caplog):
    caplog.set_level(logging.WARNING, logger="jina")
    flow = Flow.load_config(
        "jtype: Flow\nversion: '1'\n"
        "with: {protocol: http, port: 1234, cors: false, title: from-with, prefetch: 3}\n"
        "gateway:\n"
        '  protocol: ["GRPC", "Http"]\n'
        "  port: [4321, 4322]\n"
        "  port_monitoring: [62357]\n"
        "  cors: true\n"
        '  expose_endpoints: \'{"/foo": {"summary": "s"}}\'\n'
        "  host: 127.0.0.1\n"
        "  timeout_send: 1000\n"
        "  compression: Gzip\n"
        "  no_crud_endpoints: true\n"
    )
    assert flow.protocols == ["grpc", "http"] and flow.ports == {"grpc": 4321, "http": 4322}
    assert (flow.host, flow.prefetch, flow.timeout_send, flow.compression) == ("127.0.0.1", 3, 1000, "gzip")
    assert flow.options == {
        "cors": True, "title": "from-with", "expose_endpoints": {"/foo": {"summary": "s"}}, "no_crud_endpoints": True,
    }  # fmt: skip
    assert "port_monitoring" not in caplog.text


@pytest.mark.parametrize("version", ["'1'", "1", "'1.0'", "1.0"])
def test_version_one_and_jinas_flow_tag_are_accepted(version):
    assert Flow.load_config(f"jtype: Flow\nversion: {version}\n").executors == ()
    assert Flow.load_config(f"!Flow\nversion: {version}\nexecutors: [{{name: a}}]\n").executor_names == ["a"]


def test_executor_keys_jina_writes_are_read_as_jina_means_them():
    flow = Flow.load_config(
        "jtype: Flow\n"
        "with: {host: 127.0.0.1, title: T, compression: Gzip, timeout_send: 1000, cors: true}\n"
        "deployments:\n"  # Jina's other name for `executors`
        "- name: a\n"
        '  polling: \'{"/search": "ALL", "*": "ANY"}\'\n'  # Jina saves a policy map as JSON
        "  shards: 2\n"
        "  host: [127.0.0.1]\n"  # the Flow's, copied into every executor by Jina
        "  port: [52085]\n"  # picked by Jina; not used with several processes
        "  port_monitoring: 52352\n"
        "  title: T\n"
        "  compression: Gzip\n"
        "  timeout_send: 1000\n"
        "  cors: true\n"
        '- {needs: [gateway], name: b, polling: "ANY", host: [10.0.0.5], port: [8081], external: true, cors: true}\n'
        "- {name: c, host: [10.0.0.5, 10.0.0.6], port: [8081, 8082], external: true, tls: true, needs: [gateway]}\n"
        "- {name: d, host: [ext.example.com], port: ['443'], external: true, tls: true, needs: [a, b, c]}\n"
        "- {name: e, port: [50999]}\n"
    )
    a, b, c, d, e = flow.executors
    assert (a.polling, a.shards, a.port) == ({"/search": "ALL", "*": "ANY"}, 2, None)
    assert (b.external_hosts, b.needs) == (("10.0.0.5:8081",), ("gateway",))
    assert (c.external_hosts, c.tls, c.replicas) == (("10.0.0.5:8081", "10.0.0.6:8082"), True, 1)
    assert (d.external_hosts, d.tls) == (("ext.example.com:443",), True)
    assert e.port == 50999


def test_env_variables_in_all_forms(monkeypatch):
    monkeypatch.setenv("TEST_YAML_PORT", "23456")
    monkeypatch.setenv("TEST_YAML_NAME", "enc")
    monkeypatch.setenv("TEST_YAML_PORTS", "[23457, 23458]")
    monkeypatch.delenv("TEST_YAML_UNSET", raising=False)
    flow = Flow.load_config(
        "jtype: Flow\n"
        "with:\n"
        "  port: $TEST_YAML_PORT   # a comment is not read: $TEST_YAML_UNSET ${{ ENV.TEST_YAML_UNSET }}\n"
        "executors:\n"
        "  - name: ${TEST_YAML_NAME}-1\n"
        "    uses_with:\n"
        "      quoted: '$TEST_YAML_PORT'\n"
        "      number: ${{ ENV.TEST_YAML_PORT }}\n"
        "      list: $TEST_YAML_PORTS\n"
        "      dollar: 'costs $$5, $$TEST_YAML_NAME is literal, so is $5 and a$'\n"
        "      $TEST_YAML_NAME: keys are not substituted\n"
        "      block: |\n"
        "        first $TEST_YAML_NAME\n"
    )
    assert flow.port == 23456
    (executor,) = flow.executors
    assert executor.name == "enc-1"
    assert executor.uses_with == {
        "quoted": "23456",
        "number": 23456,
        "list": [23457, 23458],
        "dollar": "costs $5, $TEST_YAML_NAME is literal, so is $5 and a$",
        "$TEST_YAML_NAME": "keys are not substituted",
        "block": "first enc\n",
    }


@pytest.mark.parametrize(
    ("reference", "line"),
    [
        ("$TEST_YAML_UNSET", 3),
        ("${TEST_YAML_UNSET}", 3),
        ("'x ${{ ENV.TEST_YAML_UNSET }}'", 3),
        ("|\n    $TEST_YAML_UNSET", 4),
    ],
)
def test_an_unset_variable_is_an_error_naming_it(monkeypatch, tmp_path, reference, line):
    monkeypatch.delenv("TEST_YAML_UNSET", raising=False)
    path = tmp_path / "flow.yml"
    path.write_text(f"jtype: Flow\nwith:\n  title: {reference}\n")
    with pytest.raises(BadConfig) as info:
        Flow.load_config(path)
    shown = reference.strip("'|\n ").removeprefix("x ")
    assert str(info.value) == f"{path}:{line}: {shown} is used but TEST_YAML_UNSET is not set"


def test_save_writes_jina_layout_and_loads_back_identically(tmp_path):
    flow = (
        Flow(protocol=["grpc", "http"], port=[12345, 12346], cors=True, prefetch=5, compression="gzip",
             title="T", env={"FLOW": "1"}, workspace=str(tmp_path / "ws"))
        .add(name="a", uses="tests.executors.Appender", uses_with={"letter": "x"}, replicas=2, shards=2,
             polling={"/search": "ALL", "*": "ANY"}, uses_metas={"name": "meta-a"}, uses_requests={"/x": "append"},
             uses_dynamic_batching={"/": {"preferred_batch_size": 4, "timeout": 10}}, workspace=str(tmp_path / "w"))
        .add(name="b", host="10.0.0.5", port=8081, external=True, needs="gateway")
        .add(name="c", host=["grpcs://10.0.0.6:8082", "grpcs://10.0.0.7:8083"], external=True, needs="gateway")
        .add(name="d", needs=["a", "b", "c"], no_reduce=True, port=50999, env={"K": "v"})
    )  # fmt: skip
    path = tmp_path / "flow.yml"
    flow.save_config(path)
    data = yaml.safe_load(path.read_text())
    assert list(data) == ["jtype", "version", "with", "executors", "gateway"] and data["version"] == "1"
    assert data["gateway"] == {
        "protocol": ["GRPC", "HTTP"], "port": [12345, 12346], "prefetch": 5, "compression": "gzip",
        "cors": True, "title": "T",
    }  # fmt: skip
    assert data["executors"][1] == {
        "name": "b",
        "needs": ["gateway"],
        "external": True,
        "host": "10.0.0.5",
        "port": 8081,
    }
    assert data["executors"][2]["host"] == ["10.0.0.6", "10.0.0.7"] and data["executors"][2]["tls"] is True
    again = Flow.load_config(path)
    assert again.executors == flow.executors
    assert (again.protocols, again.ports, again.prefetch, again.compression, again.options) == (
        flow.protocols, flow.ports, flow.prefetch, flow.compression, flow.options,
    )  # fmt: skip
    again.save_config(tmp_path / "again.yml")
    assert (tmp_path / "again.yml").read_text() == path.read_text()


SCRIPT_CLASS = """
import sys
from pathlib import Path
from docarray import Document
from jina import Executor, Flow, requests


class MyExec(Executor):
    @requests
    def mark(self, docs, **kwargs):
        for doc in docs:
            doc.text += " (MyExec of the script)"


mode = sys.argv[1]
if mode == "string":
    flow = Flow.load_config("jtype: Flow\\nexecutors:\\n  - {name: mine, uses: MyExec}\\n")
elif mode == "file":
    Path("flow.yml").write_text("jtype: Flow\\nexecutors:\\n  - name: mine\\n    uses: MyExec\\n")
    flow = Flow.load_config("flow.yml")
else:  # saved by name, as Jina saves a class of the script, and loaded back
    Flow().add(uses=MyExec, name="mine").save_config("saved.yml")
    print(Path("saved.yml").read_text(), file=sys.stderr)
    flow = Flow.load_config("saved.yml")
with flow:
    print(flow.post("/", Document(text=mode)).texts[0])
"""


@pytest.mark.parametrize("mode", ["string", "file", "saved"])
def test_uses_a_class_defined_in_the_calling_script(tmp_path, mode):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT_CLASS)
    result = run_python(script, mode, cwd=tmp_path, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == f"{mode} (MyExec of the script)"
    if mode == "saved":
        assert "uses: MyExec" in result.stderr
