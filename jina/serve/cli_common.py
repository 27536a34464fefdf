"""Command-line options every gRPC service process shares (address, parent pipes, logging)."""

from __future__ import annotations

import argparse
import asyncio
import traceback
from collections.abc import Callable

from jina.serve.process import ParentPipes, add_parent_arguments
from jina.serve.service import GrpcService
from jina.serve.tls import read_client_ca, read_tls_files


def add_common_arguments(
    parser: argparse.ArgumentParser, *, default_port: int | None, port_help: str | None = None, tls: bool = False
) -> None:
    """`default_port=None` leaves `--port` None when it is not given, for the caller to decide
    (then say the default in `port_help`). `tls=True` adds --ssl-certfile/--ssl-keyfile (the
    service must then pass `tls_files(args)` and `client_ca(args)` to its GrpcService)."""
    parser.add_argument("--host", default="0.0.0.0", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=default_port,
        help=port_help or "port to listen on (default: %(default)s)",
    )
    parser.add_argument("--name", help="name of this process in logs and routes")
    parser.add_argument(
        "--grace",
        type=float,
        default=5.0,
        help="seconds in-flight requests get to finish on SIGTERM (default: %(default)s)",
    )
    parser.add_argument(
        "--compression",
        default="none",
        help="gRPC compression of what this process sends on internal hops: none, gzip or deflate (default: none)",
    )
    parser.add_argument(
        "--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR (default: JINA_LOG_LEVEL or INFO)"
    )
    if tls:
        parser.add_argument("--ssl-certfile", default=None, help="serve gRPC over TLS with this certificate (PEM)")
        parser.add_argument("--ssl-keyfile", default=None, help="the private key (PEM) of --ssl-certfile")
        parser.add_argument(
            "--ssl-ca-certs",
            default=None,
            help="require a client certificate signed by this authority (PEM) on --port: mutual TLS",
        )
    add_parent_arguments(parser)


def tls_files(args: argparse.Namespace) -> tuple[bytes, bytes] | None:
    """GrpcService's `tls` from --ssl-certfile/--ssl-keyfile (None: plaintext); a bad pair is a BadConfig."""
    return read_tls_files(args.ssl_certfile, args.ssl_keyfile)


def client_ca(args: argparse.Namespace) -> bytes | None:
    """GrpcService's `client_ca` from --ssl-ca-certs (None: no client certificate asked for)."""
    return read_client_ca(getattr(args, "ssl_ca_certs", None), args.ssl_certfile)


def run_service(build: Callable[[], GrpcService], parent: ParentPipes) -> int:
    """Build and serve; a failure before readiness is reported to the parent with its traceback."""

    async def main() -> None:
        try:
            service = build()
        except BaseException:
            parent.report_failure(traceback.format_exc())
            raise
        await service.serve()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        return 130
    except Exception:
        traceback.print_exc()
        return 1
    return 0
