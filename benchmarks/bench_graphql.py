"""GraphQL's cost: requests per second of a one-document GraphQL mutation vs `POST /post`, same Flow.

Run:  .venv/bin/python benchmarks/bench_graphql.py [--quick]

One Flow (http, expose_graphql_endpoint=True, one executor that appends a document) serves both
routes; each row is N requests from C clients (threads, one keep-alive httpx client each), after a
warm-up, so the difference is the bridge's GraphQL work (parse, validate, resolve, select).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_core import AppendOne  # noqa: E402
from benchmarks.table import print_table  # noqa: E402
from jina import Flow  # noqa: E402
from jina.flow.ports import free_port  # noqa: E402

MUTATION = 'mutation { docs(data: [{text: "hello"}], execEndpoint: "/") { id text } }'
ROUTES = {
    "POST /graphql (mutation)": ("/graphql", {"query": MUTATION}),
    "POST /post": ("/post", {"data": [{"text": "hello"}], "execEndpoint": "/"}),
}


def _check(path: str, reply: httpx.Response) -> None:
    assert reply.status_code == 200, reply.text
    body = reply.json()
    docs = body["data"]["docs"] if path == "/graphql" else body["data"]
    assert [d["text"] for d in docs] == ["hello", "foo was called"], body


def rate(base: str, path: str, body: dict, clients: int, count: int) -> tuple[float, float]:
    """(requests per second, median latency in ms) of `count` requests from `clients` threads."""
    latencies: list[float] = []
    lock = threading.Lock()
    per_client = count // clients

    def work() -> None:
        mine = []
        with httpx.Client(base_url=base, timeout=60) as http:
            for _ in range(5):  # warm-up: connection, the bridge's caches
                _check(path, http.post(path, json=body))
            barrier.wait()
            for _ in range(per_client):
                started = time.perf_counter()
                reply = http.post(path, json=body)
                mine.append(time.perf_counter() - started)
                _check(path, reply)
        with lock:
            latencies.extend(mine)

    barrier = threading.Barrier(clients + 1)
    threads = [threading.Thread(target=work) for _ in range(clients)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return len(latencies) / elapsed, statistics.median(latencies) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (a smoke run)")
    args = parser.parse_args()
    count = 200 if args.quick else 2000
    flow = Flow(protocol="http", host="127.0.0.1", port=free_port(), expose_graphql_endpoint=True).add(uses=AppendOne)
    rows = []
    with flow:
        base = f"http://127.0.0.1:{flow.port}"
        for clients in (1, 4, 16):
            results = {name: rate(base, path, body, clients, count) for name, (path, body) in ROUTES.items()}
            graphql_rate, post_rate = (results[name][0] for name in ROUTES)
            for name, (per_second, median) in results.items():
                rows.append(
                    [
                        name,
                        str(clients),
                        str(count // clients * clients),
                        f"{per_second:.0f}",
                        f"{median:.2f}",
                        f"{graphql_rate / post_rate:.2f}" if name.startswith("POST /graphql") else "1.00",
                    ]
                )
    print_table(
        "One-document requests through the bridge: GraphQL vs /post",
        ["route", "clients", "requests", "req/s", "median ms", "vs /post"],
        rows,
    )


if __name__ == "__main__":
    main()
