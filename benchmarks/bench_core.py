"""Throughput and start-up of the gRPC path, against the targets of the gRPC-core issue.

Run:  .venv/bin/python benchmarks/bench_core.py [--quick]

One Executor that appends one Document; client and Flow on this machine. Prints one table:
what was measured, the target, and real Jina 3.34's number on this kind of machine (from the
issue), plus the bare-grpcio ceiling measured in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import grpc
from docarray import Document, DocumentArray

from jina import Client, Executor, Flow, requests
from jina.flow.ports import free_port
from jina.serve.net import port_is_free

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.table import print_table  # noqa: E402

SEED_SAMPLE = ROOT / "tests" / "acceptance" / "samples" / "grpc_sample.py"


class AppendOne(Executor):
    @requests
    def foo(self, docs: DocumentArray, **kwargs):
        docs.append(Document(text="foo was called"))


def rate(count: int, seconds: float) -> float:
    return count / seconds


def bench_sequential(port: int, n: int, docs_per_request: int) -> float:
    inputs = DocumentArray([Document(text=f"doc {i}") for i in range(docs_per_request)])
    with Client(port=port) as client:
        for _ in range(20):
            client.post("/", inputs)
        started = time.perf_counter()
        for _ in range(n):
            client.post("/", inputs)
        return rate(n, time.perf_counter() - started)


def bench_streamed(port: int, n: int, docs_out_per_doc: int = 2) -> float:
    """One post() of n documents, one request each; AppendOne answers two documents per request."""
    inputs = DocumentArray([Document(text=f"doc {i}") for i in range(n)])
    with Client(port=port) as client:
        client.post("/", inputs[:100], request_size=1)
        started = time.perf_counter()
        docs = client.post("/", inputs, request_size=1)
        elapsed = time.perf_counter() - started
    assert len(docs) == docs_out_per_doc * n, len(docs)
    return rate(n, elapsed)


def bench_concurrent(port: int, clients: int, per_client: int) -> float:
    async def one_client() -> None:
        client = Client(port=port, asyncio=True)
        for _ in range(per_client):
            async for _docs in client.post("/", Document(text="x")):
                pass
        await client.close()

    async def run() -> float:
        await asyncio.gather(*(one_client() for _ in range(clients)))  # warm-up: channels, discovery
        started = time.perf_counter()
        await asyncio.gather(*(one_client() for _ in range(clients)))
        return rate(clients * per_client, time.perf_counter() - started)

    return asyncio.run(run())


def bench_flow_entry(runs: int, executors: int = 1) -> float:
    times = []
    for _ in range(runs):
        flow = Flow(host="127.0.0.1")
        for _ in range(executors):
            flow.add(uses=AppendOne)
        started = time.perf_counter()
        flow.start()
        times.append(time.perf_counter() - started)
        flow.close()
    return statistics.median(times)


def bench_seed_process(runs: int) -> float | None:
    times = []
    for _ in range(runs):
        if not port_is_free(12345):
            return None
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(SEED_SAMPLE)], capture_output=True, text=True, cwd="/tmp")
        times.append(time.perf_counter() - started)
        assert result.stdout.strip().endswith("['foo was called']"), result.stderr
    return statistics.median(times)


def bench_echo(n_unary: int, n_stream: int) -> tuple[float, float]:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, str(Path(__file__).parent / "grpc_echo.py"), str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout.readline().strip() == "READY"
        identity = lambda b: b  # noqa: E731
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            unary = channel.unary_unary("/echo.Echo/Unary", identity, identity)
            stream = channel.stream_stream("/echo.Echo/Stream", identity, identity)
            payload = b"x" * 200
            for _ in range(100):
                unary(payload)
            started = time.perf_counter()
            for _ in range(n_unary):
                unary(payload)
            unary_rate = rate(n_unary, time.perf_counter() - started)
            started = time.perf_counter()
            received = sum(1 for _ in stream(iter([payload] * n_stream)))
            stream_rate = rate(received, time.perf_counter() - started)
        return unary_rate, stream_rate
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations (a smoke run, noisier numbers)")
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0

    def n(value: int) -> int:
        return max(10, int(value * scale))

    rows: list[tuple[str, str, str, str]] = []
    flow = Flow(host="127.0.0.1").add(uses=AppendOne)
    with flow:
        seq = bench_sequential(flow.port, n(2000), 1)
        rows.append(("sequential 1-doc post()", f"{seq:,.0f} req/s", ">= 400 req/s", "63 req/s"))
        streamed = bench_streamed(flow.port, n(10000))
        rows.append(("one post() of docs, request_size=1", f"{streamed:,.0f} req/s", ">= 1,500 req/s", "305 req/s"))
        concurrent = bench_concurrent(flow.port, 16, n(200))
        rows.append(("16 concurrent async clients, 1 doc", f"{concurrent:,.0f} req/s", ">= 800 req/s", "167 req/s"))
        hundred = bench_sequential(flow.port, n(500), 100)
        rows.append(("sequential 100-doc post()", f"{hundred:,.0f} req/s", ">= 150 req/s", "36 req/s"))
    entry = bench_flow_entry(3 if args.quick else 5)
    rows.append(("`with f:` entry (1 executor), median", f"{entry:.2f} s", "<= 1.2 s", "0.18-0.72 s"))
    entry5 = bench_flow_entry(3 if args.quick else 5, executors=5)
    rows.append(("`with f:` entry (5 executors), median", f"{entry5:.2f} s", "< 2 s", "-"))
    seed = bench_seed_process(3 if args.quick else 5)
    rows.append(
        (
            "seed gRPC sample, whole process, median",
            "port 12345 busy" if seed is None else f"{seed:.2f} s",
            "<= 2.0 s",
            "2.6-2.8 s",
        )
    )
    unary, stream = bench_echo(n(5000), n(20000))
    rows.append(("ceiling: bare grpcio unary, 1 hop", f"{unary:,.0f} req/s", "-", "-"))
    rows.append(("ceiling: bare grpcio bidi stream, 1 hop", f"{stream:,.0f} msg/s", "-", "-"))

    print_table("jina-mesh gRPC core", ("scenario", "measured", "target", "Jina 3.34"), rows)


if __name__ == "__main__":
    main()
