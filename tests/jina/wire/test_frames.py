from __future__ import annotations

from jina.wire import END_OF_INPUT, ERROR_TRAILER, IN_ORDER_KEY, PREFETCH_KEY


def test_end_of_input_is_jinas_bytes_true():
    assert END_OF_INPUT == bytes(True)


def test_metadata_keys_are_jinas():
    assert (IN_ORDER_KEY, PREFETCH_KEY) == ("__results_in_order__", "__prefetch__")
    assert ERROR_TRAILER == ("is-error", "true")
