"""A Flow that uses every option an export must carry (a graph, replicas, TLS, bridge options), on disk."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import trustme

from tests.conftest import ROOT

FLOW = """
jtype: Flow
with:
  protocol: [grpc, http, websocket]
  port: [9101, 9102, 9102]
  compression: deflate
  cors: true
  no_debug_endpoints: true
  ssl_certfile: cert.pem
  ssl_keyfile: key.pem
  expose_endpoints:
    /search: {methods: [GET], summary: find}
executors:
  - {name: split_er, uses: Splitter, py_modules: [code/execs.py], uses_with: {size: 3}}
  - {name: left, uses: Splitter, py_modules: [code/execs.py], needs: split_er, replicas: 3, env: {MODEL: small}}
  - {name: right, uses: tests.executors.Appender, needs: split_er}
  - {name: join, needs: [left, right]}
"""


def export(tmp_path, text: str = FLOW, *args: str, cwd=None) -> subprocess.CompletedProcess:
    (tmp_path / "flow.yml").write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "jina", "export", "docker-compose", str(tmp_path / "flow.yml"),
         str(tmp_path / "out" / "docker-compose.yml"), *args],
        capture_output=True, text=True, timeout=60, cwd=cwd or tmp_path, env={"PYTHONPATH": str(ROOT), "PATH": ""},
    )  # fmt: skip


def write_flow_dir(tmp_path: Path) -> Path:
    """The executors' module under code/, and a certificate and key made for this run."""
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "execs.py").write_text("from jina import Executor\n\nclass Splitter(Executor):\n    pass\n")
    ca = trustme.CA()
    cert = ca.issue_cert("localhost", "127.0.0.1")
    cert.private_key_pem.write_to_path(tmp_path / "key.pem")
    cert.cert_chain_pems[0].write_to_path(tmp_path / "cert.pem")
    return tmp_path
