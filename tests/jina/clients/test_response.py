from __future__ import annotations

import pytest

from jina.clients.response import Response, error_of
from jina.clients.results import ResultCollector
from jina.excepts import BadServer, ExecutorError, InternalNetworkError
from jina.proto import jina_pb2


def error_response(name: str, executor: str, *args: str) -> jina_pb2.DataRequestProto:
    proto = jina_pb2.DataRequestProto()
    proto.header.request_id = "r"
    proto.header.exec_endpoint = "/x"
    status = proto.header.status
    status.code = jina_pb2.StatusProto.ERROR
    status.description = f"{name}({args})"
    status.exception.name = name
    status.exception.executor = executor
    status.exception.args.extend(args)
    return proto


@pytest.mark.parametrize(
    ("name", "executor", "kind", "text"),
    [
        ("ValueError", "enc", ExecutorError, "Executor 'enc' raised ValueError: bad"),
        ("InternalNetworkError", "enc", InternalNetworkError, "could not reach an executor"),
        ("", "", BadServer, "The Flow failed"),
    ],
)
def test_error_of_maps_statuses_to_exceptions(name, executor, kind, text):
    proto = error_response(name, executor, "bad")
    if not name:
        proto.header.status.ClearField("exception")
    error = error_of(Response(proto))
    assert type(error) is kind
    assert text in str(error)
    assert "'/x'" in str(error) and "request r" in str(error)


def test_network_errors_are_connection_errors():
    assert isinstance(error_of(Response(error_response("InternalNetworkError", "e", "down"))), ConnectionError)


def test_continue_on_error_logs_and_keeps_every_result(caplog):
    collector = ResultCollector(continue_on_error=True)
    failed = error_response("ValueError", "enc", "bad")
    failed.data.docs.docs.add(text="as sent")
    collector.add(failed)
    ok = jina_pb2.DataRequestProto()
    ok.data.docs.docs.add(text="fine")
    collector.add(ok)
    # as in Jina: the failed request's documents (those it was sent with) are returned too
    assert collector.result().texts == ["as sent", "fine"]
    assert "raised ValueError" in caplog.text


def test_on_error_keeps_the_failed_documents_and_on_done_returns_nothing():
    seen = []
    failed = error_response("ValueError", "enc", "bad")
    failed.data.docs.docs.add(text="as sent")
    collector = ResultCollector(on_error=seen.append)
    collector.add(failed)
    assert collector.result().texts == ["as sent"] and len(seen) == 1
    quiet = ResultCollector(on_error=seen.append, on_done=seen.append)
    quiet.add(failed)
    assert quiet.result() is None
