"""Interop on the wire with a real Jina 3.34 (installed apart, see scripts/install-real-jina.sh)."""

from __future__ import annotations

import json
import time

import pytest
from docarray import Document

from jina import Client
from jina.excepts import ExecutorError
from jina.flow.ports import free_port
from tests.interop.conftest import run_real_jina, start_real_jina, stop


def test_real_jina_client_posts_to_our_gateway(real_jina_python, served_flow, tmp_path):
    result = run_real_jina(real_jina_python, "client.py", "grpc", str(served_flow.port), "/", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["texts"] == ["hello!", "world!"]
    # our executor's error reaches real Jina's client as its BadServer, naming the exception
    assert out["error"].startswith("BadServer") and "boom from executor" in out["error"]
    assert out["after_error"] == ["again!"]


@pytest.fixture(scope="module")
def real_flow(real_jina_python, tmp_path_factory):
    port = free_port()
    proc = start_real_jina(real_jina_python, "serve.py", str(port), cwd=tmp_path_factory.mktemp("real"))
    yield port
    stop(proc)


def test_our_client_posts_to_a_real_jina_flow(real_flow):
    with Client(port=real_flow) as client:
        docs = client.post("/", [Document(text="a"), Document(text="b")])
        assert docs.texts == ["a (real jina)", "b (real jina)", "appended by real jina"]
        with pytest.raises(ExecutorError, match="ValueError: real jina boom"):
            client.post("/fail", Document(text="x"))
        assert client.post("/", Document(text="c")).texts == ["c (real jina)", "appended by real jina"]
        assert client.is_flow_ready()


def test_our_gateway_in_front_of_a_real_jina_executor(real_jina_python, tmp_path):
    port = free_port()
    proc = start_real_jina(real_jina_python, "executor.py", str(port), cwd=tmp_path)
    try:
        # the gateway alone, told where the executor is: how docker-compose wires it
        flow_port = free_port()
        from jina.flow import launcher

        gateway = launcher.ServiceProcess(
            "gateway",
            launcher.python_argv(
                "gateway", "--port", str(flow_port), "--host", "127.0.0.1", "--executors", f"real=127.0.0.1:{port}"
            ),
            launcher.child_env(),
            flow_port,
        )
        gateway.start()
        try:
            launcher.wait_ready([gateway], timeout=30)
            with Client(port=flow_port) as client:
                response = client.post("/", Document(text="x"), return_responses=True)[0]
            assert response.docs.texts == ["x (real executor)"]
            assert [r.executor for r in response.routes] == ["gateway", "real"]
            started = time.monotonic()
        finally:
            launcher.stop_all([gateway], grace=5)
        assert time.monotonic() - started < 3
    finally:
        stop(proc)
