"""Command-line options every service process shares (address, parent pipes, logging)."""

from __future__ import annotations

import argparse
import asyncio
import os
import traceback
from collections.abc import Callable

from jina.serve.service import GrpcService, notify_parent


def add_common_arguments(parser: argparse.ArgumentParser, *, default_port: int | None) -> None:
    parser.add_argument("--host", default="0.0.0.0", help="address to bind (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=int,
        default=default_port,
        required=default_port is None,
        help="port to listen on" + (" (default: %(default)s)" if default_port is not None else ""),
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
    # Used by Flow, which starts services as child processes: not for humans.
    parser.add_argument("--ready-fd", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--lifeline-fd", type=int, default=None, help=argparse.SUPPRESS)


def run_service(build: Callable[[], GrpcService], ready_fd: int | None) -> int:
    """Build and serve; a failure before readiness is reported to the parent with its traceback."""

    async def main() -> None:
        try:
            service = build()
        except BaseException:
            notify_parent(ready_fd, {"status": "failed", "error": traceback.format_exc()})
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


def inherited_fd(fd: int | None) -> int | None:
    """Validate a pipe fd handed over by the parent (None when run by hand)."""
    if fd is None:
        return None
    os.fstat(fd)  # raises if the parent did not pass it
    return fd
