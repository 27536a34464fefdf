"""Flows from YAML: the seed's forms, uses forms, substitution, round trips, and errors with file:line."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from docarray import Document

from jina import Client, Flow
from jina.excepts import BadConfig
from tests.conftest import ROOT

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


def test_a_class_in_a_script_cannot_be_saved(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(
        "from jina import Executor, Flow\nclass Mine(Executor):\n    pass\n"
        f"Flow().add(uses=Mine).save_config({str(tmp_path / 'x.yml')!r})\n"
    )
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env={
        **__import__("os").environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
    assert result.returncode != 0
    assert "Mine is defined in a script" in result.stderr


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
