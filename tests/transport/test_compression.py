"""Compression of the internal hops (gateway→executor, bridge→gateway) and of client→gateway, on the wire."""

from __future__ import annotations

import grpc
import httpx
import pytest
from docarray import Document

from jina import Flow
from jina.excepts import BadConfig
from jina.flow import launcher
from jina.flow.ports import free_port
from jina.proto import jina_pb2
from jina.serve.compression import parse_compression
from tests.transport import h2spy

REPETITIVE = "the same words again and again " * 33_000  # about 1 MB


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, grpc.Compression.NoCompression),
        ("none", grpc.Compression.NoCompression),
        ("NoCompression", grpc.Compression.NoCompression),
        ("gzip", grpc.Compression.Gzip),
        ("Gzip", grpc.Compression.Gzip),
        ("GZIP", grpc.Compression.Gzip),
        ("deflate", grpc.Compression.Deflate),
        ("Deflate", grpc.Compression.Deflate),
    ],
)
def test_names(given, expected):
    assert parse_compression(given) == expected


def test_anything_else_is_a_clear_error():
    with pytest.raises(ValueError, match="'zip' is not one of none, gzip, deflate"):
        parse_compression("zip")
    with pytest.raises(BadConfig, match="'brotli' is not one of none, gzip, deflate"):
        Flow(compression="brotli")


def executor_behind_spy(compression: str):
    """executor ← spy ← gateway (--compression): returns (gateway port, spy, stop)."""
    executor_port, gateway_port = free_port(), free_port()
    env = launcher.child_env()
    executor = launcher.ServiceProcess(
        "executor",
        launcher.python_argv("executor", "--uses", "tests.executors:Appender", "--host", "127.0.0.1",
                             "--port", str(executor_port), "--compression", compression),
        env, executor_port,
    )  # fmt: skip
    executor.start()
    launcher.wait_ready([executor], timeout=30)
    spy, stop_spy = h2spy.start(executor_port)
    gateway = launcher.ServiceProcess(
        "gateway",
        launcher.python_argv("gateway", "--host", "127.0.0.1", "--port", str(gateway_port),
                             "--executors", f"e=127.0.0.1:{spy.port}", "--compression", compression),
        env, gateway_port,
    )  # fmt: skip
    gateway.start()
    launcher.wait_ready([gateway], timeout=30)

    def stop() -> None:
        launcher.stop_all([gateway], grace=1)
        launcher.stop_all([executor], grace=1)
        stop_spy()

    return gateway_port, spy, stop


def post_big(port: int) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=[("grpc.max_receive_message_length", -1)]) as channel:
        call = channel.unary_unary(
            "/jina.JinaSingleDataRequestRPC/process_single_data",
            request_serializer=jina_pb2.DataRequestProto.SerializeToString,
            response_deserializer=jina_pb2.DataRequestProto.FromString,
        )
        request = jina_pb2.DataRequestProto()
        request.header.exec_endpoint = "/"
        request.data.docs.docs.append(Document(text=REPETITIVE).to_protobuf())
        response = call(request, timeout=30)
    assert response.data.docs.docs[0].text == REPETITIVE + "x"


@pytest.fixture(scope="module")
def hops():
    """Per choice: (bytes the gateway sent the executor for one 1 MB request, algorithms seen)."""
    results = {}
    for choice in ("none", "gzip", "deflate"):
        port, spy, stop = executor_behind_spy(choice)
        try:
            before = spy.bytes_up
            post_big(port)
            results[choice] = (spy.bytes_up - before, spy.algorithms())
        finally:
            stop()
    return results


@pytest.mark.parametrize("choice", ["none", "gzip", "deflate"])
def test_the_chosen_encoding_is_on_the_gateway_to_executor_wire(hops, choice):
    _, algorithms = hops[choice]
    assert choice in algorithms
    assert algorithms <= {choice, "none"}  # small control messages may stay uncompressed


def test_gzip_sends_far_fewer_bytes_for_repetitive_text(hops):
    plain, compressed = hops["none"][0], hops["gzip"][0]
    assert plain > 1_000_000
    assert compressed < plain / 20


def test_flow_compression_reaches_the_bridge_to_gateway_hop(flows):
    flow = flows(Flow(protocol=["http"], compression="Gzip", host="127.0.0.1").add(uses="tests.executors:Appender"))
    bridge_argv = next(s.argv for s in flow._services if s.name == "bridge")
    gateway_argv = next(s.argv for s in flow._services if s.name == "gateway")
    assert '"compression": "gzip"' in bridge_argv[bridge_argv.index("--config") + 1]
    assert gateway_argv[gateway_argv.index("--compression") + 1] == "gzip"
    response = httpx.post(f"http://127.0.0.1:{flow.port}/post", json={"data": [{"text": REPETITIVE[:1000]}]})
    assert response.json()["data"][0]["text"] == REPETITIVE[:1000] + "x"
