"""`jina ping`: is a gateway, an executor or a whole Flow up? Exit code 0 (yes) or 1 (no).

Two spellings:

* Jina's, `jina ping executor|gateway|flow HOST:PORT [--timeout MS] [--attempts N]
  [--min-successful-attempts M]`: `executor` and `gateway` ask the server's gRPC health service
  (or, for an http(s)/ws(s) address, GET its root); `flow` sends Jina's dry run through the whole
  Flow. `--timeout` is in milliseconds, as in Jina (-1: wait forever).
* this project's, `jina ping HOST:PORT | URL [--timeout SECONDS]`: the health service, or GET on an
  http(s) URL (what containers' health checks run). `--timeout` is in seconds there, as before.

Each attempt prints one line (stdout when it succeeded, stderr when not); attempts are a second
apart, and the check succeeds when at least `--min-successful-attempts` of them did.
"""

from __future__ import annotations

import argparse
import http.client
import ssl
import sys
import time
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from jina.clients.hosts import resolve_address
from jina.excepts import BadConfig

_HTTP_SCHEMES = ("http", "https")
#: Jina's targets: what `jina ping KIND HOST:PORT` checks
KINDS = ("executor", "gateway", "flow")
#: the pause between two attempts, in seconds (Jina's)
PAUSE = 1.0

Check = Callable[[], tuple[bool, str]]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jina ping",
        usage="jina ping [executor|gateway|flow] HOST:PORT [options]",
        description="Check a gateway or executor with grpc.health.v1.Health/Check, a bridge (any HTTP service) "
        "with GET on a URL, or (flow) the whole Flow with a dry run. Exit code 0: SERVING (HTTP: a 2xx "
        "answer; flow: ready) in at least --min-successful-attempts attempts; 1: not.",
    )
    parser.add_argument(
        "words",
        nargs="+",
        metavar="HOST:PORT",
        help="address, e.g. localhost:12345 or grpcs://host:443; or a URL, e.g. http://localhost:8080/; "
        "after Jina's executor, gateway or flow",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="how long one check waits: milliseconds after executor/gateway/flow (Jina's unit, default 3000, "
        "-1 waits forever), seconds otherwise (default 3)",
    )
    parser.add_argument("--attempts", type=int, default=1, help="how many checks to make (default: %(default)s)")
    parser.add_argument(
        "--min-successful-attempts",
        type=int,
        default=1,
        help="how many checks must succeed for exit code 0 (default: %(default)s)",
    )
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


def ping(target: str, *, timeout: float | None = 3.0, service: str = "", tls: bool = False) -> tuple[bool, str]:
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
    url: str, *, timeout: float | None = 3.0, insecure: bool = False, ca_certs: str | None = None
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


def ping_flow(
    target: str, *, timeout: float | None = 3.0, tls: bool = False, ca_certs: str | None = None
) -> tuple[bool, str]:
    """(ready?, what was found): Jina's dry run through the whole Flow, over the target's protocol."""
    from jina.clients import Client  # the SDK (docarray...) only for this check

    with Client(host=target, tls=tls, ca_certs=ca_certs) as client:
        ready, why = client.readiness(timeout)
        return ready, f"{client.url}: {why}"


def _server_url(target: str) -> str | None:
    """The URL to GET for Jina's executor/gateway check of an HTTP or WebSocket address (None: gRPC)."""
    scheme, sep, rest = target.partition("://")
    web = {"http": "http", "https": "https", "ws": "http", "wss": "https", "websocket": "http"}
    if not sep or scheme.lower() not in web:
        return None
    return f"{web[scheme.lower()]}://{rest}"


def _check(kind: str | None, target: str, args: argparse.Namespace) -> Check:
    """What one attempt runs (it raises BadConfig for a target it cannot check)."""
    if kind is None:  # this project's spelling: seconds
        timeout = 3.0 if args.timeout is None else args.timeout
    else:  # Jina's: milliseconds, -1 for no limit
        ms = 3000 if args.timeout is None else args.timeout
        timeout = None if ms < 0 else ms / 1000
    if kind == "flow":
        return lambda: ping_flow(target, timeout=timeout, tls=args.tls, ca_certs=args.ca_certs)
    url = _server_url(target) if kind else target if is_http_url(target) else None
    if url is not None:
        return lambda: ping_http(url, timeout=timeout, insecure=args.insecure, ca_certs=args.ca_certs)
    return lambda: ping(target, timeout=timeout, service=args.service, tls=args.tls)


def _target(parser: argparse.ArgumentParser, words: list[str]) -> tuple[str | None, str]:
    if len(words) == 1:
        if words[0] in KINDS:
            parser.error(f"`jina ping {words[0]}` needs the HOST:PORT to check")
        return None, words[0]
    if len(words) == 2 and words[0] in KINDS:
        return words[0], words[1]
    parser.error(f"expected [executor|gateway|flow] HOST:PORT, got {' '.join(words)!r}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    kind, target = _target(parser, args.words)
    if args.attempts < 1 or args.min_successful_attempts < 0:
        parser.error("--attempts must be at least 1 and --min-successful-attempts at least 0")
    if args.min_successful_attempts > args.attempts:
        parser.error(
            f"--min-successful-attempts {args.min_successful_attempts} is more than --attempts {args.attempts}"
        )
    try:
        check = _check(kind, target, args)
        successes = 0
        for attempt in range(args.attempts):
            if attempt:
                time.sleep(PAUSE)
            ok, message = check()
            successes += ok
            if args.attempts > 1:
                message = f"[{attempt + 1}/{args.attempts}] {message}"
            print(message, file=sys.stdout if ok else sys.stderr, flush=True)
    except BadConfig as exc:
        print(f"jina ping: {exc}", file=sys.stderr)
        return 2
    if args.attempts > 1:
        enough = successes >= args.min_successful_attempts
        print(f"{successes} of {args.attempts} attempts succeeded", file=sys.stdout if enough else sys.stderr)
    return 0 if successes >= args.min_successful_attempts else 1
