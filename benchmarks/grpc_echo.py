"""A bare grpcio echo server (raw bytes, no protobuf): the ceiling one gRPC hop can reach here."""

from __future__ import annotations

import asyncio
import sys

import grpc


def _identity(data: bytes) -> bytes:
    return data


async def serve(port: int) -> None:
    server = grpc.aio.server()

    async def unary(request: bytes, context) -> bytes:
        return request

    async def bidi(requests, context):
        async for request in requests:
            yield request

    handler = grpc.method_handlers_generic_handler(
        "echo.Echo",
        {
            "Unary": grpc.unary_unary_rpc_method_handler(unary, _identity, _identity),
            "Stream": grpc.stream_stream_rpc_method_handler(bidi, _identity, _identity),
        },
    )
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    print("READY", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1])))
