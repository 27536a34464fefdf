"""Start order does not matter: a gateway serves its health before its executors answer, and follows them."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import grpc
import pytest
from docarray import Document
from google.protobuf import empty_pb2
from jina_mesh.services.gateway.servicer import READINESS_GATED

from jina.flow.ports import free_port
from jina.proto import jina_pb2, jina_pb2_grpc
from tests.conftest import ROOT, stop_processes
from tests.services.conftest import start_executor
from tests.services.gateway.processes import health, wait_health

DATA_SERVICES = [s for s in READINESS_GATED if s]


def post(address: str, text: str) -> list[str]:
    request = jina_pb2.DataRequestProto()
    request.header.exec_endpoint = "/"
    request.data.docs.docs.append(Document(text=text).to_protobuf())
    with grpc.insecure_channel(address) as channel:
        response = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel).process_single_data(request, timeout=10)
    return [doc.text for doc in response.data.docs.docs]


def start_gateway(*args: str) -> subprocess.Popen:
    """`jina gateway` as a container runs it, on 127.0.0.1; returns once it serves (not: once ready)."""
    port = int(args[args.index("--port") + 1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "jina", "gateway", "--host", "127.0.0.1", "--log-level", "WARNING", *args],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while health(f"127.0.0.1:{port}", "jina.JinaInfoRPC") != "SERVING":
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_processes(proc)
            raise RuntimeError("the gateway did not come up")
        time.sleep(0.05)
    return proc


def appender(letter: str, port: int) -> subprocess.Popen:
    proc, _ = start_executor("tests.executors:Appender", "a", "--uses-with", f'{{"letter": "{letter}"}}', port=port)
    return proc


def test_a_gateway_started_before_its_executor_serves_once_the_executor_answers():
    executor_port, port = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    gateway = start_gateway("--port", str(port), "--executors", f"a=127.0.0.1:{executor_port}")
    executor = None
    try:
        assert health(address) == "NOT_SERVING"
        assert {s: health(address, s) for s in DATA_SERVICES} == dict.fromkeys(DATA_SERVICES, "NOT_SERVING")
        # liveness: the process itself answers, and _status needs no executor
        assert health(address, "jina.JinaInfoRPC") == "SERVING"
        with grpc.insecure_channel(address) as channel:
            assert jina_pb2_grpc.JinaInfoRPCStub(channel)._status(empty_pb2.Empty(), timeout=5).jina

        executor = appender("1", executor_port)
        assert wait_health(address, "SERVING", 5) < 5
        assert {s: health(address, s) for s in DATA_SERVICES} == dict.fromkeys(DATA_SERVICES, "SERVING")
        assert post(address, "x") == ["x1"]
    finally:
        stop_processes(gateway, executor)


def test_an_executor_that_restarts_takes_the_gateway_out_of_service_and_back():
    executor_port, port = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    executor = appender("1", executor_port)
    gateway = restarted = None
    try:
        gateway = start_gateway("--port", str(port), "--executors", f"a=127.0.0.1:{executor_port}")
        wait_health(address, "SERVING", 10)
        assert post(address, "x") == ["x1"]

        executor.kill()
        executor.wait(10)
        wait_health(address, "NOT_SERVING", 6)

        restarted = appender("2", executor_port)
        wait_health(address, "SERVING", 6)
        assert post(address, "y") == ["y2"]
    finally:
        stop_processes(gateway, executor, restarted)


def test_a_gateway_without_executors_serves():
    port = free_port()
    gateway = start_gateway("--port", str(port))
    try:
        wait_health(f"127.0.0.1:{port}", "SERVING", 5)
    finally:
        stop_processes(gateway)


def test_an_executor_named_by_dns_is_resolved_by_the_gateway():
    executor_port, port = free_port(), free_port()
    executor = appender("n", executor_port)
    gateway = None
    try:
        gateway = start_gateway("--port", str(port), "--executors", f"a=localhost:{executor_port}")
        wait_health(f"127.0.0.1:{port}", "SERVING", 10)
        assert post(f"127.0.0.1:{port}", "x") == ["xn"]
    finally:
        stop_processes(gateway, executor)


def _loopback_alias() -> str | None:
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.2", 0))
    except OSError:
        return None
    return "127.0.0.2"


@pytest.mark.skipif(_loopback_alias() is None, reason="127.0.0.2 is not loopback here (not Linux)")
def test_internal_host_says_where_the_internal_port_binds():
    port, internal = free_port(), free_port()
    gateway = start_gateway("--port", str(port), "--internal-port", str(internal), "--internal-host", "127.0.0.2")
    try:
        assert health(f"127.0.0.2:{internal}") == "SERVING"
        assert health(f"127.0.0.1:{internal}") == "UNAVAILABLE"  # not on the default 127.0.0.1
    finally:
        stop_processes(gateway)


def test_a_negative_resolve_interval_is_refused():
    result = subprocess.run(
        [sys.executable, "-m", "jina", "gateway", "--port", str(free_port()), "--resolve-interval", "-1"],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert "--resolve-interval: -1: give seconds >= 0" in result.stderr
