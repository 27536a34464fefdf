"""`jina executor`: serve one Executor over gRPC."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from typing import Any

from jina_mesh.services.executor.loader import load_executor
from jina_mesh.services.executor.processor import RequestProcessor
from jina_mesh.services.executor.servicer import SERVICE_NAMES, ExecutorServicer, registrars

from jina import logs
from jina.executor import build_executor, deep_update
from jina.serve.cli_common import add_common_arguments, client_ca, run_service, tls_files
from jina.serve.compression import parse_compression
from jina.serve.process import ParentPipes
from jina.serve.service import GrpcService

DEFAULT_NAME = "executor"


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
    parser.add_argument(
        "--uses-with",
        default="{}",
        help="JSON object of keyword arguments for the Executor's __init__ (default: {})",
    )
    parser.add_argument("--uses-metas", default="{}", help="JSON object of metas (e.g. name) over the YAML's")
    parser.add_argument(
        "--uses-requests", default="{}", help="JSON object {endpoint: method name} over the @requests bindings"
    )
    parser.add_argument(
        "--uses-dynamic-batching",
        default="{}",
        help='JSON object {endpoint or method: {"preferred_batch_size": N, "timeout": ms}} over @dynamic_batching',
    )
    parser.add_argument(
        "--replicas",
        type=int,
        default=None,
        help="replicas of this executor (given: runtime_args.name gets Jina's /rep-N suffix)",
    )
    parser.add_argument("--replica-id", type=int, default=0, help="which replica this process is (runtime_args)")
    parser.add_argument("--shards", type=int, default=1, help="shards of this executor (runtime_args)")
    parser.add_argument("--shard-id", type=int, default=0, help="which shard this process is (runtime_args)")
    parser.add_argument(
        "--workspace", default=None, help="the workspace; Executor.workspace is <workspace>/<metas.name>/<shard-id>"
    )
    joins = parser.add_mutually_exclusive_group()
    joins.add_argument(
        "--no-reduce",
        action="store_true",
        help="a join's parts are not merged: docs are all parts' documents, docs_matrix/docs_map the parts",
    )
    joins.add_argument(
        "--join-parts",
        action="store_true",
        help="a join's first part is the gateway's merge (docs); the others are the branches (docs_matrix/docs_map)",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        help="send Python stack traces of Executor errors to clients (never on by default)",
    )
    add_common_arguments(parser, default_port=8080, tls=True)
    return parser


def _json_object(flag: str, text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{flag} must be a JSON object, got {text!r}: {exc}") from None
    if not isinstance(value, dict):
        raise ValueError(f"{flag} must be a JSON object, got {text!r}")
    return value


def runtime_name(name: str, replicas: int | None, replica_id: int, shards: int, shard_id: int) -> str:
    """`runtime_args.name` as Jina spells it: `name/shard-S/rep-R` with shards, `name/rep-R` with replicas."""
    if shards > 1:
        return f"{name}/shard-{shard_id}/rep-{replica_id}"
    if replicas is not None:
        return f"{name}/rep-{replica_id}"
    return name


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    name = args.name or DEFAULT_NAME
    logger = logs.configure(name, args.log_level)
    parent = ParentPipes.from_args(args)

    def build() -> GrpcService:
        options = {
            flag: _json_object(flag, getattr(args, flag[2:].replace("-", "_")))
            for flag in ("--uses-with", "--uses-metas", "--uses-requests", "--uses-dynamic-batching")
        }
        spec = load_executor(args.uses, args.py_modules)
        # metas.name: --uses-metas, else the YAML's, else the Flow's name for it, else the class name
        metas = {**spec.metas, **options["--uses-metas"]}
        metas["name"] = metas.get("name") or args.name or spec.cls.__name__
        executor = build_executor(
            spec.cls,
            {**spec.uses_with, **options["--uses-with"]},
            metas=metas,
            runtime_args={
                "name": runtime_name(name, args.replicas, args.replica_id, args.shards, args.shard_id),
                "port": args.port,
                "host": args.host,
                "replicas": args.replicas or 1,
                "replica_id": args.replica_id,
                "shards": args.shards,
                "shard_id": args.shard_id,
                "workspace": args.workspace,
            },
            requests={**spec.requests, **options["--uses-requests"]},
            dynamic_batching=deep_update(dict(spec.dynamic_batching), options["--uses-dynamic-batching"]),
        )
        join = "join_parts" if args.join_parts else "no_reduce" if args.no_reduce else "reduce"
        processor = RequestProcessor(executor, name, logger, with_stacks=args.debug, join=join)
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
            tls=tls_files(args),
            client_ca=client_ca(args),
        )

    return run_service(build, parent)
