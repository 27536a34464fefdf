"""What a client gets back: a Response around the wire message, and the check that raises on errors."""

from __future__ import annotations

from typing import Any

from jina.documents import DocumentArray, docs_from_content
from jina.excepts import BadServer, ExecutorError, InternalNetworkError
from jina.proto import jina_pb2
from jina.wire import NETWORK_ERROR, describe_error, struct_to_dict


class Response:
    """One response of the Flow (Jina's `Response`): header, parameters, routes and documents."""

    __slots__ = ("proto", "_docs")

    def __init__(self, proto: jina_pb2.DataRequestProto):
        self.proto = proto
        self._docs: DocumentArray | None = None

    @property
    def docs(self) -> DocumentArray:
        if self._docs is None:
            self._docs = docs_from_content(self.proto.data)
        return self._docs

    @property
    def data(self) -> Response:  # Jina's `response.data.docs`
        return self

    @property
    def header(self) -> jina_pb2.HeaderProto:
        return self.proto.header

    @property
    def status(self) -> jina_pb2.StatusProto:
        return self.proto.header.status

    @property
    def routes(self):
        return self.proto.routes

    @property
    def parameters(self) -> dict[str, Any]:
        return struct_to_dict(self.proto.parameters)

    @property
    def request_id(self) -> str:
        return self.proto.header.request_id

    @property
    def is_error(self) -> bool:
        return self.proto.header.status.code == jina_pb2.StatusProto.ERROR

    def to_dict(self) -> dict[str, Any]:
        from google.protobuf import json_format

        out = json_format.MessageToDict(self.proto, preserving_proto_field_name=True, use_integers_for_enums=True)
        out["data"] = self.docs.to_dict()
        return out

    def __repr__(self) -> str:
        return f"<Response {self.request_id} {'error' if self.is_error else 'ok'}>"


def error_of(response: Response) -> BadServer:
    """The exception an error response stands for."""
    status = response.status
    message = (
        f"{describe_error(status)} (endpoint {response.header.exec_endpoint or '/'!r}, request {response.request_id})"
    )
    if status.exception.name == NETWORK_ERROR:
        return InternalNetworkError(message, executor=status.exception.executor, response=response)
    if status.exception.executor or status.exception.name:
        return ExecutorError(
            message,
            executor=status.exception.executor,
            exception_name=status.exception.name,
            exception_args=list(status.exception.args),
            response=response,
        )
    return BadServer(message, response)
