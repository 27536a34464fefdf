"""The gateway's gRPC services: translate calls into Router work and Router errors into statuses.

This is the edge where the gateway's own error messages leave the Flow: they go through
`jina.serve.sanitize` (no internal addresses, gRPC transport text or reprs) unless the gateway
runs with `--debug`; an Executor's own exception is passed on as it is. Each data request is
admitted first (`admission.py`): over `max_queued_requests` it is refused with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import grpc
from jina_mesh.services.gateway.admission import Admission, Overloaded
from jina_mesh.services.gateway.connections import ExecutorClient, ExecutorUnreachable, describe
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest
from jina_mesh.services.gateway.router import BadTargetExecutor, DeadlineExceeded, Router
from jina_mesh.services.gateway.shards import ShardedExecutor
from jina_mesh.services.status import status_report

from jina.proto import jina_pb2, jina_pb2_grpc
from jina.serve.decoding import Undecodable, checked_stream, reject, rejecting, tolerant_handler
from jina.serve.grpc_timeout import bound_deadline, to_milliseconds
from jina.serve.sanitize import sanitize
from jina.serve.stream import Drain, serve_stream, stream_options
from jina.wire import (
    CALL,
    JINA_DISCOVER_ENDPOINTS_RPC,
    JINA_GATEWAY_DRY_RUN_RPC,
    JINA_INFO_RPC,
    JINA_RPC,
    JINA_SINGLE_DATA_REQUEST_RPC,
    NETWORK_ERROR,
    PROCESS_SINGLE_DATA,
    error_status,
)

SERVICE_NAMES = (
    JINA_RPC,
    JINA_SINGLE_DATA_REQUEST_RPC,
    JINA_DISCOVER_ENDPOINTS_RPC,
    JINA_GATEWAY_DRY_RUN_RPC,
    JINA_INFO_RPC,
)
#: health names that say SERVING only while every executor group answers ("" = the gateway as a
#: whole, what a readiness check asks); jina.JinaInfoRPC needs no executor (a liveness check)
READINESS_GATED = ("", JINA_RPC, JINA_SINGLE_DATA_REQUEST_RPC, JINA_DISCOVER_ENDPOINTS_RPC, JINA_GATEWAY_DRY_RUN_RPC)

#: seconds each executor gets to answer a dry run
DRY_RUN_TIMEOUT = 5.0
#: the in-band error name of a request refused by admission (its gRPC code goes in args, as for the others)
OVERLOADED = "Overloaded"
#: trailing metadata key of a RESOURCE_EXHAUSTED answer: seconds to wait before trying again
RETRY_AFTER_KEY = "retry-after"

_logger = logging.getLogger("jina.gateway")


def _in_band_error(
    request: PassthroughRequest, name: str, message: str, executor: str = "", code: str = ""
) -> PassthroughRequest:
    # `code`: the gRPC status the error stands for, e.g. DEADLINE_EXCEEDED
    args = [message, code] if code else [message]
    error_status(request.header.status, name=name, description=message, args=args, executor=executor)
    return request


def unreachable_message(err: ExecutorUnreachable, debug: bool = False) -> str:
    """What a caller is told about an executor the gateway could not reach: which one and what
    happened; where it runs and gRPC's transport text only with `debug`."""
    if debug:
        return str(err)
    if err.code == grpc.StatusCode.UNAVAILABLE:
        # the details are the transport's (connection refused, socket closed ...): nothing to act on
        return f"{describe(err.executor, err.shard)} is unreachable (UNAVAILABLE)"
    return sanitize(str(err))


