"""`jina export docker-compose|kubernetes FLOW.yml OUT`: a YAML Flow as files for a container engine."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from jina.deploy.context import DEFAULT_IMAGE
from jina.excepts import BadConfig


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("flow", metavar="FLOW.yml", help="the Flow's YAML file")
    parser.add_argument(
        "--image", default=DEFAULT_IMAGE, help="the image every service runs (default: %(default)s, deploy/Dockerfile)"
    )
    parser.add_argument(
        "--context",
        default=None,
        metavar="DIR",
        help="the directory holding every file the executors need; it appears at /flow in the containers "
        "(default: the Flow file's directory)",
    )
    parser.add_argument(
        "--code",
        choices=("mount", "image"),
        default="mount",
        help="how executors' code gets into the containers: the context mounted (Compose) or shipped in a "
        "ConfigMap (Kubernetes), or already in --image at /flow (default: %(default)s)",
    )
    parser.add_argument("--no-gateway", action="store_true", help="export the executors only")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jina export",
        description="Write a Flow for a container engine. Nothing is written if the Flow cannot be exported.",
    )
    targets = parser.add_subparsers(dest="target", required=True, metavar="{docker-compose,kubernetes}")
    compose = targets.add_parser(
        "docker-compose",
        help="a Compose file (also for `docker stack deploy`) and its override",
        description="Write OUT (a Compose Specification file that `docker compose up` runs and `docker stack "
        "deploy` deploys unchanged) and, next to it, the override Compose reads with it: public ports on 127.0.0.1, "
        "start order by health.",
    )
    _common(compose)
    compose.add_argument("output", metavar="OUT.yml", help="the Compose file to write")
    compose.add_argument("--network-name", "--network_name", default=None, help="name of the services' network")
    compose.add_argument(
        "--build-context",
        default=None,
        metavar="DIR",
        help="add a build: section (DIR relative to OUT's directory) so `docker compose up` builds the image",
    )
    compose.add_argument("--dockerfile", default=None, help="the Dockerfile, relative to --build-context")
    kubernetes = targets.add_parser(
        "kubernetes",
        help="Kubernetes objects, one file per service",
        description="Write a Deployment and a Service per executor, gateway and bridge, the Flow's settings and "
        "code in ConfigMaps, TLS in a Secret, into OUT_DIR (`kubectl apply -f OUT_DIR`).",
    )
    _common(kubernetes)
    kubernetes.add_argument("output", metavar="OUT_DIR", help="the directory to write into")
    kubernetes.add_argument(
        "--k8s-namespace",
        "--namespace",
        dest="namespace",
        default=None,
        help="the namespace of every object, created too (default: the Flow's name, else the current one)",
    )
    kubernetes.add_argument(
        "--tls-secret",
        default=None,
        metavar="NAME",
        help="use this existing kubernetes.io/tls Secret instead of writing the Flow's certificate and key into one",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from jina.flow import Flow

    options = {"context": args.context, "image": args.image, "code": args.code}
    try:
        flow = Flow.load_config(args.flow)
        if args.target == "docker-compose":
            written = flow.to_docker_compose_yaml(
                args.output,
                network_name=args.network_name,
                include_gateway=not args.no_gateway,
                build_context=args.build_context,
                dockerfile=args.dockerfile,
                **options,
            )
        else:
            written = flow.to_kubernetes_yaml(
                args.output,
                k8s_namespace=args.namespace,
                include_gateway=not args.no_gateway,
                tls_secret=args.tls_secret,
                **options,
            )
    except (BadConfig, OSError) as exc:
        print(f"jina export: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0
