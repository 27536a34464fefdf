"""Turn what `post()` is given into DataRequestProtos (no sockets: pure, lazily evaluated)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jina.documents import Document, DocumentArray, encode
from jina.excepts import BadClient
from jina.proto import jina_pb2
from jina.wire import dict_to_struct, new_request_id

InputType = None | Document | DocumentArray | Iterable[Any] | Callable[[], Iterable[Any]]


def _as_document(item: Any) -> Document:
    if isinstance(item, Document):
        return item
    if isinstance(item, str):
        return Document(text=item)
    if isinstance(item, bytes):
        return Document(blob=item)
    if isinstance(item, dict):
        return Document(item)
    raise BadClient(f"cannot send a {type(item).__name__} as a Document; pass Documents, dicts, str or bytes")


def iter_documents(inputs: InputType) -> Iterator[Document]:
    """Documents one by one, pulled lazily (an endless generator is fine)."""
    if inputs is None:
        return iter(())
    if callable(inputs) and not isinstance(inputs, (Document, DocumentArray)):
        inputs = inputs()
    if isinstance(inputs, (Document, str, bytes, dict)):
        return iter((_as_document(inputs),))
    if isinstance(inputs, DocumentArray):
        return iter(inputs)
    try:
        items = iter(inputs)  # type: ignore[arg-type]
    except TypeError:
        raise BadClient(f"inputs must be Documents or an iterable of them, not {type(inputs).__name__}") from None
    return (_as_document(item) for item in items)


def build_requests(
    inputs: InputType = None,
    on: str = "/",
    parameters: dict[str, Any] | None = None,
    request_size: int = 100,
    target_executor: str | None = None,
    timeout: float | None = None,
) -> Iterator[jina_pb2.DataRequestProto]:
    """One request per `request_size` documents; at least one request (empty when no inputs).
    `timeout` (seconds) is each request's deadline, carried in its header in milliseconds."""
    if not isinstance(request_size, int) or request_size < 1:
        raise BadClient(f"request_size must be a positive integer, got {request_size!r}")
    if timeout is not None and (not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0):
        raise BadClient(f"timeout must be seconds > 0, got {timeout!r}")
    deadline_ms = max(1, round(timeout * 1000)) if timeout is not None else None
    try:
        params = dict_to_struct(parameters) if parameters else None
    except ValueError as exc:
        raise BadClient(str(exc)) from None
    documents = iter_documents(inputs)

    def make(batch: list[Document]) -> jina_pb2.DataRequestProto:
        request = jina_pb2.DataRequestProto()
        request.header.request_id = new_request_id()
        request.header.exec_endpoint = on
        if target_executor:
            request.header.target_executor = target_executor
        if deadline_ms is not None:
            request.header.timeout = deadline_ms
        if params is not None:
            request.parameters.CopyFrom(params)
        if batch:
            request.data.docs.CopyFrom(encode(batch))
        else:
            request.data.docs.SetInParent()
        return request

    def generate() -> Iterator[jina_pb2.DataRequestProto]:
        sent = False
        while True:
            batch = list(itertools.islice(documents, request_size))
            if not batch and sent:
                return
            sent = True
            yield make(batch)
            if len(batch) < request_size:
                return

    return generate()
