"""Flow YAML across real Jina 3.34 and this project: Jina's own saved file is a fixture (that
tests/jina/flow/test_yaml.py loads and serves), and a file this project saves serves in real Jina."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import yaml

from jina import Flow
from jina.flow.ports import free_port
from tests.conftest import running
from tests.interop.conftest import run_real_jina, start_real_jina, stop

YAML = Path(__file__).parent.parent / "jina" / "flow" / "yaml"


def _comparable(path: Path) -> dict:
    """A saved Flow YAML without what Jina picks at random: monitoring ports and local executors' ports."""
    data = yaml.safe_load(path.read_text())
    data["gateway"].pop("port_monitoring")
    for executor in data["executors"]:
        executor.pop("port_monitoring")
        if not executor.get("external"):
            executor.pop("port")
        if "needs" in executor:
            executor["needs"] = sorted(executor["needs"])
    return data


def test_the_fixture_is_what_real_jina_writes(real_jina_python, tmp_path):
    result = run_real_jina(real_jina_python, "save_flow.py", str(tmp_path / "saved.yml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert _comparable(tmp_path / "saved.yml") == _comparable(YAML / "jina_saved_flow.yml")


def test_a_flow_yaml_saved_here_serves_in_real_jina(real_jina_python, tmp_path):
    grpc_port, http_port, remote_port = free_port(), free_port(), free_port()
    flow = (
        Flow(protocol=["grpc", "http"], port=[grpc_port, http_port], cors=True,
             expose_endpoints={"/shout": {"methods": ["POST"], "summary": "shouts"}})
        .add(name="shout", uses="EnvShouter", py_modules=[str(YAML / "env_shouter.py")], replicas=2,
             env={"SHOUT_ENV": "from-ours"}, uses_with={"suffix": "!"})
        .add(name="second", uses="Shouter", py_modules=[str(YAML / "shouter.py")], uses_with={"suffix": "?"},
             needs="shout", shards=2, polling={"/": "ANY", "*": "ANY"})
        .add(name="remote", host="127.0.0.1", port=remote_port, external=True)
    )  # fmt: skip
    path = tmp_path / "ours.yml"
    flow.save_config(path)
    assert "gateway:" in path.read_text() and "version: '1'" in path.read_text()
    tagger = ("--port", str(remote_port), "--name", "remote", "--uses", "tests.executors.Tagger")
    with running("executor", remote_port, *tagger):
        proc = start_real_jina(real_jina_python, "serve_yaml.py", str(path), cwd=tmp_path)
        try:
            for protocol, port in (("grpc", grpc_port), ("http", http_port)):
                result = run_real_jina(real_jina_python, "post_docs.py", protocol, str(port), "/", cwd=tmp_path)
                assert result.returncode == 0, result.stderr
                docs = json.loads(result.stdout.strip().splitlines()[-1])
                assert [d["text"] for d in docs] == ["HELLO!?", "WORLD!?"], protocol
                assert {(d["tags"]["env"], d["tags"]["remote"]) for d in docs} == {("from-ours", True)}
            exposed = httpx.post(f"http://127.0.0.1:{http_port}/shout", json={"data": [{"text": "x"}]}, timeout=30)
            assert exposed.json()["data"][0]["text"] == "X!?"
            preflight = httpx.options(
                f"http://127.0.0.1:{http_port}/post",
                headers={"Origin": "http://example.com", "Access-Control-Request-Method": "POST"},
            )
            assert preflight.headers["access-control-allow-origin"] == "http://example.com"
        finally:
            stop(proc)
