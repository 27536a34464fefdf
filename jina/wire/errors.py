"""Error statuses on the wire: the one way to fill a `StatusProto` with an error, and to read one."""

from __future__ import annotations

import traceback
from collections.abc import Iterable

from jina.proto import jina_pb2

#: Jina's name for a failure between the gateway and an executor (`jina.excepts.InternalNetworkError`)
NETWORK_ERROR = "InternalNetworkError"


def error_status(
    status: jina_pb2.StatusProto | None = None,
    *,
    name: str,
    description: str,
    args: Iterable[str] = (),
    executor: str = "",
    stacks: Iterable[str] = (),
) -> jina_pb2.StatusProto:
    """Make `status` (or a new one) an ERROR carrying one exception; what it held before is replaced. Returns it."""
    status = jina_pb2.StatusProto() if status is None else status
    status.Clear()
    status.code = jina_pb2.StatusProto.ERROR
    status.description = description
    exception = status.exception
    exception.name = name
    exception.args.extend(args)
    exception.executor = executor
    exception.stacks.extend(stacks)
    return status


def set_error(
    status: jina_pb2.StatusProto,
    exc: BaseException,
    *,
    executor: str = "",
    with_stacks: bool = False,
) -> None:
    """Record an exception in a status: name, args, executor (stack frames only when asked)."""
    error_status(
        status,
        name=type(exc).__name__,
        description=repr(exc),
        args=[str(a) for a in exc.args],
        executor=executor,
        stacks=traceback.format_exception(type(exc), exc, exc.__traceback__) if with_stacks else (),
    )


def describe_error(status: jina_pb2.StatusProto) -> str:
    """One readable sentence for an error status, e.g. for an exception message."""
    exc = status.exception
    if exc.name == NETWORK_ERROR:
        return f"The gateway could not reach an executor: {', '.join(exc.args) or status.description}"
    where = f"Executor {exc.executor!r}" if exc.executor else "The Flow"
    if exc.name:
        detail = f"{exc.name}: {', '.join(exc.args)}" if exc.args else exc.name
        return f"{where} raised {detail}"
    return f"{where} failed: {status.description or 'unknown error'}"
