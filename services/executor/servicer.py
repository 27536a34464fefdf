"""The gRPC services of an executor process; each method translates and delegates to the processor."""

from __future__ import annotations

import grpc
from jina_mesh.services.executor.processor import RequestProcessor
from jina_mesh.services.status import status_report

from jina.proto import jina_pb2, jina_pb2_grpc
from jina.serve.decoding import Undecodable, checked_stream, reject, rejecting, tolerant_handler
from jina.serve.stream import Drain, serve_stream, stream_options
from jina.wire import (
    CALL,
    ERROR_TRAILER,
    JINA_DATA_REQUEST_RPC,
    JINA_DISCOVER_ENDPOINTS_RPC,
    JINA_GATEWAY_DRY_RUN_RPC,
    JINA_INFO_RPC,
    JINA_RPC,
    JINA_SINGLE_DATA_REQUEST_RPC,
    JINA_SINGLE_DOCUMENT_REQUEST_RPC,
    PROCESS_DATA,
    PROCESS_SINGLE_DATA,
    set_error,
)

#: the endpoint Jina's gateway uses for dry runs; never reaches Executor code
DRY_RUN_ENDPOINT = "_jina_dry_run_"

SERVICE_NAMES = (
    JINA_SINGLE_DATA_REQUEST_RPC,
    JINA_RPC,
    JINA_DATA_REQUEST_RPC,
    JINA_DISCOVER_ENDPOINTS_RPC,
    JINA_INFO_RPC,
    JINA_GATEWAY_DRY_RUN_RPC,
    JINA_SINGLE_DOCUMENT_REQUEST_RPC,
)


class ExecutorServicer:
    def __init__(self, processor: RequestProcessor):
        self._processor = processor
        self._drain = Drain()

    def drain(self) -> None:
        """Stop reading new requests from open streams; they end once in-flight ones are answered
        (waiting batches run at once rather than after their timeout)."""
        self._drain.start()
        self._processor.flush_batches()

    async def _process(self, requests: list[jina_pb2.DataRequestProto], context) -> jina_pb2.DataRequestProto:
        if requests[0].header.exec_endpoint == DRY_RUN_ENDPOINT:
            requests[0].routes.add(executor=self._processor.name)
            return requests[0]
        response = await self._processor.process_parts(requests)
        if response.header.status.code == jina_pb2.StatusProto.ERROR and context is not None:
            # what Jina's executors do; Jina's gateway reads it to mark the route's status
            context.set_trailing_metadata((ERROR_TRAILER,))
        return response

    async def process_single_data(self, request, context):
        if isinstance(request, Undecodable):
            await reject(context)
        return await self._process([request], context)

    async def process_data(self, request: jina_pb2.DataRequestListProto, context):
        """A list of requests: the parts of a join (handled by the processor's join mode)."""
        if isinstance(request, Undecodable):
            await reject(context)
        if not request.requests:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "process_data needs at least one request")
        return await self._process(list(request.requests), context)

    async def Call(self, request_iterator, context):  # noqa: N802 (the RPC's name)
        in_order, prefetch = stream_options(context.invocation_metadata(), default_prefetch=0)

        async def handle(request):
            return await self._process([request], None)

        responses = serve_stream(
            checked_stream(request_iterator), handle, prefetch=prefetch, in_order=in_order, drain=self._drain
        )
        async for response in rejecting(responses, context):
            yield response

    async def endpoint_discovery(self, request, context):
        response = jina_pb2.EndpointsProto()
        response.endpoints.extend([*self._processor.endpoints(), DRY_RUN_ENDPOINT])
        return response

    async def _status(self, request, context):
        report = status_report()
        return jina_pb2.JinaInfoProto(jina=report["jina"], envs=report["envs"])

    async def dry_run(self, request, context):
        return jina_pb2.StatusProto(code=jina_pb2.StatusProto.SUCCESS)

    async def stream_doc(self, request: jina_pb2.SingleDocumentRequestProto, context):
        # Generator endpoints are not supported: answer like Jina does for a non-generator one.
        response = jina_pb2.SingleDocumentRequestProto()
        response.CopyFrom(request)
        set_error(response.header.status, ValueError("endpoint must be generator"), executor=self._processor.name)
        yield response


def registrars(servicer: ExecutorServicer):
    request = jina_pb2.DataRequestProto
    return [
        # the data RPCs answer undecodable bytes with INVALID_ARGUMENT (see jina.serve.decoding)
        lambda s: s.add_generic_rpc_handlers(
            [
                tolerant_handler(PROCESS_SINGLE_DATA, servicer.process_single_data, request, request),
                tolerant_handler(CALL, servicer.Call, request, request),
                tolerant_handler(PROCESS_DATA, servicer.process_data, jina_pb2.DataRequestListProto, request),
            ]
        ),
        lambda s: jina_pb2_grpc.add_JinaDiscoverEndpointsRPCServicer_to_server(servicer, s),
        lambda s: jina_pb2_grpc.add_JinaInfoRPCServicer_to_server(servicer, s),
        lambda s: jina_pb2_grpc.add_JinaGatewayDryRunRPCServicer_to_server(servicer, s),
        lambda s: jina_pb2_grpc.add_JinaSingleDocumentRequestRPCServicer_to_server(servicer, s),
    ]
