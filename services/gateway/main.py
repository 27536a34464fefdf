"""`jina gateway`: serve the Flow's gRPC entry point in front of its executors."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence

from jina_mesh.services.gateway.admission import DEFAULT_MAX_QUEUED_REQUESTS, Admission
from jina_mesh.services.gateway.readiness import ReadinessMonitor
from jina_mesh.services.gateway.replica_set import DEFAULT_RESOLVE_INTERVAL
from jina_mesh.services.gateway.router import Router
from jina_mesh.services.gateway.servicer import READINESS_GATED, SERVICE_NAMES, GatewayServicer, registrars
from jina_mesh.services.gateway.shards import connect

from jina import logs
from jina.serve.access import token_from_env
from jina.serve.access_grpc import TokenInterceptor
from jina.serve.cli_common import add_common_arguments, client_ca, run_service, tls_files
from jina.serve.compression import parse_compression
from jina.serve.process import ParentPipes
from jina.serve.service import GrpcService
from jina.topology import Topology

DEFAULT_PREFETCH = 1000
#: --port when neither it nor --internal-port is given
DEFAULT_PORT = 8080


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text}: give seconds >= 0")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jina gateway",
        description="Serve a Flow's gRPC gateway: routes every request through the executors in order.",
    )
    parser.add_argument(
        "--executors",
        nargs="*",
        default=[],
        metavar="NAME=HOST:PORT[,HOST:PORT]",
        help="the executors in the order requests visit them; several addresses are replicas",
    )
    parser.add_argument(
        "--topology",
        default=None,
        metavar="JSON|@FILE",
        help='the executor graph: {"executors": [{"name", "addresses", "needs", "shards", "polling", "tls", "join"}], '
        '"end": NAME} (replaces --executors; see jina/topology.py)',
    )
    parser.add_argument(
        "--prefetch",
        type=int,
        default=DEFAULT_PREFETCH,
        help="most requests of one client stream in flight at once; 0 = no limit (default: %(default)s)",
    )
    parser.add_argument(
        "--max-queued-requests",
        type=int,
        default=DEFAULT_MAX_QUEUED_REQUESTS,
        help="most data requests the gateway holds at once, across all clients; one more is refused with "
        "RESOURCE_EXHAUSTED and a retry-after; 0 = no limit (default: %(default)s)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="let internal detail (executor addresses, gRPC transport errors) through in error messages",
    )
    parser.add_argument(
        "--timeout-send",
        type=int,
        default=None,
        help="deadline in milliseconds of each call to an executor (default: none)",
    )
    parser.add_argument(
        "--warmup-timeout",
        type=float,
        default=10.0,
        help="seconds to wait at start for the executors to answer endpoint discovery (default: %(default)s)",
    )
    parser.add_argument(
        "--internal-port",
        type=int,
        default=None,
        help="also serve plaintext at this port on --internal-host (for a bridge next to it when --port speaks "
        "TLS); given alone, the gateway serves only there",
    )
    parser.add_argument(
        "--internal-host",
        default="127.0.0.1",
        help="address --internal-port binds; 0.0.0.0 in a container, so that a bridge in another one "
        "reaches it (default: %(default)s)",
    )
    parser.add_argument(
        "--resolve-interval",
        type=_seconds,
        default=DEFAULT_RESOLVE_INTERVAL,
        metavar="SECONDS",
        help="how often executor addresses given as DNS names are resolved again, so replicas that come "
        "and go are followed; 0 = only when every replica failed (default: %(default)s)",
    )
    # no argparse default: given alone, --internal-port is the only port (see main)
    add_common_arguments(
        parser,
        default_port=None,
        port_help=f"port to listen on (default: {DEFAULT_PORT}, or none when only --internal-port is given)",
        tls=True,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.port is None and args.internal_port is None:
        args.port = DEFAULT_PORT
    name = args.name or "gateway"
    logger = logs.configure(name, args.log_level)
    parent = ParentPipes.from_args(args)

    def build() -> GrpcService:
        # read, and dropped from the environment, before anything could report it
        token = token_from_env()
        if args.topology and args.executors:
            raise ValueError("give either --executors (a chain) or --topology (a graph), not both")
        topology = Topology.from_json(args.topology) if args.topology else Topology.parse(args.executors)
        compression = parse_compression(args.compression)
        executors = [connect(node, compression, resolve_interval=args.resolve_interval) for node in topology.executors]
        timeout = args.timeout_send / 1000 if args.timeout_send and args.timeout_send > 0 else None
        router = Router(executors, topology=topology, timeout_send=timeout)
        servicer = GatewayServicer(
            router, executors, args.prefetch, admission=Admission(args.max_queued_requests), debug=args.debug
        )

        async def publish(serving: bool) -> None:
            await service.set_serving(serving)

        # NOT_SERVING until every executor group (every shard) has a replica answering, whatever the start order
        readiness = ReadinessMonitor({group: probe for e in executors for group, probe in e.probes().items()}, publish)
        for executor in executors:
            executor.on_reachability = readiness.report
        watching: list[asyncio.Task] = []

        async def started() -> None:
            watching.append(asyncio.ensure_future(readiness.run()))
            # Learn the executors' endpoints before reporting ready, so the first request does
            # not pay for connecting and discovery; bounded, as an executor may come up later.
            # external executors may come up later: the readiness loop follows them instead
            local = [e for e, node in zip(executors, topology.executors, strict=True) if not node.external]
            pending = [asyncio.ensure_future(e.warm_up(args.warmup_timeout)) for e in local]
            if pending:
                await asyncio.wait(pending, timeout=args.warmup_timeout)
            # the ready message then goes with an up-to-date status
            if not await readiness.check_once():
                waiting = ", ".join(map(repr, readiness.state.waiting_for()))
                logger.info("executors %s do not answer yet: NOT_SERVING until they do", waiting)

        async def stopping() -> None:
            for task in watching:
                task.cancel()
            servicer.drain()

        async def closed() -> None:
            for executor in executors:
                await executor.close()

        service = GrpcService(
            name=name,
            host=args.host,
            port=args.port,
            registrars=registrars(servicer),
            service_names=SERVICE_NAMES,
            logger=logger,
            parent=parent,
            grace=args.grace,
            on_started=started,
            on_stopping=stopping,
            on_closed=closed,
            tls=tls_files(args),
            client_ca=client_ca(args),
            # every port, the internal one included: the bridge and the Flow's client send it too
            interceptors=[TokenInterceptor(token)] if token else [],
            internal_port=args.internal_port,
            internal_host=args.internal_host,
            caller_controlled=READINESS_GATED,
        )
        return service

    return run_service(build, parent)
