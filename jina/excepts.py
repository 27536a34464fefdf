"""Exceptions a user of the SDK can catch.

    Exception
    ├── BadServer              the Flow answered, but the request failed inside it
    │   ├── ExecutorError      an Executor raised while handling the request
    │   └── InternalNetworkError  the gateway could not reach an executor (also a ConnectionError)
    ├── BadClient              the request could not be built from what was passed to post()
    │   └── RequestTooLarge    a request is over the message size limit (nothing was sent)
    ├── BadConfig              a Flow, Executor or Client option is invalid
    └── RuntimeFailToStart     a process of the Flow did not come up (its own error is attached)
    ConnectionError (built-in) the gateway cannot be reached

Names follow Jina's (`jina.excepts.BadServer`, `RuntimeFailToStart`) so code written for Jina
keeps catching the same exceptions.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "BadClient",
    "BadConfig",
    "BadServer",
    "ExecutorError",
    "InternalNetworkError",
    "NoAnswer",
    "RequestTooLarge",
    "RuntimeFailToStart",
]


class BadServer(Exception):
    """The request reached the Flow, but came back with an error status."""

    def __init__(self, message: str, response: Any = None):
        super().__init__(message)
        #: the response (a `jina.Response`) that carried the error, when there is one
        self.response = response


class ExecutorError(BadServer):
    """An Executor raised an exception while handling the request."""

    def __init__(
        self,
        message: str,
        *,
        executor: str,
        exception_name: str,
        exception_args: list[str],
        response: Any = None,
    ):
        super().__init__(message, response)
        self.executor = executor
        self.exception_name = exception_name
        self.exception_args = exception_args


class InternalNetworkError(BadServer, ConnectionError):
    """The gateway could not reach an executor (after retries), or the call to it timed out."""

    def __init__(self, message: str, *, executor: str = "", response: Any = None):
        super().__init__(message, response)
        self.executor = executor


class NoAnswer(ConnectionError, TimeoutError):
    """post(timeout=...): no answer came from the server in that time (and a grace second), as when
    it hangs or is gone; the gateway itself answers a deadline it could not meet with an error."""


class BadClient(ValueError):
    """post() was given something it cannot turn into requests."""


class RequestTooLarge(BadClient):
    """A request is larger than the message size limit; it was not sent (the server would refuse
    it with RESOURCE_EXHAUSTED / HTTP 413)."""


class BadConfig(ValueError):
    """An option of a Flow, Executor or Client is invalid."""


class RuntimeFailToStart(RuntimeError):
    """A gateway or executor process of the Flow did not start."""
