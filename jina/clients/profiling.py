"""`client.profiling()`: where one request's time went, read from the routes of its response.

The gateway's route entry spans the request's time inside the Flow; each executor's entry spans
its own work. The report has Jina's keys, in milliseconds: `Roundtrip` (as the client measured it),
`Client-server network` (roundtrip less the gateway's time), `Server` (the gateway's time),
`Gateway-executors network` (the gateway's time when no executor was working) and one key per
executor (its time). Jina subtracts the sum of the executors' times for the network share, which
goes negative when branches of the Flow run in parallel; here overlapping executor times count
once, so that share is what the gateway really spent outside the executors (the same number for
a chain).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from jina.proto import jina_pb2

GATEWAY = "gateway"


def _millis(timestamp) -> float:
    return timestamp.seconds * 1000.0 + timestamp.nanos / 1e6


def _span(route: jina_pb2.RouteProto) -> tuple[float, float]:
    start = _millis(route.start_time)
    return start, max(start, _millis(route.end_time))


def covered(spans: Iterable[tuple[float, float]]) -> float:
    """How long at least one of the spans was running (overlaps counted once)."""
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end > reach:
            total += end - max(start, reach)
            reach = end
    return total


def latency_report(routes: Sequence[jina_pb2.RouteProto], roundtrip_ms: float) -> dict[str, float]:
    """Jina's profiling dict for a response with these routes, `roundtrip_ms` after its request was sent."""
    gateway = [route for route in routes if route.executor == GATEWAY][:1] or list(routes[:1])
    server = covered([_span(gateway[0])]) if gateway else 0.0
    executors: dict[str, list[tuple[float, float]]] = {}
    for route in routes:
        if gateway and route is gateway[0]:
            continue
        executors.setdefault(route.executor, []).append(_span(route))
    busy = covered(span for spans in executors.values() for span in spans)
    return {
        "Roundtrip": roundtrip_ms,
        "Client-server network": roundtrip_ms - server,
        "Server": server,
        "Gateway-executors network": max(server - busy, 0.0),
        **{name: covered(spans) for name, spans in executors.items()},
    }


def print_report(report: dict[str, float]) -> None:
    """The report as Jina prints it: a tree of times and their shares of the level above."""
    from rich import print as rich_print
    from rich.table import Table
    from rich.tree import Tree

    def row(title: str, ms: float, whole: float) -> Table:
        table = Table(show_header=False, box=None)
        share = ms / whole if whole > 0 else 0.0
        table.add_row(title, f"[b]{ms:.0f}[/b]ms", f"[dim]{share * 100:.0f}%[/dim]")
        return table

    roundtrip, server = report["Roundtrip"], report["Server"]
    tree = Tree(row("Roundtrip", roundtrip, roundtrip))
    tree.add(row("Client-server network", report["Client-server network"], roundtrip))
    inside = tree.add(row("Server", server, roundtrip))
    inside.add(row("Gateway-executors network", report["Gateway-executors network"], server))
    for name, ms in list(report.items())[4:]:
        inside.add(row(name, ms, server))
    rich_print(tree)
