"""The one builder of error statuses, and how an error status reads."""

from __future__ import annotations

import pytest

from jina.excepts import InternalNetworkError
from jina.proto import jina_pb2
from jina.wire import NETWORK_ERROR, describe_error, error_status, set_error


def fields(status: jina_pb2.StatusProto) -> tuple:
    exc = status.exception
    return status.code, status.description, exc.name, list(exc.args), exc.executor, list(exc.stacks)


def test_set_error_records_name_args_executor_and_stacks_only_on_request():
    status = jina_pb2.StatusProto()
    try:
        raise KeyError("missing", 3)
    except KeyError as exc:
        set_error(status, exc, executor="enc")
        assert status.code == jina_pb2.StatusProto.ERROR
        assert status.exception.name == "KeyError"
        assert list(status.exception.args) == ["missing", "3"]
        assert status.exception.executor == "enc"
        assert not status.exception.stacks
        set_error(status, exc, executor="enc", with_stacks=True)
        assert "KeyError" in status.exception.stacks[-1]
    assert describe_error(status) == "Executor 'enc' raised KeyError: missing, 3"


def test_set_error_describes_the_exception_by_its_repr():
    status = jina_pb2.StatusProto()
    set_error(status, ValueError("endpoint must be generator"), executor="gen")
    assert fields(status) == (
        jina_pb2.StatusProto.ERROR,
        "ValueError('endpoint must be generator')",
        "ValueError",
        ["endpoint must be generator"],
        "gen",
        [],
    )


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        (
            {"name": "BadRequest", "description": "not JSON", "args": ["not JSON"]},
            (jina_pb2.StatusProto.ERROR, "not JSON", "BadRequest", ["not JSON"], "", []),
        ),
        (
            {"name": NETWORK_ERROR, "description": "down", "args": ["down", "UNAVAILABLE"], "executor": "enc"},
            (jina_pb2.StatusProto.ERROR, "down", NETWORK_ERROR, ["down", "UNAVAILABLE"], "enc", []),
        ),
        (
            {"name": "KeyError", "description": "KeyError('k')", "args": ["k"], "stacks": ["Traceback ...\n"]},
            (jina_pb2.StatusProto.ERROR, "KeyError('k')", "KeyError", ["k"], "", ["Traceback ...\n"]),
        ),
        (
            {"name": NETWORK_ERROR, "description": "unreachable executors: "},
            (jina_pb2.StatusProto.ERROR, "unreachable executors: ", NETWORK_ERROR, [], "", []),
        ),
    ],
)
def test_error_status_sets_exactly_what_it_is_given(kwargs, expected):
    made = error_status(**kwargs)
    assert fields(made) == expected
    assert made.HasField("exception")  # even with no args: the name is what readers look at


def test_error_status_fills_the_status_it_is_given_and_replaces_what_it_held():
    request = jina_pb2.DataRequestProto()
    old = request.header.status
    old.code = jina_pb2.StatusProto.SUCCESS
    old.description = "earlier"
    old.exception.args.append("earlier")
    old.exception.stacks.append("earlier")
    returned = error_status(request.header.status, name="BadRequest", description="now", args=["now"])
    assert fields(request.header.status) == (jina_pb2.StatusProto.ERROR, "now", "BadRequest", ["now"], "", [])
    assert returned is request.header.status


def test_the_network_error_name_is_the_exception_clients_raise_for_it():
    assert InternalNetworkError.__name__ == NETWORK_ERROR


@pytest.mark.parametrize(
    ("status", "sentence"),
    [
        (
            error_status(name=NETWORK_ERROR, description="d", args=["no route", "UNAVAILABLE"]),
            "The gateway could not reach an executor: no route, UNAVAILABLE",
        ),
        (
            error_status(name=NETWORK_ERROR, description="only this"),
            "The gateway could not reach an executor: only this",
        ),
        (error_status(name="ValueError", description="", executor="x"), "Executor 'x' raised ValueError"),
        (jina_pb2.StatusProto(code=jina_pb2.StatusProto.ERROR, description="gone"), "The Flow failed: gone"),
        (jina_pb2.StatusProto(code=jina_pb2.StatusProto.ERROR), "The Flow failed: unknown error"),
    ],
)
def test_describe_error(status, sentence):
    assert describe_error(status) == sentence
