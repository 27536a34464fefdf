"""`jina flow --uses flow.yml` / `jina deployment --uses dep.yml`: serve a YAML Flow or Deployment
until Ctrl-C or SIGTERM, printing the address of each protocol first."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

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

    return _serve("jina flow", Flow.load_config, args.uses)


def deployment_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="jina deployment",
        description="Serve a Deployment (one Executor with its replicas and shards) defined in YAML "
        "(jtype: Deployment, with: its options, as Jina's save_config writes it) until Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--uses", required=True, metavar="DEPLOYMENT.yml", help="the Deployment's YAML file")
    args = parser.parse_args(argv)
    from jina.deployment import Deployment

    return _serve("jina deployment", Deployment.load_config, args.uses)


def _serve(prog: str, load: Callable[[str], Any], source: str) -> int:
    try:
        served = load(source)
        with served:
            width = max(len(p) for p in served.ports)
            for protocol, port in served.ports.items():
                print(f"{protocol.ljust(width)}  {served.host}:{port}", flush=True)
            if served.bridge_port is not None:
                print(f"{'docs'.ljust(width)}  http://{served.host}:{served.bridge_port}/docs", flush=True)
            served.block()
    except (BadConfig, RuntimeFailToStart) as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    return 0
