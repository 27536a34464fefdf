"""`cd deploy && docker compose up`: the demo Flow in containers answers grpcurl, gRPC, HTTP and WebSocket."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from jina import Client
from jina.flow.ports import free_port
from tests.conftest import ROOT, require
from tests.docker.conftest import ComposeProject, docker, wait_until


@pytest.fixture(scope="module")
def demo(engine):
    """deploy/ as it is, on free host ports (JINA_GATEWAY_PORT, JINA_BRIDGE_PORT)."""
    grpc_port, http_port = free_port(), free_port()
    project = ComposeProject(ROOT / "deploy", {"JINA_GATEWAY_PORT": str(grpc_port), "JINA_BRIDGE_PORT": str(http_port)})
    try:
        project.up()
        yield project, grpc_port, http_port
    finally:
        project.down()


def test_demo_flow_serves_every_protocol_from_its_containers(demo, grpcurl):
    curl = require(shutil.which("curl"), "curl", "apt-get install curl")
    _, grpc_port, http_port = demo

    status = subprocess.run(
        [grpcurl, "-plaintext", f"127.0.0.1:{grpc_port}", "jina.JinaInfoRPC/_status"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["jina"]["jina"] == __import__("jina").__version__

    docs = Client(port=grpc_port).post("/shout", ["hello world"])
    assert docs.texts == ["HELLO WORLD"]
    assert docs[0].tags["words"] == 2

    posted = subprocess.run(
        [curl, "-s", "-f", f"http://127.0.0.1:{http_port}/post", "-H", "content-type: application/json",
         "-d", json.dumps({"data": [{"text": "over http"}], "execEndpoint": "/shout"})],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert posted.returncode == 0, posted.stderr
    assert [d["text"] for d in json.loads(posted.stdout)["data"]] == ["OVER HTTP"]
    assert json.loads(subprocess.run([curl, "-s", "-f", f"http://127.0.0.1:{http_port}/status"],
                                     capture_output=True, text=True, timeout=30).stdout)["jina"]  # fmt: skip

    assert Client(port=http_port, protocol="websocket").post("/shout", ["over ws"]).texts == ["OVER WS"]


def test_only_the_public_ports_are_published_and_only_on_loopback(demo):
    project, grpc_port, http_port = demo
    published = {}
    for service in ("counter", "shouter", "gateway", "bridge"):
        (container,) = project.containers(service)
        ports = json.loads(docker("inspect", "--format", "{{json .NetworkSettings.Ports}}", container).stdout)
        published[service] = sorted((b["HostIp"], b["HostPort"]) for bindings in ports.values() if bindings
                                    for b in bindings)  # fmt: skip
        user = docker("inspect", "--format", "{{.Config.User}}", container).stdout.strip()
        assert user and user not in ("root", "0"), f"{service} runs as {user!r}"
    assert published == {
        "counter": [],
        "shouter": [],
        "gateway": [("127.0.0.1", str(grpc_port))],
        "bridge": [("127.0.0.1", str(http_port))],
    }


def test_an_executor_container_that_restarts_is_reconnected(demo):
    project, grpc_port, _ = demo
    client = Client(port=grpc_port)
    assert client.post("/", ["before restart"])[0].tags["words"] == 2
    (counter,) = project.containers("counter")
    docker("restart", "-t", "1", counter)
    wait_until(lambda: _answers(client), 60, what="the gateway to reach the restarted executor")
    assert client.post("/", ["after the restart"])[0].tags["words"] == 3


def _answers(client: Client) -> bool:
    try:
        return client.post("/", ["x"])[0].tags.get("words") == 1
    except Exception:
        return False
