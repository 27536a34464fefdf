"""The same exported file on a one-node Swarm: every replica used; scaling 3 → 1 → 3 under traffic loses nothing."""

from __future__ import annotations

import threading
import time

from docarray import Document, DocumentArray

from jina import Client
from jina.flow.ports import free_port
from tests.docker.conftest import docker, export_tagger_flow, wait_until


def _post(port: int, count: int, prefix: str = "d") -> DocumentArray:
    docs = DocumentArray([Document(id=f"{prefix}{i}") for i in range(count)])
    return Client(port=port).post("/", docs, request_size=1)


def _running(stack: str, service: str) -> int:
    tasks = docker("service", "ps", f"{stack}_{service}", "--filter", "desired-state=running",
                   "--format", "{{.CurrentState}}").stdout.split("\n")  # fmt: skip
    return sum(line.startswith("Running") for line in tasks)


def _serving(port: int) -> bool:
    try:
        return len(Client(port=port).post("/", DocumentArray([Document()]))) == 1
    except Exception:
        return False


def test_stack_uses_every_replica_and_scaling_under_traffic_loses_nothing(swarm, tmp_path):
    compose_file = export_tagger_flow(tmp_path)
    grpc_port = free_port()
    stack = swarm(compose_file, {"JINA_GATEWAY_PORT": str(grpc_port), "JINA_BRIDGE_PORT": str(free_port())})
    wait_until(lambda: _running(stack, "tagger") == 3 and _serving(grpc_port), 180, what="the stack to serve")

    handled = wait_until(
        lambda: len(found := {d.tags["replica"] for d in _post(grpc_port, 90)}) == 3 and found, 30,
        what="requests on all three replicas",
    )  # fmt: skip
    assert len(handled) == 3

    results: list[tuple[float, DocumentArray]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def traffic() -> None:
        batch = 0
        while not stop.is_set():
            try:
                results.append((time.monotonic(), _post(grpc_port, 50, prefix=f"b{batch}-")))
            except BaseException as exc:  # reported below: a failed request is a lost request
                errors.append(exc)
                return
            batch += 1

    poster = threading.Thread(target=traffic)
    poster.start()
    try:
        scaling = time.monotonic()
        docker("service", "scale", "--detach=false", f"{stack}_tagger=1", timeout=180)
        scaled_down = time.monotonic()
        docker("service", "scale", "--detach=false", f"{stack}_tagger=3", timeout=180)
        scaled_up = time.monotonic()
        time.sleep(1.0)
    finally:
        stop.set()
        poster.join(timeout=120)
    assert not poster.is_alive()
    assert not errors, f"a request failed while scaling: {errors[0]!r}"
    assert all(sorted(d.id for d in batch) == sorted(f"{batch[0].id.split('-')[0]}-{i}" for i in range(50))
               for _, batch in results), "no request lost while scaling"  # fmt: skip
    during = [t for t, _ in results if scaling < t < scaled_up]
    assert len(during) >= 3, f"only {len(during)} batches ran while scaling ({scaled_down - scaling:.1f}s down)"

    # the gateway picks up the new replicas by itself (it re-resolves the service's name)
    started = time.monotonic()
    fresh = wait_until(
        lambda: len(found := {d.tags["replica"] for d in _post(grpc_port, 60)}) == 3 and found, 30,
        what="the new replicas to get requests",
    )  # fmt: skip
    assert len(fresh) == 3 and fresh != handled, "new replica containers took over"
    assert time.monotonic() - started < 15
