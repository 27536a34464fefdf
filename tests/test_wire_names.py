"""gRPC method paths and service names are written once, in jina/wire/; everything else imports them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

SOURCES = ("jina", "services", "bridge")
#: where the names may be spelled out: their home, and the stubs protoc generates
EXEMPT = ("jina/wire/",)

METHOD_PATH = re.compile(r"/(jina|grpc\.[a-z0-9_.]+)\.[A-Za-z]+/[A-Za-z_]+")
SERVICE_NAME = re.compile(r"jina\.Jina[A-Za-z]+|grpc\.(health|reflection)\.v[0-9a-z]+\.[A-Za-z]+")


def wire_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string constant that is a gRPC method path or service name."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            if METHOD_PATH.fullmatch(node.value) or SERVICE_NAME.fullmatch(node.value):
                found.append((node.lineno, node.value))
    return found


def source_files() -> list[Path]:
    files = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            if not relative.startswith(EXEMPT) and "_pb2" not in path.name:
                files.append(path)
    return files


def test_the_checker_finds_paths_and_names_but_not_prose():
    code = (
        'A = "/jina.JinaRPC/Call"\n'
        "B = '/grpc.health.v1.Health/Check'\n"
        'C = ("jina.JinaInfoRPC", "grpc.reflection.v1alpha.ServerReflection")\n'
        'D = f"x{1}/jina.JinaGatewayDryRunRPC/dry_run"\n'
        '"""Calls `/jina.JinaRPC/Call`, see jina.JinaInfoRPC."""\n'
        'E = ("grpc.health.", "grpc.reflection.")\n'
    )
    assert wire_literals(code) == [
        (1, "/jina.JinaRPC/Call"),
        (2, "/grpc.health.v1.Health/Check"),
        (3, "jina.JinaInfoRPC"),
        (3, "grpc.reflection.v1alpha.ServerReflection"),
        (4, "/jina.JinaGatewayDryRunRPC/dry_run"),
    ]


def test_no_method_path_or_service_name_is_written_outside_jina_wire():
    files = source_files()
    assert any(p.name == "connections.py" for p in files) and not any("wire" in p.parts for p in files)
    found = [f"{p.relative_to(ROOT)}:{line}: {text!r}" for p in files for line, text in wire_literals(p.read_text())]
    assert not found, "import these from jina.wire instead:\n" + "\n".join(found)
