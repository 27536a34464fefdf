"""Arbitrary bytes on the gRPC data methods of the gateway and of an executor (identity serializers, so
nothing is checked on the way out): each call ends OK or INVALID_ARGUMENT, and the Flow serves on."""

from __future__ import annotations

import grpc
import pytest
from docarray import Document
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest

from jina import Client, Flow
from jina.proto import jina_pb2
from jina.wire import CALL, PROCESS_DATA, PROCESS_SINGLE_DATA
from tests.adversarial.strategies import garbage

pytestmark = pytest.mark.adversarial

TIMEOUT = 5.0
EXAMPLES = settings(
    max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
#: streams: no shrinking, as a stream that hangs costs TIMEOUT each time and hangs only now and then
#: (shrinking such a failure ran for minutes and ended in a FlakyFailure anyway)
STREAM_EXAMPLES = settings(EXAMPLES, phases=[Phase.explicit, Phase.generate])
#: how a call carrying a decodable message may end: answered (an executor error travels in its header)
ANSWERED = grpc.StatusCode.OK
REFUSED = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture(scope="module")
def flow():
    with Flow(host="127.0.0.1").add(uses="tests.executors.Appender", name="appender") as f:
        yield f


@pytest.fixture(scope="module")
def pids(flow):
    return dict(flow.pids)


@pytest.fixture(scope="module")
def client(flow):
    with Client(host="127.0.0.1", port=flow.port) as c:
        yield c


@pytest.fixture(scope="module")
def gateway(flow):
    with grpc.insecure_channel(f"127.0.0.1:{flow.port}") as channel:
        yield channel


@pytest.fixture(scope="module")
def executor(flow):
    with grpc.insecure_channel(flow.addresses["appender"]) as channel:
        yield channel


def decodes(message_class, data: bytes) -> bool:
    try:
        message_class.FromString(data)
    except Exception:  # noqa: BLE001  (DecodeError, or a ValueError for bad UTF-8)
        return False
    return True


def unary_status(channel: grpc.Channel, path: str, data: bytes) -> grpc.StatusCode:
    try:
        channel.unary_unary(path)(data, timeout=TIMEOUT)
    except grpc.RpcError as err:
        return err.code()
    return grpc.StatusCode.OK


def stream_status(channel: grpc.Channel, data: list[bytes]) -> tuple[grpc.StatusCode, int]:
    """How a Call carrying `data` ended, and how many answers came."""
    answers = 0
    try:
        for _ in channel.stream_stream(CALL)(iter(data), timeout=TIMEOUT):
            answers += 1
    except grpc.RpcError as err:
        return err.code(), answers
    return grpc.StatusCode.OK, answers


def assert_serving(flow: Flow, client, pids: dict[str, int]) -> None:
    assert client.post("/", Document(text="a")).texts == ["ax"]
    assert flow.pids == pids, "a process of the Flow died (the supervisor restarted it)"


def expected(message_class, data: bytes) -> grpc.StatusCode:
    return ANSWERED if decodes(message_class, data) else REFUSED


@EXAMPLES
@given(data=garbage)
def test_gateway_process_single_data(flow, pids, client, gateway, data):
    # the gateway reads only the envelope and forwards the documents' bytes: what the executor
    # cannot decode comes back as the executor's INVALID_ARGUMENT; a request that decodes may still
    # be refused (a target_executor that is no regular expression)
    code = unary_status(gateway, PROCESS_SINGLE_DATA, data)
    if decodes(jina_pb2.DataRequestProto, data):
        assert code in (ANSWERED, REFUSED)
    else:
        assert code == REFUSED
    assert_serving(flow, client, pids)


@STREAM_EXAMPLES
@given(data=st.lists(garbage, min_size=1, max_size=3))
def test_gateway_call(flow, pids, client, gateway, data):
    code, answers = stream_status(gateway, data)
    # on a stream, an envelope the gateway reads is answered in-band (also when the executor refuses it)
    if all(decodes(PassthroughRequest, d) for d in data):
        assert (code, answers) == (ANSWERED, len(data)), f"{code.name} after {answers} answers to {data!r}"
    else:
        assert code == REFUSED, f"{code.name} after {answers} answers to {data!r}"
    assert_serving(flow, client, pids)


@EXAMPLES
@given(data=garbage)
def test_executor_process_single_data(flow, pids, client, executor, data):
    assert unary_status(executor, PROCESS_SINGLE_DATA, data) == expected(jina_pb2.DataRequestProto, data)
    assert_serving(flow, client, pids)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def request_list(entries: list[bytes]) -> bytes:
    """A DataRequestListProto on the wire (field 1, length-delimited), each entry as it is, broken or not."""
    return b"".join(b"\x0a" + _varint(len(entry)) + entry for entry in entries)


def process_data_expected(data: bytes) -> grpc.StatusCode:
    """An empty list is refused as well: process_data needs at least one request."""
    try:
        listed = jina_pb2.DataRequestListProto.FromString(data)
    except Exception:  # noqa: BLE001
        return REFUSED
    return ANSWERED if listed.requests else REFUSED


@EXAMPLES
@given(data=garbage | st.lists(garbage, max_size=3).map(request_list))
def test_executor_process_data(flow, pids, client, executor, data):
    assert unary_status(executor, PROCESS_DATA, data) == process_data_expected(data)
    assert_serving(flow, client, pids)


@STREAM_EXAMPLES
@given(data=st.lists(garbage, min_size=1, max_size=3))
def test_executor_call(flow, pids, client, executor, data):
    code, answers = stream_status(executor, data)
    if all(decodes(jina_pb2.DataRequestProto, d) for d in data):
        assert (code, answers) == (ANSWERED, len(data)), f"{code.name} after {answers} answers to {data!r}"
    else:
        assert code == REFUSED, f"{code.name} after {answers} answers to {data!r}"
    assert_serving(flow, client, pids)
