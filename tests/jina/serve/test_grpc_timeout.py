"""The Grpc-Timeout header's format (jina/serve/grpc_timeout.py)."""

from __future__ import annotations

import pytest

from jina.proto import jina_pb2
from jina.serve import grpc_timeout


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("2S", 2.0), ("500m", 0.5), ("1M", 60.0), ("1H", 3600.0), ("250000u", 0.25), ("5000000n", 0.005), (" 3S ", 3)],
)
def test_parse(value, seconds):
    assert grpc_timeout.parse(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "2", "S", "2s", "1.5S", "-1S", "0m", "123456789S", "2 S", "2SS"])
def test_malformed_values_are_refused(value):
    with pytest.raises(grpc_timeout.BadTimeout):
        grpc_timeout.parse(value)


def test_format_round_trips_through_parse():
    for milliseconds in (1, 300, 99_999_999, 100_000_000, 10**12):
        seconds = grpc_timeout.parse(grpc_timeout.format_milliseconds(milliseconds))
        assert seconds >= min(milliseconds / 1000, 99_999_999) - 1e-9


def test_bound_deadline_keeps_the_earlier_one():
    request = jina_pb2.DataRequestProto()
    assert not grpc_timeout.bound_deadline(request, None)
    assert grpc_timeout.bound_deadline(request, 500) and request.header.timeout == 500
    assert not grpc_timeout.bound_deadline(request, 900) and request.header.timeout == 500
    assert grpc_timeout.bound_deadline(request, 100) and request.header.timeout == 100
    assert grpc_timeout.to_milliseconds(0.0001) == 1 and grpc_timeout.to_milliseconds(1.5) == 1500
