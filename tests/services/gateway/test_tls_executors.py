"""`"tls": true` in the topology: the gateway dials the executor over TLS, verifying its certificate."""

from __future__ import annotations

import subprocess
import sys
import time

import grpc
import pytest

from jina.documents import docs_from_content
from jina.flow.ports import free_port
from tests.conftest import ROOT, stop_processes
from tests.services.gateway.processes import gateway, health, post, wait_health


@pytest.fixture(scope="module")
def tls_executor(pki):
    """An Appender served over TLS by the `jina executor` command; its port."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jina", "executor", "--ssl-certfile", pki["cert"], "--ssl-keyfile", pki["key"]]
        + ["--uses", "tests.executors:Appender", "--uses-with", '{"letter": "s"}', "--name", "secure"]
        + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "WARNING"],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )
    yield port
    stop_processes(proc)


def topology(port: int, tls: bool) -> dict:
    return {"executors": [{"name": "secure", "addresses": [f"127.0.0.1:{port}"], "tls": tls}]}


def test_a_tls_executor_is_reached_when_its_ca_is_trusted(tls_executor, pki, tmp_path):
    port = free_port()
    address = f"127.0.0.1:{port}"
    roots = {"GRPC_DEFAULT_SSL_ROOTS_FILE_PATH": pki["ca"]}
    with gateway(port, topology(tls_executor, True), tmp_path / "gateway.log", env=roots):
        wait_health(address, "SERVING", 15)
        response = post(address, "/", texts=["x"])
    assert docs_from_content(response.data).texts == ["xs"]
    assert [r.executor for r in response.routes] == ["gateway", "secure"]


@pytest.mark.parametrize("tls", [True, False], ids=["untrusted-certificate", "plaintext-to-tls"])
def test_a_tls_executor_is_not_reached_without_trust_or_without_tls(tls_executor, tls, tmp_path):
    port = free_port()
    address = f"127.0.0.1:{port}"
    with gateway(port, topology(tls_executor, tls), tmp_path / "gateway.log", "--warmup-timeout", "1"):
        time.sleep(1.5)  # a few probes
        assert health(address) == "NOT_SERVING"
        with pytest.raises(grpc.RpcError) as info:
            post(address, "/")
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE
    # the address and gRPC's TLS text are internal: the caller is told which executor (issue 11)
    assert info.value.details() == "executor 'secure' is unreachable (UNAVAILABLE)"
