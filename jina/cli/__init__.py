"""The `jina` command: one sub-command per process kind, loaded only when chosen."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from jina.version import __version__

# sub-command → ("module:function" taking argv, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "flow": ("jina.cli.flow:main", "serve a Flow defined in YAML until Ctrl-C or SIGTERM"),
    "executor": ("jina_mesh.services.executor.main:main", "serve one Executor over gRPC"),
    "gateway": ("jina_mesh.services.gateway.main:main", "serve a Flow's gRPC gateway in front of its executors"),
    "bridge": ("jina_mesh.bridge.main:main", "serve HTTP and WebSocket in front of a gateway (transcoded to its gRPC)"),
    "export": ("jina.cli.export:main", "write a YAML Flow as a Docker Compose file or Kubernetes objects"),
    "ping": ("jina.cli.ping:main", "check that a gateway or executor is up (exit code 0 or 1)"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        f"usage: jina [--version] [--help] COMMAND [ARGS...]  (jina {__version__})",
        "",
        "Jina-compatible service mesh: Executors chained in a Flow, served over gRPC.",
        "",
        "commands:",
    ]
    lines += [f"  {name.ljust(width)}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "`jina COMMAND --help` shows the options of a command."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if args else 2
    if args[0] in ("-v", "--version", "version"):
        print(__version__)
        return 0
    command = COMMANDS.get(args[0])
    if command is None:
        print(f"jina: unknown command {args[0]!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, _, function = command[0].partition(":")
    run = getattr(importlib.import_module(module_name), function)
    return int(run(args[1:]) or 0)
