"""The access token on gRPC (rules: `jina.serve.access`): a server interceptor that refuses calls
without it, and client interceptors that send it with every call of a channel."""

from __future__ import annotations

import collections

import grpc

from jina.serve.access import METADATA_KEY, REFUSAL, TokenCheck, bearer
from jina.wire import HEALTH, split_path

#: services any caller may use without the token: probes of orchestrators and load balancers
OPEN_SERVICES = frozenset({HEALTH})


def _service(method: str) -> str:
    """`/jina.JinaRPC/Call` → `jina.JinaRPC`."""
    return split_path(method)[0]


async def _refuse(request, context) -> None:
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, REFUSAL)


async def _refuse_streaming(request, context):
    await context.abort(grpc.StatusCode.UNAUTHENTICATED, REFUSAL)
    yield  # pragma: no cover (abort raises): makes this an async generator, as a streaming handler is


def _refusing(handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
    """A handler of the same kind as `handler` that refuses before reading anything (no deserializer:
    a refused caller's bytes are never parsed)."""
    behaviour = _refuse_streaming if handler.response_streaming else _refuse
    if handler.request_streaming and handler.response_streaming:
        return grpc.stream_stream_rpc_method_handler(behaviour)
    if handler.request_streaming:
        return grpc.stream_unary_rpc_method_handler(behaviour)
    if handler.response_streaming:
        return grpc.unary_stream_rpc_method_handler(behaviour)
    return grpc.unary_unary_rpc_method_handler(behaviour)


class TokenInterceptor(grpc.aio.ServerInterceptor):
    """Every call but those to OPEN_SERVICES carries the token, or ends UNAUTHENTICATED."""

    def __init__(self, token: str):
        self._check = TokenCheck(token)

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or _service(handler_call_details.method) in OPEN_SERVICES:
            return handler
        if self._check.accepts_metadata(handler_call_details.invocation_metadata):
            return handler
        return _refusing(handler)


def _with_token(metadata, value: str) -> list[tuple[str, str]]:
    kept = [(k, v) for k, v in (metadata or ()) if k != METADATA_KEY]
    return [*kept, (METADATA_KEY, value)]


# -- clients ---------------------------------------------------------------------------------


class _SyncDetails(
    collections.namedtuple(
        "_SyncDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")
    ),
    grpc.ClientCallDetails,
):
    pass


class SyncTokenSender(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """For `grpc.intercept_channel`: the token goes with every call."""

    def __init__(self, token: str):
        self._value = bearer(token)

    def _details(self, details: grpc.ClientCallDetails) -> _SyncDetails:
        return _SyncDetails(
            details.method,
            details.timeout,
            _with_token(details.metadata, self._value),
            details.credentials,
            getattr(details, "wait_for_ready", None),
            getattr(details, "compression", None),
        )

    def intercept_unary_unary(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_unary_stream(self, continuation, client_call_details, request):
        return continuation(self._details(client_call_details), request)

    def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)

    def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return continuation(self._details(client_call_details), request_iterator)


class _AsyncTokenSender:
    def __init__(self, token: str):
        self._value = bearer(token)

    def _details(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        return details._replace(metadata=grpc.aio.Metadata(*_with_token(details.metadata, self._value)))


class _AsyncUnaryUnary(_AsyncTokenSender, grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(self, continuation, client_call_details, request):
        return await continuation(self._details(client_call_details), request)


class _AsyncUnaryStream(_AsyncTokenSender, grpc.aio.UnaryStreamClientInterceptor):
    async def intercept_unary_stream(self, continuation, client_call_details, request):
        return await continuation(self._details(client_call_details), request)


class _AsyncStreamUnary(_AsyncTokenSender, grpc.aio.StreamUnaryClientInterceptor):
    async def intercept_stream_unary(self, continuation, client_call_details, request_iterator):
        return await continuation(self._details(client_call_details), request_iterator)


class _AsyncStreamStream(_AsyncTokenSender, grpc.aio.StreamStreamClientInterceptor):
    async def intercept_stream_stream(self, continuation, client_call_details, request_iterator):
        return await continuation(self._details(client_call_details), request_iterator)


def async_token_senders(token: str | None) -> list:
    """`interceptors=` for a grpc.aio channel (one per call kind: grpc.aio picks them by class)."""
    if not token:
        return []
    return [kind(token) for kind in (_AsyncUnaryUnary, _AsyncUnaryStream, _AsyncStreamUnary, _AsyncStreamStream)]
