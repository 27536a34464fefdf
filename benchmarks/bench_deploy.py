"""The demo Flow in containers (Docker Compose) against the same Flow as local processes.

Run:  .venv/bin/python benchmarks/bench_deploy.py [--quick]
      (needs a Docker engine with Compose v2 and the image: scripts/docker-engine.sh start,
      scripts/docker-images.sh)

Prints the image's size, `docker compose up` until every service is healthy, and gRPC
requests per second (sequential 1-document `post()`, and one streamed `post()` with
`request_size=1`) through the containers and through `with Flow.load_config(deploy/flow.yml)`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jina
from jina import Flow
from jina.flow.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_core import bench_sequential, bench_streamed  # noqa: E402
from benchmarks.table import print_table  # noqa: E402

IMAGE = os.environ.get("JINA_IMAGE", f"jina-mesh:{jina.__version__}")
DEPLOY = ROOT / "deploy"


def docker(*args: str, env: dict | None = None) -> str:
    return subprocess.run(
        ["docker", *args], check=True, capture_output=True, text=True, cwd=DEPLOY, env={**os.environ, **(env or {})}
    ).stdout


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer requests")
    args = parser.parse_args()
    n_seq, n_stream = (300, 1000) if args.quick else (1000, 3000)

    size = int(json.loads(docker("image", "inspect", "--format", "{{json .Size}}", IMAGE)))
    grpc_port, http_port = free_port(), free_port()
    env = {"JINA_GATEWAY_PORT": str(grpc_port), "JINA_BRIDGE_PORT": str(http_port)}
    project = f"jmbench-{uuid.uuid4().hex[:6]}"
    started = time.monotonic()
    docker("compose", "-p", project, "up", "-d", "--wait", env=env)
    up_seconds = time.monotonic() - started
    try:
        containers = (bench_sequential(grpc_port, n_seq, 1), bench_streamed(grpc_port, n_stream, 1))
    finally:
        docker("compose", "-p", project, "down", "-t", "5", env=env)

    # the same YAML on free ports, next to the original so that its relative paths still hold
    text = (
        (DEPLOY / "flow.yml").read_text().replace("[12345, 12346, 12346]", f"[{free_port()}, {http_port}, {http_port}]")
    )
    copy = DEPLOY / f".bench-{project}.yml"
    copy.write_text(text)
    try:
        with Flow.load_config(copy) as flow:
            local = (bench_sequential(flow.port, n_seq, 1), bench_streamed(flow.port, n_stream, 1))
    finally:
        copy.unlink()

    rows = [
        ["image size", f"{size / 1e6:.0f} MB", ""],
        ["`docker compose up` to all healthy", f"{up_seconds:.1f} s", ""],
        ["gRPC sequential, 1 doc (req/s)", f"{containers[0]:.0f}", f"{local[0]:.0f}"],
        [f"gRPC one post() of {n_stream} docs, request_size=1 (req/s)", f"{containers[1]:.0f}", f"{local[1]:.0f}"],
    ]
    print_table("The demo Flow (deploy/flow.yml), Compose vs local processes", ["", "containers", "local"], rows)


if __name__ == "__main__":
    main()
