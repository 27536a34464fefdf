"""`jina ping HOST:PORT`: ask a gateway's or executor's gRPC health service whether it serves."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jina.clients.hosts import resolve_address
from jina.excepts import BadConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jina ping",
        description="Check a gateway or executor with grpc.health.v1.Health/Check. Exit code 0: SERVING; 1: not.",
    )
    parser.add_argument("target", metavar="HOST:PORT", help="address, e.g. localhost:12345 or grpcs://host:443")
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait (default: %(default)s)")
    parser.add_argument(
        "--service", default="", help="one service to ask about, e.g. jina.JinaRPC (default: the server)"
    )
    parser.add_argument("--tls", action="store_true", help="connect with TLS")
    return parser


def ping(target: str, *, timeout: float = 3.0, service: str = "", tls: bool = False) -> tuple[bool, str]:
    """(serving?, what was found)."""
    host, port = target, None
    if "://" not in target:
        host, _, port = target.rpartition(":")
        if not host:
            raise BadConfig(f"{target!r} is not HOST:PORT")
    address = resolve_address(host, port, "grpc", tls)
    if address.tls:
        channel = grpc.secure_channel(address.target, grpc.ssl_channel_credentials())
    else:
        channel = grpc.insecure_channel(address.target)
    with channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.RpcError as err:
            return False, f"{address.target}: {err.code().name}: {err.details()}"
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    return reply.status == health_pb2.HealthCheckResponse.SERVING, f"{address.target}: {status}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        ok, message = ping(args.target, timeout=args.timeout, service=args.service, tls=args.tls)
    except BadConfig as exc:
        print(f"jina ping: {exc}", file=sys.stderr)
        return 2
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1
