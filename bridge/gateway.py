"""The bridge's only link to the gateway: one persistent gRPC channel and the calls over it."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jina.proto import jina_pb2
from jina.serve.access_grpc import async_token_senders
from jina.serve.options import channel_options
from jina.wire import CALL, PROCESS_SINGLE_DATA


def _identity(data: bytes) -> bytes:
    return data


class GatewayLink:
    def __init__(self, target: str, compression: grpc.Compression | None = None, token: str | None = None):
        self.target = target
        # the bridge checks its clients' token itself; it sends its own with every call
        self.channel = grpc.aio.insecure_channel(
            target, options=channel_options(), compression=compression, interceptors=async_token_senders(token)
        )
        self._unary: dict[tuple[str, type, type], Callable] = {}
        self._health = health_pb2_grpc.HealthStub(self.channel)
        self.process = self.channel.unary_unary(
            PROCESS_SINGLE_DATA,
            request_serializer=jina_pb2.DataRequestProto.SerializeToString,
            response_deserializer=jina_pb2.DataRequestProto.FromString,
        )
        # bytes in, bytes out: WebSocket `bytes` frames are forwarded without being parsed twice
        self.raw_call = self.channel.stream_stream(CALL, request_serializer=_identity, response_deserializer=_identity)

    def unary(self, path: str, request_cls: type, response_cls: type) -> Callable:
        key = (path, request_cls, response_cls)
        call = self._unary.get(key)
        if call is None:
            call = self.channel.unary_unary(
                path, request_serializer=request_cls.SerializeToString, response_deserializer=response_cls.FromString
            )
            self._unary[key] = call
        return call

    async def serving(self, timeout: float = 3.0) -> tuple[bool, str]:
        """(is the gateway SERVING?, what it said)."""
        try:
            reply = await self._health.Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.aio.AioRpcError as err:
            return False, f"{err.code().name}: {err.details()}"
        name = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
        return reply.status == health_pb2.HealthCheckResponse.SERVING, name

    async def close(self) -> None:
        await self.channel.close()
