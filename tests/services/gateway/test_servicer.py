"""The gateway's gRPC surface through a raw gRPC client: ordering metadata and error statuses."""

from __future__ import annotations

import grpc
import pytest
from docarray import Document

from jina import Flow
from jina.flow.ports import free_port
from jina.proto import jina_pb2, jina_pb2_grpc
from jina.wire import dict_to_struct
from tests import executors


@pytest.fixture(scope="module")
def flow():
    with Flow(host="127.0.0.1").add(uses=executors.AsyncSleeper, name="sleeper") as f:
        yield f


def request(request_id: str, seconds: float, target: str = "") -> jina_pb2.DataRequestProto:
    message = jina_pb2.DataRequestProto()
    message.header.request_id = request_id
    message.header.exec_endpoint = "/"
    if target:
        message.header.target_executor = target
    dict_to_struct({"seconds": seconds}, message.parameters)
    message.data.docs.docs.append(Document(text=request_id).to_protobuf())
    return message


@pytest.mark.parametrize(
    ("metadata", "expected"), [((), ["fast", "slow"]), ((("__results_in_order__", "true"),), ["slow", "fast"])]
)
def test_call_answers_in_completion_order_unless_asked_for_request_order(flow, metadata, expected):
    with grpc.insecure_channel(f"127.0.0.1:{flow.port}") as channel:
        stub = jina_pb2_grpc.JinaRPCStub(channel)
        responses = stub.Call(iter([request("slow", 0.5), request("fast", 0.0)]), metadata=metadata)
        assert [r.header.request_id for r in responses] == expected


def test_process_single_data_statuses(flow):
    with grpc.insecure_channel(f"127.0.0.1:{flow.port}") as channel:
        stub = jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel)
        assert stub.process_single_data(request("ok", 0)).header.request_id == "ok"
        with pytest.raises(grpc.RpcError) as info:
            stub.process_single_data(request("bad", 0, target="(unclosed"))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "not a valid regular expression" in info.value.details()


def test_unreachable_executor_is_unavailable_for_unary_and_in_band_for_streams():
    dead = free_port()
    from jina.flow import launcher

    port = free_port()
    gateway = launcher.ServiceProcess(
        "gateway",
        launcher.python_argv(
            "gateway",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--executors",
            f"ghost=127.0.0.1:{dead}",
            "--warmup-timeout",
            "0.1",
        ),
        launcher.child_env(),
        port,
    )
    gateway.start()
    try:
        launcher.wait_ready([gateway], timeout=30)
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(grpc.RpcError) as info:
                jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel).process_single_data(request("u", 0))
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "ghost" in info.value.details()
            (response,) = jina_pb2_grpc.JinaRPCStub(channel).Call(iter([request("s", 0)]))
            assert response.header.status.code == jina_pb2.StatusProto.ERROR
            assert response.header.status.exception.name == "InternalNetworkError"
            assert response.header.status.exception.executor == "ghost"
    finally:
        launcher.stop_all([gateway], grace=1)
