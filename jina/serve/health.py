"""grpc.health.v1.Health: per-service status, with watches that end when the server shuts down.

grpcio's own servicer keeps `Watch` streams open until the server's grace period runs out, so
one watcher (a load balancer, a probe) would delay every shutdown by the whole grace period.
Here a shutdown sends NOT_SERVING to every watcher and then ends the stream.
"""

from __future__ import annotations

import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jina.wire import HEALTH

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING
SERVICE_UNKNOWN = health_pb2.HealthCheckResponse.SERVICE_UNKNOWN
SERVICE_NAME = HEALTH


class HealthServicer(health_pb2_grpc.HealthServicer):
    def __init__(self) -> None:
        self._statuses: dict[str, int] = {}
        self._changed = asyncio.Condition()
        self._shut_down = False

    async def set(self, service: str, status: int) -> None:
        """Set one service's status; ignored after shutdown (a stopping server never serves again)."""
        async with self._changed:
            if self._shut_down:
                return
            self._statuses[service] = status
            self._changed.notify_all()

    async def shutdown(self) -> None:
        """Every service NOT_SERVING; watchers get that, then their streams end."""
        async with self._changed:
            for service in self._statuses:
                self._statuses[service] = NOT_SERVING
            self._shut_down = True
            self._changed.notify_all()

    async def Check(self, request, context):  # noqa: N802 (the RPC's name)
        status = self._statuses.get(request.service)
        if status is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"unknown service {request.service!r}")
        return health_pb2.HealthCheckResponse(status=status)

    async def Watch(self, request, context):  # noqa: N802 (the RPC's name)
        last = None
        while True:
            async with self._changed:
                status = self._statuses.get(request.service, SERVICE_UNKNOWN)
                if status == last and not self._shut_down:
                    await self._changed.wait()
                    continue
                done = self._shut_down
            if status != last:
                yield health_pb2.HealthCheckResponse(status=status)
                last = status
            if done:
                return
