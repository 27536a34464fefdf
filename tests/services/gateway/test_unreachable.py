"""An executor nobody listens for (an external one that is down): the gateway starts, says
NOT_SERVING and which executor it waits for, fails requests naming the executor (its address only
with --debug: see test_sanitized_errors.py), and serves once the executor comes up."""

from __future__ import annotations

import time

import grpc
import pytest
from google.protobuf import empty_pb2

from jina.documents import docs_from_content
from jina.flow.ports import free_port
from jina.proto import jina_pb2, jina_pb2_grpc
from tests.conftest import running
from tests.services.gateway.processes import gateway, health, post, wait_health


def wait_logged(log, text: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while text not in log.read_text():
        if time.monotonic() > deadline:
            raise AssertionError(f"{text!r} not logged within {seconds}s:\n{log.read_text()}")
        time.sleep(0.05)


def test_an_unreachable_executor_is_named_until_it_comes_up(tmp_path):
    dead, port = free_port(), free_port()
    address = f"127.0.0.1:{port}"
    topology = {"executors": [{"name": "ext", "addresses": [f"127.0.0.1:{dead}"], "tls": False}]}
    log = tmp_path / "gateway.log"
    with gateway(port, topology, log, "--warmup-timeout", "1"):
        # it starts: the warm-up (waiting for executors that start next to it) is bounded
        wait_logged(log, "gateway serving on", 5)
        assert "executors 'ext' do not answer yet: NOT_SERVING" in log.read_text()
        assert health(address) == "NOT_SERVING"
        with pytest.raises(grpc.RpcError) as info:
            post(address, "/")
        assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        assert info.value.details() == "executor 'ext' is unreachable (UNAVAILABLE)"
        with grpc.insecure_channel(address) as channel:
            status = jina_pb2_grpc.JinaGatewayDryRunRPCStub(channel).dry_run(empty_pb2.Empty(), timeout=10)
        assert status.code == jina_pb2.StatusProto.ERROR and "ext: UNAVAILABLE" in status.description
        assert str(dead) not in status.description

        with running("executor", dead, "--port", str(dead), "--uses", "tests.executors:Appender"):
            wait_health(address, "SERVING", 10)
            assert docs_from_content(post(address, "/", texts=["x"]).data).texts == ["xx"]
