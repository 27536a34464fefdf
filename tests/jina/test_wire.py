from __future__ import annotations

import pytest

from jina.proto import jina_pb2
from jina.wire import describe_error, dict_to_struct, set_error, struct_to_dict


def test_struct_round_trip_nested():
    data = {"a": 1, "b": "x", "c": [1, {"d": None}], "e": {"f": True}}
    assert struct_to_dict(dict_to_struct(data)) == {"a": 1.0, "b": "x", "c": [1.0, {"d": None}], "e": {"f": True}}


def test_dict_to_struct_rejects_non_json_values():
    with pytest.raises(ValueError, match="JSON-like"):
        dict_to_struct({"a": object()})


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
