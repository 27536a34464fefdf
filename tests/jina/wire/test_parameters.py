from __future__ import annotations

import pytest

from jina.wire import dict_to_struct, struct_to_dict


def test_struct_round_trip_nested():
    data = {"a": 1, "b": "x", "c": [1, {"d": None}], "e": {"f": True}}
    assert struct_to_dict(dict_to_struct(data)) == {"a": 1.0, "b": "x", "c": [1.0, {"d": None}], "e": {"f": True}}


def test_dict_to_struct_rejects_non_json_values():
    with pytest.raises(ValueError, match="JSON-like"):
        dict_to_struct({"a": object()})
