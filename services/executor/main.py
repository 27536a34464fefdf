"""`jina executor`: serve one Executor over gRPC."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

from jina_mesh.services.executor.loader import load_executor
from jina_mesh.services.executor.processor import RequestProcessor
from jina_mesh.services.executor.servicer import SERVICE_NAMES, ExecutorServicer, registrars

from jina import logs
from jina.executor import build_executor
from jina.serve.cli_common import add_common_arguments, run_service
from jina.serve.compression import parse_compression
from jina.serve.process import ParentPipes
from jina.serve.service import GrpcService


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jina executor",
        description="Serve one Executor over gRPC (the services a Jina 3 executor serves, plus health and reflection).",
    )
    parser.add_argument(
        "--uses",
        default=None,
        help="the Executor: 'module.Class', 'module:Class', 'Class' (defined by --py-modules), or an Executor "
        "YAML file (default: a pass-through Executor)",
    )
    parser.add_argument(
        "--py-modules",
        nargs="*",
        default=[],
        metavar="FILE_OR_MODULE",
        help="Python files or modules to import first (they define the Executor class)",
    )
    parser.add_argument("--replicas", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--replica-id", type=int, default=0, help="which replica this process is (runtime_args)")
    parser.add_argument(
        "--uses-with",
        default="{}",
        help="JSON object of keyword arguments for the Executor's __init__ (default: {})",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="send Python stack traces of Executor errors to clients (never on by default)",
    )
    add_common_arguments(parser, default_port=8080)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name = args.name or "executor"
    logger = logs.configure(name, args.log_level)
    parent = ParentPipes.from_args(args)

    def build() -> GrpcService:
        uses_with = json.loads(args.uses_with)
        if not isinstance(uses_with, dict):
            raise ValueError(f"--uses-with must be a JSON object, got {args.uses_with!r}")
        spec = load_executor(args.uses, args.py_modules)
        executor = build_executor(
            spec.cls,
            {**spec.uses_with, **uses_with},
            metas={**spec.metas, "name": name},
            runtime_args={
                "name": name,
                "port": args.port,
                "host": args.host,
                "replicas": args.replicas,
                "replica_id": args.replica_id,
                "shard_id": 0,
            },
        )
        processor = RequestProcessor(executor, name, logger, with_stacks=args.debug)
        servicer = ExecutorServicer(processor)

        async def stopping() -> None:
            servicer.drain()

        async def closed() -> None:
            processor.close()

        return GrpcService(
            name=name,
            host=args.host,
            port=args.port,
            registrars=registrars(servicer),
            service_names=SERVICE_NAMES,
            logger=logger,
            parent=parent,
            grace=args.grace,
            on_stopping=stopping,
            on_closed=closed,
            compression=parse_compression(args.compression),
        )

    return run_service(build, parent)
