"""Run a grpc.aio server as a service process: health, reflection, readiness, graceful stop.

Every process of a Flow (gateway, executors) runs through `GrpcService`:

* it registers the servicers, `grpc.health.v1.Health` and server reflection listing every
  served service (so `grpcurl list` shows them all, health included);
* binds the port (an address already in use is an error, never silently shared);
* marks each service SERVING as soon as it listens, NOT_SERVING when it begins to stop; those
  named in `caller_controlled` (a gateway's, which depend on its executors) say NOT_SERVING
  until the caller's `set_serving(True)`, and follow it afterwards;
* runs `on_started` (a warm-up), then tells the parent it is ready through its ready pipe, or
  why it failed (`jina.serve.process`);
* stops on SIGTERM, SIGINT, or when the parent's lifeline pipe closes (the parent died), letting
  in-flight calls finish within `grace` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

import grpc
from grpc_health.v1 import health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from jina.serve import health
from jina.serve.net import port_in_use
from jina.serve.options import server_options
from jina.serve.process import ParentPipes

Registrar = Callable[[grpc.aio.Server], None]

#: seconds in-flight calls get to finish once a stop is requested
DEFAULT_GRACE = 5.0


class GrpcService:
    def __init__(
        self,
        *,
        name: str,
        host: str,
        port: int | None,
        registrars: Sequence[Registrar],
        service_names: Sequence[str],
        logger: logging.Logger,
        parent: ParentPipes | None = None,
        grace: float = DEFAULT_GRACE,
        on_started: Callable[[], Awaitable[None]] | None = None,
        on_stopping: Callable[[], Awaitable[None]] | None = None,
        on_closed: Callable[[], Awaitable[None]] | None = None,
        compression: grpc.Compression | None = None,
        tls: tuple[bytes, bytes] | None = None,
        client_ca: bytes | None = None,
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        internal_port: int | None = None,
        internal_host: str = "127.0.0.1",
        caller_controlled: Sequence[str] = (),
    ):
        self.name = name
        self.host = host
        self.port = port
        #: a plaintext port as well (for the bridge and the Flow, when `port` speaks TLS); on
        #: 127.0.0.1 unless the bridge runs elsewhere (another container: 0.0.0.0)
        self.internal_port = internal_port
        self.internal_host = internal_host
        self._registrars = registrars
        self._service_names = list(service_names)
        every = ["", *self._service_names]
        unknown = [s for s in caller_controlled if s not in every]
        if unknown:
            raise ValueError(f"caller_controlled names services not served here: {unknown}")
        #: health names ("" is the server as a whole) whose status set_serving() decides
        self._controlled = [s for s in every if s in caller_controlled]
        self._own = [s for s in every if s not in caller_controlled]
        self._logger = logger
        self._parent = parent or ParentPipes()
        self._grace = grace
        self._on_started = on_started
        self._on_stopping = on_stopping
        self._on_closed = on_closed
        self._compression = compression
        #: (certificate chain, private key), PEM: serve TLS instead of plaintext
        self._tls = tls
        #: PEM of the authority whose certificates clients of `port` must present (mutual TLS)
        self._client_ca = client_ca
        if client_ca is not None and tls is None:
            raise ValueError("a client certificate authority needs TLS (a certificate and key) on the port")
        self._interceptors = list(interceptors)
        self._stop = asyncio.Event()
        self._health = health.HealthServicer()

    def request_stop(self) -> None:
        self._stop.set()

    async def _set_health(self, services: Sequence[str], status: int) -> None:
        for service in services:
            await self._health.set(service, status)

    async def set_serving(self, serving: bool) -> None:
        """Set the status of the `caller_controlled` services (ignored once stopping)."""
        await self._set_health(self._controlled, health.SERVING if serving else health.NOT_SERVING)

    def _build_server(self) -> grpc.aio.Server:
        server = grpc.aio.server(
            options=server_options(), compression=self._compression, interceptors=self._interceptors or None
        )
        for register in self._registrars:
            register(server)
        health_pb2_grpc.add_HealthServicer_to_server(self._health, server)
        reflection.enable_server_reflection(
            [*self._service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server
        )
        if self.port is not None:
            self.port = self._bind(server, self.host, self.port, self._credentials())
        if self.internal_port is not None:
            self.internal_port = self._bind(server, self.internal_host, self.internal_port, None)
        return server

    def _credentials(self) -> grpc.ServerCredentials | None:
        if self._tls is None:
            return None
        certificate, key = self._tls
        return grpc.ssl_server_credentials(
            [(key, certificate)], root_certificates=self._client_ca, require_client_auth=self._client_ca is not None
        )

    @staticmethod
    def _bind(server: grpc.aio.Server, host: str, port: int, credentials: grpc.ServerCredentials | None) -> int:
        address = f"{host}:{port}"
        try:
            if credentials is not None:
                bound = server.add_secure_port(address, credentials)
            else:
                bound = server.add_insecure_port(address)
        except RuntimeError as exc:
            raise port_in_use(host, port) from exc
        if bound == 0:
            raise port_in_use(host, port)
        return bound

    def _install_stop_triggers(self, loop: asyncio.AbstractEventLoop) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)

        def parent_gone() -> None:
            self._logger.debug("parent process went away; stopping")
            self.request_stop()

        self._parent.watch_lifeline(loop, parent_gone)

    async def serve(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            server = self._build_server()
            await self._set_health([*self._controlled, *self._own], health.NOT_SERVING)
            await server.start()
            # what the caller does not control serves as soon as the server does: for a gateway
            # waiting for its executors, jina.JinaInfoRPC answers (a liveness check) meanwhile
            await self._set_health(self._own, health.SERVING)
            if self._on_started is not None:
                await self._on_started()
        except BaseException as exc:
            self._parent.report_failure(exc)
            raise
        self._install_stop_triggers(loop)
        security = " (mutual TLS)" if self._client_ca else " (TLS)" if self._tls else ""
        where = [f"{self.host}:{self.port}{security}"] if self.port is not None else []
        if self.internal_port is not None:
            where.append(f"{self.internal_host}:{self.internal_port}")
        self._logger.info("%s serving on %s", self.name, ", ".join(where))
        ready_port = self.port if self.port is not None else self.internal_port
        self._parent.report_ready(ready_port)
        await self._stop.wait()
        self._logger.debug("%s stopping (grace %.1fs)", self.name, self._grace)
        await self._health.shutdown()
        if self._on_stopping is not None:
            await self._on_stopping()
        await server.stop(self._grace)
        if self._on_closed is not None:
            await self._on_closed()
        self._logger.debug("%s stopped", self.name)
