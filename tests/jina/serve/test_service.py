"""A service process's lifecycle as seen from outside: health, port conflicts, readiness reports."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jina.excepts import RuntimeFailToStart
from jina.flow import launcher
from jina.flow.ports import free_port
from jina.serve.service import GrpcService


def service(kind: str, port: int, *extra: str) -> launcher.ServiceProcess:
    argv = launcher.python_argv(kind, "--host", "127.0.0.1", "--port", str(port), "--log-level", "ERROR", *extra)
    return launcher.ServiceProcess(kind, argv, launcher.child_env(), port)


@pytest.mark.parametrize("kind", ["gateway", "executor"])
def test_health_is_serving_when_ready_and_not_serving_on_shutdown(kind):
    proc = service(kind, free_port())
    proc.start()
    try:
        launcher.wait_ready([proc], timeout=30)
        seen: list[int] = []
        with grpc.insecure_channel(f"127.0.0.1:{proc.port}") as channel:
            watch = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(service="jina.JinaRPC"))
            first = threading.Event()

            def follow() -> None:
                try:
                    for reply in watch:
                        seen.append(reply.status)
                        first.set()
                except grpc.RpcError:
                    pass

            reader = threading.Thread(target=follow)
            reader.start()
            assert first.wait(10)
            proc.signal(signal.SIGTERM)
            reader.join(15)
        assert proc.process.wait(10) == 0
    finally:
        launcher.stop_all([proc], grace=1)
    serving, not_serving = health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
    assert seen[:2] == [serving, not_serving]


def test_a_taken_port_fails_start_up_naming_the_port():
    port = free_port()
    first = service("executor", port)
    first.start()
    try:
        launcher.wait_ready([first], timeout=30)
        second = service("executor", port)
        second.start()
        with pytest.raises(RuntimeFailToStart, match=f"port {port} is already in use"):
            launcher.wait_ready([second], timeout=30)
        assert second.process.wait(10) != 0
    finally:
        launcher.stop_all([first], grace=1)


def test_the_caller_owns_the_status_of_the_services_it_names():
    async def scenario() -> list[dict[str, str]]:
        port = free_port()
        service = GrpcService(
            name="t",
            host="127.0.0.1",
            port=port,
            registrars=[],
            service_names=["x.Data", "x.Info"],
            logger=logging.getLogger("jina.test"),
            caller_controlled=("", "x.Data"),
        )
        serving = asyncio.ensure_future(service.serve())
        seen = []
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)

            async def statuses() -> dict[str, str]:
                found = {}
                for name in ("", "x.Data", "x.Info"):
                    reply = await stub.Check(health_pb2.HealthCheckRequest(service=name), wait_for_ready=True)
                    found[name] = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
                return found

            seen.append(await statuses())
            await service.set_serving(True)
            seen.append(await statuses())
            await service.set_serving(False)
            seen.append(await statuses())
            await service.set_serving(True)
            service.request_stop()
            await serving
            await service.set_serving(True)  # once stopping, never SERVING again
            seen.append(dict(service._health._statuses))
        return seen

    down, up, back_down, stopped = asyncio.run(scenario())
    assert down == {"": "NOT_SERVING", "x.Data": "NOT_SERVING", "x.Info": "SERVING"}
    assert up == {"": "SERVING", "x.Data": "SERVING", "x.Info": "SERVING"}
    assert back_down == down
    assert set(stopped.values()) == {health_pb2.HealthCheckResponse.NOT_SERVING}


def test_the_caller_can_only_own_services_that_are_served():
    with pytest.raises(ValueError, match="x.Other"):
        GrpcService(
            name="t",
            host="127.0.0.1",
            port=0,
            registrars=[],
            service_names=["x.Data"],
            logger=logging.getLogger("jina.test"),
            caller_controlled=("x.Other",),
        )
