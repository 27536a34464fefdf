"""The `jina` command: one sub-command per process kind, loaded only when chosen."""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import sys
from collections.abc import Sequence

from jina.version import __version__

# sub-command → ("module:function" taking argv, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "flow": ("jina.cli.flow:main", "serve a Flow defined in YAML until Ctrl-C or SIGTERM"),
    "deployment": ("jina.cli.flow:deployment_main", "serve a Deployment (one Executor) defined in YAML"),
    "executor": ("jina_mesh.services.executor.main:main", "serve one Executor over gRPC"),
    "gateway": ("jina_mesh.services.gateway.main:main", "serve a Flow's gRPC gateway in front of its executors"),
    "bridge": ("jina_mesh.bridge.main:main", "serve HTTP and WebSocket in front of a gateway (transcoded to its gRPC)"),
    "export": ("jina.cli.export:main", "write a YAML Flow as a Docker Compose file or Kubernetes objects"),
    "ping": ("jina.cli.ping:main", "check that a gateway or executor is up (exit code 0 or 1)"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        f"usage: jina [--version] [--version-full] [--help] COMMAND [ARGS...]  (jina {__version__})",
        "",
        "Jina-compatible service mesh: Executors chained in a Flow, served over gRPC.",
        "",
        "commands:",
    ]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`jina COMMAND --help` shows the options of a command."]
    return "\n".join(lines)


#: the distributions `jina --version-full` lists (Jina's list, less what this project does not use)
_PACKAGES = ("docarray", "protobuf", "grpcio", "pyyaml")


def version_full() -> str:
    """What `jina -vf` prints: Jina's `- name version` lines for this SDK, its key packages and the platform."""
    rows = [("jina", __version__)]
    for name in _PACKAGES:
        try:
            rows.append((name, importlib.metadata.version(name)))
        except importlib.metadata.PackageNotFoundError:
            rows.append((name, "(not installed)"))
    rows += [
        ("python", platform.python_version()),
        ("platform", platform.system()),
        ("platform-release", platform.release()),
        ("architecture", platform.machine()),
    ]
    return "\n".join(f"- {name} {value}" for name, value in rows)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else 2
    if args[0] in ("-v", "--version", "version"):
        print(__version__)
        return 0
    if args[0] in ("-vf", "--version-full"):
        print(version_full())
        return 0
    command = COMMANDS.get(args[0])
    if command is None:
        print(f"jina: unknown command {args[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, _, function = command[0].partition(":")
    run = getattr(importlib.import_module(module_name), function)
    return int(run(args[1:]) or 0)
