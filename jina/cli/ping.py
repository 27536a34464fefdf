"""`jina ping HOST:PORT | URL`: ask a gRPC health service, or an HTTP(S) URL, whether it serves."""

from __future__ import annotations

import argparse
import http.client
import ssl
import sys
from collections.abc import Sequence
from urllib.parse import urlsplit

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jina.clients.hosts import resolve_address
from jina.excepts import BadConfig

_HTTP_SCHEMES = ("http", "https")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jina ping",
        description="Check a gateway or executor with grpc.health.v1.Health/Check, or a bridge (any HTTP "
        "service) with GET on a URL. Exit code 0: SERVING (HTTP: a 2xx answer); 1: not.",
    )
    parser.add_argument(
        "target",
        metavar="HOST:PORT",
        help="address, e.g. localhost:12345 or grpcs://host:443; or a URL, e.g. http://localhost:8080/",
    )
    parser.add_argument("--timeout", type=float, default=3.0, help="seconds to wait (default: %(default)s)")
    parser.add_argument(
        "--service", default="", help="one service to ask about, e.g. jina.JinaRPC (default: the server)"
    )
    parser.add_argument("--tls", action="store_true", help="connect with TLS")
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="https: do not verify the server's certificate (a loopback check of a self-signed server)",
    )
    parser.add_argument(
        "--ca-certs", default=None, metavar="FILE", help="https: verify against these CAs (PEM) instead of the system's"
    )
    return parser


def is_http_url(target: str) -> bool:
    return target.split("://", 1)[0].lower() in _HTTP_SCHEMES and "://" in target


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


def ping_http(
    url: str, *, timeout: float = 3.0, insecure: bool = False, ca_certs: str | None = None
) -> tuple[bool, str]:
    """(answered 2xx?, what was found) for GET `url`; stdlib only, so a container's health check starts fast."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _HTTP_SCHEMES or not parts.hostname:
        raise BadConfig(f"{url!r} is not an http:// or https:// URL")
    try:
        port = parts.port
    except ValueError:
        raise BadConfig(f"{url!r}: the port is not a number") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if scheme == "https":
        context = ssl.create_default_context(cafile=ca_certs)
        if insecure:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            parts.hostname, port, timeout=timeout, context=context
        )
    else:
        connection = http.client.HTTPConnection(parts.hostname, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Accept": "application/json", "User-Agent": "jina-ping"})
        response = connection.getresponse()
        body = response.read(500)
    except ssl.SSLError as exc:
        return False, f"{url}: TLS: {getattr(exc, 'verify_message', None) or exc.reason or exc}"
    except TimeoutError:
        return False, f"{url}: no answer within {timeout:g}s"
    except (OSError, http.client.HTTPException) as exc:
        return False, f"{url}: {type(exc).__name__}: {exc}"
    finally:
        connection.close()
    found = f"{url}: {response.status} {response.reason}"
    ok = 200 <= response.status < 300
    if not ok and body:
        found += f": {body.decode('utf-8', 'replace').strip()}"
    return ok, found


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if is_http_url(args.target):
            ok, message = ping_http(args.target, timeout=args.timeout, insecure=args.insecure, ca_certs=args.ca_certs)
        else:
            ok, message = ping(args.target, timeout=args.timeout, service=args.service, tls=args.tls)
    except BadConfig as exc:
        print(f"jina ping: {exc}", file=sys.stderr)
        return 2
    print(message, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1
