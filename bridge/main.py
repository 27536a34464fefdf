"""`jina bridge`: serve HTTP and WebSocket for a gateway, transcoding into its gRPC services."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import ssl
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from jina_mesh.bridge.app import create_app
from jina_mesh.bridge.config import BridgeConfig, ConfigError
from jina_mesh.bridge.graphql import require_library
from jina_mesh.bridge.http_limits import HeadLimits, protocol_class

from jina import logs
from jina.excepts import BadConfig
from jina.serve.access import token_from_env
from jina.serve.net import require_free_port
from jina.serve.process import ParentPipes, add_parent_arguments
from jina.serve.tls import check_tls_pair, read_client_ca


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jina bridge",
        description="Serve HTTP and WebSocket in front of a gateway: routes come from the gateway's "
        "google.api.http annotations (read by server reflection) plus Jina's CRUD and custom endpoints.",
    )
    parser.add_argument("--gateway", required=True, metavar="HOST:PORT", help="the gateway's gRPC address")
    parser.add_argument("--host", default="0.0.0.0", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (default: %(default)s)")
    parser.add_argument(
        "--cors", action="store_true", help="let browsers on any other origin call the API (no credentials)"
    )
    parser.add_argument(
        "--cors-origin",
        action="append",
        default=None,
        metavar="ORIGIN",
        help="let this origin (https://host[:port]) call the API with credentials; repeat for more",
    )
    parser.add_argument("--max-json-depth", type=int, default=None, help="deepest JSON nesting accepted (64)")
    parser.add_argument("--no-debug-endpoints", action="store_true", help="hide /status, /dry_run, /post ...")
    parser.add_argument("--no-crud-endpoints", action="store_true", help="hide /index, /search, /update, /delete")
    parser.add_argument(
        "--expose-endpoints",
        default=None,
        metavar="JSON",
        help='executor endpoints to expose: {"/foo": {"methods": ["PUT"], "summary": "..."}}',
    )
    parser.add_argument("--uvicorn-kwargs", default=None, metavar="JSON", help="passed to uvicorn unchanged")
    parser.add_argument("--title", default=None, help="the OpenAPI title")
    parser.add_argument("--description", default=None, help="the OpenAPI description")
    parser.add_argument("--max-body-bytes", type=int, default=None, help="largest request body accepted")
    parser.add_argument("--debug", action="store_true", help="include Python stack traces in error bodies")
    parser.add_argument("--compression", default=None, help="gRPC compression towards the gateway: none, gzip, deflate")
    parser.add_argument("--ssl-certfile", default=None, help="serve HTTPS/WSS with this certificate (PEM)")
    parser.add_argument("--ssl-keyfile", default=None, help="the private key (PEM) of --ssl-certfile")
    parser.add_argument(
        "--ssl-ca-certs", default=None, help="require a client certificate signed by this authority (PEM): mutual TLS"
    )
    parser.add_argument(
        "--config",
        default=None,
        metavar="JSON|@FILE",
        help="the whole configuration as JSON text, or @FILE to read it from a JSON file (overrides)",
    )
    parser.add_argument("--log-level", default=None, help="DEBUG, INFO, WARNING or ERROR")
    add_parent_arguments(parser)
    return parser


def read_config(text: str) -> dict:
    """`--config`: JSON text, or `@path` to a file holding it (as the gateway's `--topology`)."""
    origin = "--config"
    if text.startswith("@"):
        origin = f"--config {text}"
        try:
            text = Path(text[1:]).read_text()
        except OSError as exc:
            raise ConfigError(f"{origin}: cannot be read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(f"{origin}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{origin}: the configuration is a JSON object, got {type(data).__name__}")
    return data


def config_from_args(args: argparse.Namespace) -> BridgeConfig:
    if args.config:
        data = read_config(args.config)
        data.setdefault("gateway", args.gateway)
        data.setdefault("host", args.host)
        data.setdefault("port", args.port)
        return BridgeConfig.build(data.pop("gateway"), **data)
    options = {
        "host": args.host,
        "port": args.port,
        "cors": list(args.cors_origin) if args.cors_origin else args.cors,
        "no_debug_endpoints": args.no_debug_endpoints,
        "no_crud_endpoints": args.no_crud_endpoints,
        "debug": args.debug,
    }
    if args.expose_endpoints:
        options["expose_endpoints"] = json.loads(args.expose_endpoints)
    if args.uvicorn_kwargs:
        options["uvicorn_kwargs"] = json.loads(args.uvicorn_kwargs)
    for name in (
        "title",
        "description",
        "max_body_bytes",
        "max_json_depth",
        "compression",
        "ssl_certfile",
        "ssl_keyfile",
        "ssl_ca_certs",
    ):
        if getattr(args, name) is not None:
            options[name] = getattr(args, name)
    return BridgeConfig.build(args.gateway, **options)


def _tls_options(config: BridgeConfig) -> dict:
    """uvicorn's TLS settings: HTTPS/WSS, and with `ssl_ca_certs` a client certificate required."""
    if not config.ssl_certfile:
        return {}
    options = {"ssl_certfile": config.ssl_certfile, "ssl_keyfile": config.ssl_keyfile}
    if config.ssl_ca_certs:
        options |= {"ssl_ca_certs": config.ssl_ca_certs, "ssl_cert_reqs": ssl.CERT_REQUIRED}
    return options


class BridgeServer(uvicorn.Server):
    """uvicorn, telling the Flow when it listens and stopping when the Flow's process is gone."""

    def __init__(self, config: uvicorn.Config, parent: ParentPipes):
        super().__init__(config)
        self._parent = parent

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if not self.started:
            self._parent.report_failure("the bridge could not start (see its log)")
            return
        # uvicorn stops on SIGTERM and SIGINT by itself; the lifeline is what it lacks
        self._parent.watch_lifeline(asyncio.get_running_loop(), self._parent_gone)
        self._parent.report_ready(self.config.port)

    def _parent_gone(self) -> None:
        self.should_exit = True


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logger = logs.configure("bridge", args.log_level)
    parent = ParentPipes.from_args(args)
    try:
        # read, and dropped from the environment, before anything could report it
        config = dataclasses.replace(config_from_args(args), access_token=token_from_env())
        check_tls_pair(config.ssl_certfile, config.ssl_keyfile)
        read_client_ca(config.ssl_ca_certs, config.ssl_certfile)
        if config.expose_graphql_endpoint:
            require_library(load=True)
        require_free_port(config.host, config.port)
        app, _ = create_app(config)
        options = {
            "host": config.host,
            "port": config.port,
            "loop": "asyncio",  # grpc.aio's poller is written for asyncio's loop
            "log_level": logs.level_from_env("WARNING").lower() if args.log_level is None else args.log_level.lower(),
            "ws_max_size": config.max_body_bytes,
            # httptools with head limits and slow-client timeouts; h11 (if asked for) bounds the head
            "http": protocol_class(
                HeadLimits(
                    max_header_count=config.max_header_count,
                    max_head_bytes=config.max_head_bytes,
                    timeout_request_head=config.timeout_request_head,
                    timeout_request_body=config.timeout_request_body,
                )
            ),
            "h11_max_incomplete_event_size": config.max_head_bytes,
            "timeout_keep_alive": config.timeout_keep_alive,
            "lifespan": "on",
            # on SIGTERM: answer what is in flight, but give up on open connections after a while
            "timeout_graceful_shutdown": 5,
            **_tls_options(config),
            **config.uvicorn_kwargs,
        }
        server = BridgeServer(uvicorn.Config(app, **options), parent)
    except (ConfigError, BadConfig, OSError, ValueError, TypeError) as exc:
        parent.report_failure(exc)
        print(f"jina bridge: {exc}", file=sys.stderr)
        return 1
    except Exception:
        parent.report_failure(traceback.format_exc())
        raise
    logger.info("bridge for gateway %s on %s:%d", config.gateway, config.host, config.port)
    server.run()
    return 0 if server.started else 1
