"""Deployment: one Executor served on its own, reached by a Client as a Flow is."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pytest
from docarray import Document, DocumentArray

from jina import Client, Deployment
from jina.excepts import BadConfig
from jina.flow.ports import free_port
from tests import executors
from tests.conftest import ROOT, stop_processes


def test_a_deployment_serves_its_executor_with_replicas_over_http():
    port = free_port()
    dep = Deployment(uses=executors.Tagger, name="tagger", port=port, replicas=2, protocol="http")
    with dep:
        assert dep.port == port and dep.protocol == "http" and dep.name == "tagger"
        with Client(port=port, protocol="http") as client:
            docs = client.post("/", DocumentArray([Document(text=str(i)) for i in range(8)]), request_size=1)
        assert {d.tags["tagger_pid"] for d in docs} == {float(pid) for n, pid in dep.pids.items() if "rep-" in n}
        assert dep.post("/", Document(text="x"))[0].tags["tagger"] is True


def test_block_serves_until_the_stop_event(tmp_path):
    port = free_port()
    stop = threading.Event()
    dep = Deployment(uses="tests.executors.Appender", uses_with={"letter": "D"}, port=port)
    answers = []

    def serve():
        with dep:
            dep.block(stop_event=stop)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        for _ in range(150):
            with Client(port=port) as probe:
                if probe.is_flow_ready(timeout=1):
                    break
            threading.Event().wait(0.2)
        with Client(port=port) as client:
            answers.append(client.post("/", Document(text="x"))[0].text)
    finally:
        stop.set()
        thread.join(30)
    assert answers == ["xD"]
    assert not thread.is_alive()


def test_yaml_round_trip_as_jina_writes_it(tmp_path):
    port = free_port()
    path = tmp_path / "dep.yml"
    # what Jina 3.34's Deployment.save_config writes (protocol as an upper-case list, port_monitoring)
    path.write_text(
        'jtype: Deployment\nwith:\n  name: ex\n  polling: "ANY"\n  replicas: 2\n  uses: tests.executors.Appender\n'
        f'  uses_with:\n    letter: Y\n  port: {port}\n  protocol:\n  - "GRPC"\n  port_monitoring: 58306\n'
    )
    dep = Deployment.load_config(str(path))
    assert (dep.name, dep.port, dep.protocol, dep.flow.executors[0].replicas) == ("ex", port, "grpc", 2)
    saved = tmp_path / "saved.yml"
    dep.save_config(saved)
    again = Deployment.load_config(saved)
    assert (again.name, again.port, again.flow.executors[0].uses_with) == ("ex", port, {"letter": "Y"})
    with again:
        assert again.post("/", Document(text="x"))[0].text == "xY"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"include_gateway": False}, "include_gateway=False. is not offered"),
        ({"needs": "a"}, "unknown option 'needs'"),
        ({"replicaz": 2}, "did you mean 'replicas'"),
    ],
)
def test_bad_deployment_options_are_errors(options, message):
    with pytest.raises(BadConfig, match=message):
        Deployment(uses="tests.executors.Appender", **options)


def test_a_yaml_that_is_not_a_deployment_is_refused(tmp_path):
    with pytest.raises(BadConfig, match="jtype: Deployment"):
        Deployment.load_config("jtype: Flow\nwith: {}\n")


SERVE_SCRIPT = """
import sys
from jina import Executor, requests

class Shouter(Executor):  # defined in the script: handed to the executor process by value
    @requests
    def shout(self, docs, **kwargs):
        for doc in docs:
            doc.text = doc.text.upper()

if __name__ == "__main__":
    Shouter.serve(port=int(sys.argv[1]), protocol=sys.argv[2])
"""


@pytest.mark.parametrize("protocol", ["grpc", "websocket"])
def test_executor_serve_blocks_and_serves_until_sigterm(tmp_path, protocol):
    script = tmp_path / "serve.py"
    script.write_text(SERVE_SCRIPT)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(script), str(port), protocol],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with Client(port=port, protocol=protocol) as probe:
                if probe.is_flow_ready(timeout=1):
                    break
            assert proc.poll() is None, "Executor.serve() exited"
            time.sleep(0.2)
        with Client(port=port, protocol=protocol) as client:
            assert client.post("/", Document(text="hey")).texts == ["HEY"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        stop_processes(proc)


def test_jina_deployment_command_serves_a_deployment_yaml(tmp_path):
    path = tmp_path / "dep.yml"
    path.write_text(
        "jtype: Deployment\nwith:\n  uses: tests.executors.Appender\n  uses_with: {letter: $LETTER}\n"
        "  protocol: [grpc, http]\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "jina", "deployment", "--uses", str(path)],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT), "LETTER": "Q"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        lines = [proc.stdout.readline().split() for _ in range(2)]
        ports = {protocol: int(address.rsplit(":", 1)[1]) for protocol, address in lines}
        with Client(port=ports["grpc"]) as client:
            assert client.post("/", Document(text="a")).texts == ["aQ"]
        with Client(port=ports["http"], protocol="http") as client:
            assert client.post("/", Document(text="b")).texts == ["bQ"]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
