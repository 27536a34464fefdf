"""An exported Flow with `replicas: 3` under Compose: one name, every replica used, a killed one loses nothing."""

from __future__ import annotations

import threading
import time

from docarray import Document, DocumentArray

from jina import Client
from jina.flow.ports import free_port
from tests.docker.conftest import docker, export_tagger_flow


def _post(port: int, count: int) -> DocumentArray:
    docs = DocumentArray([Document(id=f"d{i}") for i in range(count)])
    return Client(port=port).post("/", docs, request_size=1)


def test_requests_reach_every_replica_and_a_killed_replica_loses_none(compose_project, tmp_path):
    compose_file = export_tagger_flow(tmp_path)
    grpc_port = free_port()
    project = compose_project(tmp_path, {"JINA_GATEWAY_PORT": str(grpc_port), "JINA_BRIDGE_PORT": str(free_port())})
    project.up()
    replicas = project.containers("tagger")
    assert len(replicas) == 3
    assert compose_file.with_name("docker-compose.override.yml").is_file()

    first = _post(grpc_port, 300)
    assert sorted(d.id for d in first) == sorted(f"d{i}" for i in range(300))
    handled = {d.tags["replica"] for d in first}
    hostnames = {docker("inspect", "--format", "{{.Config.Hostname}}", c).stdout.strip() for c in replicas}
    assert handled == hostnames, "every replica gets requests"

    results: list[DocumentArray] = []
    poster = threading.Thread(target=lambda: results.append(_post(grpc_port, 600)))
    poster.start()
    time.sleep(1.0)
    assert poster.is_alive(), "the replica is killed while requests are under way"
    docker("kill", replicas[0])  # SIGKILL, as `docker compose kill` sends, to one replica only
    poster.join(timeout=120)
    assert not poster.is_alive()
    (second,) = results
    assert sorted(d.id for d in second) == sorted(f"d{i}" for i in range(600)), "no request lost"
    assert all(d.tags.get("replica") for d in second)
