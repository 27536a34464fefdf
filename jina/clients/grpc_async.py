"""The asyncio gRPC client: `Client(asyncio=True)`; `post()` is an async generator of results."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import grpc

from jina.clients.grpc import connection_error
from jina.clients.hosts import Address
from jina.clients.inputs import InputType, build_requests
from jina.clients.results import Callback, ResultCollector
from jina.proto import jina_pb2
from jina.serve.options import channel_options
from jina.serve.stream import IN_ORDER_KEY, PREFETCH_KEY

_CALL = "/jina.JinaRPC/Call"


async def _aiter(requests: Iterator[jina_pb2.DataRequestProto]) -> AsyncIterator[jina_pb2.DataRequestProto]:
    for request in requests:
        yield request


class AsyncGRPCClient:
    """One persistent grpc.aio channel (made in the running loop on first use); each `post()` is one
    `JinaRPC.Call` stream over it."""

    def __init__(self, address: Address, *, prefetch: int | None = None):
        self.address = address
        self.prefetch = prefetch
        self._channel: grpc.aio.Channel | None = None

    def _connect(self) -> grpc.aio.Channel:
        if self._channel is None:
            if self.address.tls:
                self._channel = grpc.aio.secure_channel(
                    self.address.target, grpc.ssl_channel_credentials(), options=channel_options()
                )
            else:
                self._channel = grpc.aio.insecure_channel(self.address.target, options=channel_options())
        return self._channel

    async def post(
        self,
        on: str = "/",
        inputs: InputType = None,
        parameters: dict[str, Any] | None = None,
        request_size: int = 100,
        target_executor: str | None = None,
        on_done: Callback = None,
        on_error: Callback = None,
        on_always: Callback = None,
        return_responses: bool = False,
        results_in_order: bool = False,
        prefetch: int | None = None,
        continue_on_error: bool = False,
        **_ignored: Any,
    ) -> AsyncIterator[Any]:
        """Yield, per response, its DocumentArray (or the Response with `return_responses=True`)."""
        collector = ResultCollector(
            on_done=on_done,
            on_error=on_error,
            on_always=on_always,
            return_responses=True,
            continue_on_error=continue_on_error,
        )
        requests = build_requests(
            inputs, on=on, parameters=parameters, request_size=request_size, target_executor=target_executor
        )
        metadata: list[tuple[str, str]] = []
        if results_in_order:
            metadata.append((IN_ORDER_KEY, "true"))
        limit = prefetch or self.prefetch
        if limit:
            metadata.append((PREFETCH_KEY, str(limit)))
        call = self._connect().stream_stream(
            _CALL,
            request_serializer=jina_pb2.DataRequestProto.SerializeToString,
            response_deserializer=jina_pb2.DataRequestProto.FromString,
        )(_aiter(requests), metadata=metadata or None)
        try:
            async for proto in call:
                response = collector.add(proto)
                yield response if return_responses else response.docs
        except grpc.aio.AioRpcError as err:
            collector.fail(connection_error(self.address, err))
        finally:
            call.cancel()

    async def is_flow_ready(self, timeout: float | None = 5.0) -> bool:
        from google.protobuf import empty_pb2

        call = self._connect().unary_unary(
            "/jina.JinaGatewayDryRunRPC/dry_run",
            request_serializer=empty_pb2.Empty.SerializeToString,
            response_deserializer=jina_pb2.StatusProto.FromString,
        )
        try:
            status = await call(empty_pb2.Empty(), timeout=timeout)
        except grpc.aio.AioRpcError:
            return False
        return status.code == jina_pb2.StatusProto.SUCCESS

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None

    async def __aenter__(self) -> AsyncGRPCClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
