"""Transport costs: gzip vs none on the internal hop, TLS vs plaintext, memory under an endless stream.

Run:  .venv/bin/python benchmarks/bench_transport.py [--quick]

Prints one table. The byte counts come from a proxy placed between the gateway and the executor
(tests/transport/h2spy.py), so they are what really crosses that hop.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import trustme
from docarray import Document, DocumentArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.table import print_table  # noqa: E402
from jina import Client, Executor, Flow, requests  # noqa: E402
from jina.flow import launcher  # noqa: E402
from jina.flow.ports import free_port  # noqa: E402
from tests.transport import h2spy  # noqa: E402


class AppendOne(Executor):
    @requests
    def foo(self, docs: DocumentArray, **kwargs):
        docs.append(Document(text="foo was called"))


class TenMilliseconds(Executor):
    @requests
    def slow(self, docs, **kwargs):
        time.sleep(0.01)


def hundred_docs() -> DocumentArray:
    words = "search engines index documents by the words they contain and rank them by relevance".split()
    return DocumentArray(
        [Document(text=" ".join(words[(i + j) % len(words)] for j in range(40)), tags={"i": i}) for i in range(100)]
    )


def internal_hop(compression: str, requests_count: int) -> tuple[float, float]:
    """(req/s of sequential 100-doc posts, bytes per request gateway→executor) with this compression."""
    env = launcher.child_env()
    executor_port, gateway_port = free_port(), free_port()
    argv = ["--host", "127.0.0.1", "--compression", compression]
    executor = launcher.ServiceProcess(
        "executor",
        launcher.python_argv("executor", "--uses", "benchmarks.bench_core:AppendOne", "--port", str(executor_port),
                             *argv),
        env, executor_port,
    )  # fmt: skip
    executor.start()
    launcher.wait_ready([executor], 60)
    spy, stop_spy = h2spy.start(executor_port)
    gateway = launcher.ServiceProcess(
        "gateway",
        launcher.python_argv("gateway", "--port", str(gateway_port), "--executors", f"e=127.0.0.1:{spy.port}", *argv),
        env, gateway_port,
    )  # fmt: skip
    gateway.start()
    try:
        launcher.wait_ready([gateway], 60)
        docs = hundred_docs()
        with Client(port=gateway_port, compression=compression) as client:
            for _ in range(10):
                client.post("/", docs)
            before = spy.bytes_up
            started = time.perf_counter()
            for _ in range(requests_count):
                client.post("/", docs)
            elapsed = time.perf_counter() - started
        return requests_count / elapsed, (spy.bytes_up - before) / requests_count
    finally:
        launcher.stop_all([gateway], 2)
        launcher.stop_all([executor], 2)
        stop_spy()


def grpc_throughput(tls: dict | None, count: int) -> tuple[float, float]:
    """(sequential 1-doc req/s, streamed request_size=1 req/s) over the public gRPC port."""
    options = {"ssl_certfile": tls["cert"], "ssl_keyfile": tls["key"]} if tls else {}
    flow = Flow(host="127.0.0.1", **options).add(uses=AppendOne)
    with flow:
        client_options = {"tls": True, "ca_certs": tls["ca"]} if tls else {}
        with Client(host="localhost" if tls else "127.0.0.1", port=flow.port, **client_options) as client:
            for _ in range(50):
                client.post("/", Document(text="x"))
            started = time.perf_counter()
            for _ in range(count):
                client.post("/", Document(text="x"))
            sequential = count / (time.perf_counter() - started)
            docs = DocumentArray([Document(text=str(i)) for i in range(count * 2)])
            started = time.perf_counter()
            client.post("/", docs, request_size=1)
            streamed = len(docs) / (time.perf_counter() - started)
    return sequential, streamed


def make_tls(folder: Path) -> dict:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    paths = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(paths["ca"])
    cert.cert_chain_pems[0].write_to_path(paths["cert"])
    cert.private_key_pem.write_to_path(paths["key"])
    return {k: str(v) for k, v in paths.items()}


def memory_under_endless_stream(seconds: float) -> tuple[float, float, int]:
    """(MB at start, MB at the end, requests served) of all Flow processes plus the client, while the
    seed's endless generator runs through a 10 ms executor with prefetch=2."""
    flow = Flow(host="127.0.0.1", prefetch=2).add(uses=TenMilliseconds)
    with flow:
        processes = [psutil.Process(pid) for pid in flow.pids.values()] + [psutil.Process(os.getpid())]
        stop = threading.Event()
        served = [0]

        def requests_generator():
            for i in itertools.count():
                if stop.is_set():
                    return
                yield Document(text=f"document {i}")

        def on_done(_response) -> None:
            served[0] += 1

        worker = threading.Thread(
            target=lambda: flow.post(on="/", inputs=requests_generator, request_size=1, on_done=on_done)
        )
        worker.start()
        time.sleep(min(5.0, seconds / 4))  # warmed up: channels, caches, first allocations
        start_mb = sum(p.memory_info().rss for p in processes) / 2**20
        time.sleep(seconds)
        end_mb = sum(p.memory_info().rss for p in processes) / 2**20
        stop.set()
        worker.join(30)
    return start_mb, end_mb, served[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer iterations and a 10 s memory run")
    args = parser.parse_args()
    count = 100 if args.quick else 400
    rows = []
    for compression in ("none", "gzip"):
        rate, size = internal_hop(compression, count // 2)
        rows.append((f"100-doc post(), compression={compression}", f"{rate:,.0f} req/s",
                     f"{size / 1024:,.1f} KiB/req on gateway→executor"))  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        tls = make_tls(Path(folder))
        plain_seq, plain_stream = grpc_throughput(None, count)
        tls_seq, tls_stream = grpc_throughput(tls, count)
    rows.append(("gRPC sequential 1-doc, plaintext", f"{plain_seq:,.0f} req/s", ""))
    rows.append(("gRPC sequential 1-doc, TLS", f"{tls_seq:,.0f} req/s", f"cost {1 - tls_seq / plain_seq:.0%} (< 25%)"))
    rows.append(("gRPC streamed, plaintext", f"{plain_stream:,.0f} req/s", ""))
    rows.append(("gRPC streamed, TLS", f"{tls_stream:,.0f} req/s", f"cost {1 - tls_stream / plain_stream:.0%} (< 25%)"))
    seconds = 10.0 if args.quick else 60.0
    start_mb, end_mb, served = memory_under_endless_stream(seconds)
    rows.append((
        f"endless generator, prefetch=2, 10 ms executor, {seconds:.0f} s",
        f"{start_mb:,.0f} → {end_mb:,.0f} MB",
        f"growth {end_mb - start_mb:+.1f} MB (< 50 MB), {served:,} requests",
    ))  # fmt: skip
    print_table("jina-mesh transport", ("scenario", "measured", "note"), rows)


if __name__ == "__main__":
    main()
