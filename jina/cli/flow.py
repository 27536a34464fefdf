"""`jina flow --uses flow.yml`: serve a YAML Flow until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from jina.excepts import BadConfig, RuntimeFailToStart


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jina flow",
        description="Serve a Flow defined in YAML (jtype: Flow, with: options, executors: list) until Ctrl-C or "
        "SIGTERM. Options: protocol (grpc, http, websocket or a list), port, host, prefetch, timeout_send, cors, "
        "expose_endpoints, no_debug_endpoints, no_crud_endpoints, uvicorn_kwargs, title, description. "
        "Executors: name, uses, uses_with, needs, replicas, shards, polling, py_modules, env, workspace, "
        "host/port/external (an executor that runs elsewhere)... A `gateway:` section (as Jina's save_config "
        "writes it) sets the gateway's options. ${{ ENV.NAME }}, ${NAME} and $NAME are substituted in values.",
    )
    parser.add_argument("--uses", required=True, metavar="FLOW.yml", help="the Flow's YAML file")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from jina.flow import Flow

    try:
        flow = Flow.load_config(args.uses)
        with flow:
            width = max(len(p) for p in flow.ports)
            for protocol, port in flow.ports.items():
                print(f"{protocol.ljust(width)}  {flow.host}:{port}", flush=True)
            if flow.bridge_port is not None:
                print(f"{'docs'.ljust(width)}  http://{flow.host}:{flow.bridge_port}/docs", flush=True)
            flow.block()
    except (BadConfig, RuntimeFailToStart) as exc:
        print(f"jina flow: {exc}", file=sys.stderr)
        return 1
    return 0
