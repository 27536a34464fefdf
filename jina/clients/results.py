"""What post() does with each response: callbacks, errors, and the value it returns."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from jina.clients.response import Response, error_of
from jina.documents import DocumentArray
from jina.proto import jina_pb2

Callback = Callable[[Any], Any] | None

_logger = logging.getLogger("jina.client")


class ResultCollector:
    """Jina's semantics: `on_error` gets error responses (else they raise, or are only logged with
    `continue_on_error`); `on_done` gets successful ones; `on_always` gets all. post() returns the
    documents (or Responses) of every response, failed ones included, only when neither `on_done`
    nor `on_always` is given."""

    def __init__(
        self,
        *,
        on_done: Callback = None,
        on_error: Callback = None,
        on_always: Callback = None,
        return_responses: bool = False,
        continue_on_error: bool = False,
    ):
        self._on_done = on_done
        self._on_error = on_error
        self._on_always = on_always
        self._return_responses = return_responses
        self._continue_on_error = continue_on_error
        self.returns_results = on_done is None and on_always is None
        self._responses: list[Response] = []
        self._docs = DocumentArray()

    def add(self, proto: jina_pb2.DataRequestProto) -> Response:
        response = Response(proto)
        if response.is_error:
            if self._on_error is not None:
                self._call(self._on_error, response)
            elif self._continue_on_error:
                _logger.error("%s", error_of(response))
            else:
                raise error_of(response)
        elif self._on_done is not None:
            self._call(self._on_done, response)
        if self._on_always is not None:
            self._call(self._on_always, response)
        if self.returns_results:
            # as in Jina, a failed request that did not raise (on_error, continue_on_error) gives back
            # the documents its error response carries: those it was sent with
            if self._return_responses:
                self._responses.append(response)
            else:
                self._docs.extend(response.docs)
        return response

    def fail(self, error: BaseException) -> None:
        """The connection failed: hand the error to on_error when given, else raise it."""
        if self._on_error is not None:
            self._call(self._on_error, error)
        else:
            raise error

    def _call(self, callback: Callable[[Any], Any], value: Any) -> None:
        try:
            callback(value)
        except Exception:
            if not self._continue_on_error:
                raise
            _logger.exception("callback %r failed", callback)

    def result(self) -> DocumentArray | list[Response] | None:
        if not self.returns_results:
            return None
        return self._responses if self._return_responses else self._docs
