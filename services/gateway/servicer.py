"""The gateway's gRPC services: translate calls into Router work and Router errors into statuses."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import grpc
from jina_mesh.services.gateway.connections import ExecutorClient, ExecutorUnreachable
from jina_mesh.services.gateway.passthrough_pb2 import PassthroughRequest
from jina_mesh.services.gateway.router import BadTargetExecutor, DeadlineExceeded, Router
from jina_mesh.services.gateway.shards import ShardedExecutor
from jina_mesh.services.status import status_report

from jina.proto import jina_pb2, jina_pb2_grpc
from jina.serve.decoding import Undecodable, checked_stream, reject, tolerant_handler
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


def _in_band_error(
    request: PassthroughRequest, name: str, message: str, executor: str = "", code: str = ""
) -> PassthroughRequest:
    # `code`: the gRPC status the error stands for, e.g. DEADLINE_EXCEEDED
    args = [message, code] if code else [message]
    error_status(request.header.status, name=name, description=message, args=args, executor=executor)
    return request


class GatewayServicer:
    def __init__(self, router: Router, executors: Sequence[ExecutorClient | ShardedExecutor], prefetch: int):
        self._router = router
        self._executors = list(executors)
        self._prefetch = prefetch
        self._drain = Drain()

    def drain(self) -> None:
        """Stop reading new requests from open streams; they end once in-flight ones are answered."""
        self._drain.start()

    async def _route_in_band(self, request: PassthroughRequest) -> PassthroughRequest:
        """For streams: a failed request becomes an error response; the stream goes on."""
        try:
            return await self._router.route(request)
        except ExecutorUnreachable as err:
            return _in_band_error(request, NETWORK_ERROR, str(err), err.executor, err.code.name)
        except BadTargetExecutor as err:
            return _in_band_error(request, "BadTargetExecutor", str(err))
        except DeadlineExceeded as err:
            return _in_band_error(request, NETWORK_ERROR, str(err), err.executor, "DEADLINE_EXCEEDED")

    async def Call(self, request_iterator, context):  # noqa: N802 (the RPC's name)
        in_order, prefetch = stream_options(context.invocation_metadata(), self._prefetch)
        async for response in serve_stream(
            checked_stream(request_iterator, context),
            self._route_in_band,
            prefetch=prefetch,
            in_order=in_order,
            drain=self._drain,
        ):
            yield response

    async def process_single_data(self, request: PassthroughRequest, context) -> PassthroughRequest:
        if isinstance(request, Undecodable):
            await reject(context)
        try:
            return await self._router.route(request)
        except ExecutorUnreachable as err:
            await context.abort(err.code, str(err))
        except BadTargetExecutor as err:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(err))
        except DeadlineExceeded as err:
            await context.abort(grpc.StatusCode.DEADLINE_EXCEEDED, str(err))

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
