"""Real `jina gateway` processes for the shard, join, TLS and unreachable-executor tests."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import grpc
from docarray import Document, DocumentArray
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jina.proto import jina_pb2, jina_pb2_grpc
from jina.wire import dict_to_struct
from tests.conftest import ROOT, stop_processes


def health(address: str, service: str = "") -> str:
    """The health status's name, or the gRPC code when the check itself failed."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(service=service), timeout=2)
        except grpc.RpcError as err:
            return err.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)


def wait_health(address: str, wanted: str, seconds: float, service: str = "") -> float:
    """Seconds until the status is `wanted`; fails after `seconds`."""
    start = time.monotonic()
    while True:
        found = health(address, service)
        if found == wanted:
            return time.monotonic() - start
        if time.monotonic() - start > seconds:
            raise AssertionError(f"{address} {service!r} still {found} after {seconds}s (wanted {wanted})")
        time.sleep(0.1)


@contextlib.contextmanager
def gateway(port: int, topology: dict, log: Path, *args: str, env: dict[str, str] | None = None):
    """`jina gateway --topology ...` on 127.0.0.1, its log in `log`; inside the block once it serves
    (jina.JinaInfoRPC answers: whether its executors answer is for the test to see)."""
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jina", "gateway", "--host", "127.0.0.1", "--port", str(port)]
            + ["--topology", json.dumps(topology), "--log-level", "INFO", *args],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stderr=stderr,
            env={**os.environ, **(env or {})},
        )
    try:
        deadline = time.monotonic() + 20
        while health(f"127.0.0.1:{port}", "jina.JinaInfoRPC") != "SERVING":
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the gateway did not come up:\n{log.read_text()}")
            time.sleep(0.05)
        yield proc
    finally:
        stop_processes(proc)


def post(address: str, endpoint: str = "/", texts=("t",), parameters: dict | None = None) -> jina_pb2.DataRequestProto:
    request = jina_pb2.DataRequestProto()
    request.header.exec_endpoint = endpoint
    if parameters:
        dict_to_struct(parameters, request.parameters)
    request.data.docs.CopyFrom(DocumentArray([Document(text=t) for t in texts]).to_protobuf())
    with grpc.insecure_channel(address) as channel:
        return jina_pb2_grpc.JinaSingleDataRequestRPCStub(channel).process_single_data(request, timeout=15)
