"""Executors for test_sanitized_errors.py (importable by path, so Flows start them in child processes)."""

from __future__ import annotations

from jina import Executor, requests

#: an Executor's own message is the user's, not the Flow's internals: it must arrive unchanged
USER_MESSAGE = "the database at 10.0.0.7:5432 refused <Conn object at 0x7f00deadbeef>"


class RaisesWithAnAddress(Executor):
    @requests
    def fail(self, docs, **kwargs):
        raise ConnectionError(USER_MESSAGE)
