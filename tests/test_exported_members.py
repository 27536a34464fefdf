"""The public surface is a tested artefact: each public module's sorted `__all__` is exactly what it exports.

Public modules are the ones other code imports names from as an API: `jina` (what users write
`from jina import ...` for), the SDK modules users reach by path (`jina.clients`, `jina.excepts`,
`jina.flow`, `jina.executor`, `jina.documents`), and the wire the services and the bridge share
(`jina.wire`, `jina.docjson`, `jina.httpjson`). The rest of `jina` is implementation; the client
classes keep their import paths, checked at the end.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path
from types import ModuleType

import pytest

import jina

PUBLIC_MODULES = (
    "jina",
    "jina.clients",
    "jina.deployment",
    "jina.docjson",
    "jina.documents",
    "jina.excepts",
    "jina.executor",
    "jina.executor_yaml",
    "jina.flow",
    "jina.httpjson",
    "jina.registry",
    "jina.wire",
    "jina.yamlfile",
)


def _bound(statements: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in statements:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for target in targets for n in ast.walk(target) if isinstance(n, ast.Name))
        elif isinstance(node, (ast.If, ast.Try)):
            names |= _bound(node.body) | _bound(node.orelse)
    return names


def defined_names(module: ModuleType) -> set[str]:
    """The public names a module's own code defines at its top level (imports are not definitions)."""
    tree = ast.parse(Path(module.__file__ or "").read_text())
    return {name for name in _bound(tree.body) if not name.startswith("_")}


def test_jina_exports_the_names_users_import():
    assert jina.__all__ == [
        "Client",
        "Deployment",
        "Document",
        "DocumentArray",
        "Executor",
        "Flow",
        "__version__",
        "dynamic_batching",
        "requests",
    ]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_is_every_public_name(name):
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(set(exported)), f"{name}.__all__ is not sorted, or repeats a name"
    missing = defined_names(module) - set(exported)
    assert not missing, f"{name} defines public names its __all__ leaves out (make them _private or export them)"
    # what is exported but not defined here is re-exported on purpose, and must be there
    absent = [member for member in exported if not hasattr(module, member)]
    assert not absent, f"{name}.__all__ names what the module does not have"


def test_the_checker_sees_definitions_and_not_imports(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "from os import path\nimport sys\nA = 1\nB: int = 2\n_C = 3\ndef f(): pass\nclass K: pass\n"
        "if sys:\n    D = 4\nx, (y, _z) = 1, (2, 3)\n"
    )
    module = ModuleType("sample")
    module.__file__ = str(source)
    assert defined_names(module) == {"A", "B", "D", "K", "f", "x", "y"}


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("jina.clients.grpc", "GRPCClient"),
        ("jina.clients.grpc", "AsyncGRPCClient"),
        ("jina.clients.http", "HTTPClient"),
        ("jina.clients.http", "AsyncHTTPClient"),
        ("jina.clients.websocket", "WebSocketClient"),
        ("jina.clients.websocket", "AsyncWebSocketClient"),
        ("jina.clients.posting", "PostingClient"),
        ("jina.clients.posting", "AsyncPostingClient"),
    ],
)
def test_the_client_classes_keep_their_import_paths(path, name):
    cls = getattr(importlib.import_module(path), name)
    # one class per name, wherever it is imported from
    assert getattr(importlib.import_module(cls.__module__), name) is cls