class GatewayServicer:
    def __init__(
        self,
        router: Router,
        executors: Sequence[ExecutorClient | ShardedExecutor],
        prefetch: int,
        *,
        admission: Admission | None = None,
        debug: bool = False,
    ):
        self._router = router
        self._executors = list(executors)
        self._prefetch = prefetch
        self._drain = Drain()
        self._admission = admission or Admission()
        self._debug = debug

    def _public(self, message: str) -> str:
        return sanitize(message, debug=self._debug)

    def _unreachable(self, err: ExecutorUnreachable) -> str:
        if not self._debug:
            _logger.info("%s", err)  # the operator's copy, with the address and gRPC's own words
        return unreachable_message(err, self._debug)

    def _internal_error(self, exc: Exception) -> str:
        """A bug on the gateway's side costs the request, not the stream; the caller is told little."""
        _logger.exception("the gateway failed on a request")
        return f"internal error in the gateway: {exc!r}" if self._debug else "internal error in the gateway"

    def drain(self) -> None:
        """Stop reading new requests from open streams; they end once in-flight ones are answered."""
        self._drain.start()

    async def _route_in_band(self, request: PassthroughRequest) -> PassthroughRequest:
        """For streams: a failed request becomes an error response; the stream goes on."""
        try:
            ticket = self._admission.admit()
        except Overloaded as err:
            return _in_band_error(request, OVERLOADED, str(err), code=grpc.StatusCode.RESOURCE_EXHAUSTED.name)
        with ticket:
            try:
                return await self._router.route(request)
            except ExecutorUnreachable as err:
                message = self._unreachable(err)
                return _in_band_error(request, NETWORK_ERROR, message, err.executor, err.code.name)
            except BadTargetExecutor as err:
                return _in_band_error(request, "BadTargetExecutor", self._public(str(err)))
            except DeadlineExceeded as err:
                message = self._public(str(err))
                return _in_band_error(request, NETWORK_ERROR, message, err.executor, "DEADLINE_EXCEEDED")
            except Exception as exc:
                return _in_band_error(request, "InternalError", self._internal_error(exc), code="INTERNAL")

    async def Call(self, request_iterator, context):  # noqa: N802 (the RPC's name)
        in_order, prefetch = stream_options(context.invocation_metadata(), self._prefetch)
        responses = serve_stream(
            checked_stream(request_iterator),
            self._route_in_band,
            prefetch=prefetch,
            in_order=in_order,
            drain=self._drain,
        )
        async for response in rejecting(responses, context):
            yield response

    async def process_single_data(self, request: PassthroughRequest, context) -> PassthroughRequest:
        if isinstance(request, Undecodable):
            await reject(context)
        try:
            ticket = self._admission.admit()
        except Overloaded as err:
            await context.abort(
                grpc.StatusCode.RESOURCE_EXHAUSTED,
                str(err),
                trailing_metadata=((RETRY_AFTER_KEY, str(err.retry_after)),),
            )
        # a caller's gRPC deadline (a client in another language sets one, not the header's
        # `timeout`) is the request's deadline too
        remaining = context.time_remaining()
        if remaining is not None:
            bound_deadline(request, to_milliseconds(remaining))
        with ticket:
            try:
                return await self._router.route(request)
            except ExecutorUnreachable as err:
                failure = (err.code, self._unreachable(err))
            except BadTargetExecutor as err:
                failure = (grpc.StatusCode.INVALID_ARGUMENT, self._public(str(err)))
            except DeadlineExceeded as err:
                failure = (grpc.StatusCode.DEADLINE_EXCEEDED, self._public(str(err)))
            except Exception as exc:
                failure = (grpc.StatusCode.INTERNAL, self._internal_error(exc))
        # aborted outside the ticket: the place is free before the caller hears back
        await context.abort(*failure)

    async def endpoint_discovery(self, request, context) -> jina_pb2.EndpointsProto:
        found = await asyncio.gather(*(e.endpoints() for e in self._executors))
        union: set[str] = set()
        for endpoints in found:
            union.update(endpoints or ())
        return jina_pb2.EndpointsProto(endpoints=sorted(union))

    async def dry_run(self, request, context) -> jina_pb2.StatusProto:
        problems = [p for p in await asyncio.gather(*(e.check(DRY_RUN_TIMEOUT) for e in self._executors)) if p]
        if not problems:
            return jina_pb2.StatusProto(code=jina_pb2.StatusProto.SUCCESS)
        problems = [self._public(p) for p in problems]
        return error_status(
            name=NETWORK_ERROR, description="unreachable executors: " + "; ".join(problems), args=problems
        )

    async def _status(self, request, context) -> jina_pb2.JinaInfoProto:
        report = status_report()
        return jina_pb2.JinaInfoProto(jina=report["jina"], envs=report["envs"])


def registrars(servicer: GatewayServicer):
    # the data RPCs carry PassthroughRequests, so the generated (DataRequestProto) registrars do not fit
    data_handlers = [
        tolerant_handler(CALL, servicer.Call, PassthroughRequest, PassthroughRequest),
        tolerant_handler(PROCESS_SINGLE_DATA, servicer.process_single_data, PassthroughRequest, PassthroughRequest),
    ]
    return [
        lambda s: s.add_generic_rpc_handlers(data_handlers),
        lambda s: jina_pb2_grpc.add_JinaDiscoverEndpointsRPCServicer_to_server(servicer, s),
        lambda s: jina_pb2_grpc.add_JinaGatewayDryRunRPCServicer_to_server(servicer, s),
        lambda s: jina_pb2_grpc.add_JinaInfoRPCServicer_to_server(servicer, s),
    ]
